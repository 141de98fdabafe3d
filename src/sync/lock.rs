//! Lock and RLock (Python's `threading.Lock` and `threading.RLock`), whose
//! acquire and release may happen in separate calls and, for a Lock, on
//! different threads. Both are a futex mutex (src/futex.rs); an RLock adds
//! its owner and count.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use parking_lot::lock_api::RawMutex as _;

use super::{thread_token, Wait};
use crate::error::{Error, Result};
use crate::futex::FutexMutex;
use crate::os;
use crate::waits::{self, On};

/// A lock that no thread owns: any thread may release it.
///
/// The uncontended acquire and release are one compare-exchange and one
/// swap, as for a pthread mutex. A release claims the acquire it undoes by
/// swapping the word to unlocked, so of two racing releases only one
/// succeeds and a release of an unlocked lock is seen. Waiters spin
/// briefly, then sleep on the word; no fairness hand-off (like a default
/// pthread mutex).
pub struct Lock {
    raw: FutexMutex,
    /// The thread pointer (`os::thread_pointer`) of the last thread that
    /// acquired it, for dumps (a register read and a relaxed store per
    /// acquire; never cleared).
    holder: AtomicUsize,
}

impl Default for Lock {
    fn default() -> Lock {
        Lock::new()
    }
}

impl Lock {
    pub fn new() -> Lock {
        Lock {
            raw: FutexMutex::INIT,
            holder: AtomicUsize::new(0),
        }
    }

    /// True when acquired, false when `wait` ran out first; `HILO_EINTR`
    /// as `raw_acquire`.
    #[inline]
    pub fn acquire(&self, wait: Wait) -> Result<bool> {
        let taken = self.raw.try_lock()
            || match wait {
                Wait::No => false,
                Wait::Until(deadline) => {
                    let _waiting = waits::begin(On::Lock(self));
                    self.raw.lock_until(deadline)?
                }
            };
        if taken {
            self.holder.store(os::thread_pointer(), Ordering::Relaxed);
        }
        Ok(taken)
    }

    /// Takes it when it is free (the uncontended case, one
    /// compare-exchange); false when it is locked.
    #[inline]
    pub fn try_acquire_free(&self) -> bool {
        let taken = self.raw.try_lock();
        if taken {
            self.holder.store(os::thread_pointer(), Ordering::Relaxed);
        }
        taken
    }

    /// The thread pointer of its last acquirer (0: never acquired).
    pub fn holder(&self) -> usize {
        self.holder.load(Ordering::Relaxed)
    }

    /// Unlocks it; `HILO_ESTATE` "release unlocked lock" when it is not
    /// locked, also when another release came first.
    #[inline]
    pub fn release(&self) -> Result<()> {
        if self.raw.release() {
            Ok(())
        } else {
            Err(release_unlocked())
        }
    }

    pub fn locked(&self) -> bool {
        self.raw.is_locked()
    }
}

#[cold]
fn release_unlocked() -> Error {
    Error::state("release unlocked lock")
}

/// A re-entrant lock: its owner may acquire it again, and must release it
/// as many times.
pub struct RLock {
    raw: FutexMutex,
    /// The `thread_token` of the owner, 0 when unowned. Only the owner
    /// stores its own token, so a thread that reads its token owns it.
    owner: AtomicU64,
    /// How many times the owner holds it; touched by the owner only.
    count: AtomicU64,
}

/// What a Condition's wait keeps of an RLock it fully releases.
#[derive(Clone, Copy, Debug)]
pub struct Saved {
    count: u64,
}

impl Default for RLock {
    fn default() -> RLock {
        RLock::new()
    }
}

impl RLock {
    pub fn new() -> RLock {
        RLock {
            raw: FutexMutex::INIT,
            owner: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// True when acquired (or acquired again by its owner), false when
    /// `wait` ran out first.
    pub fn acquire(&self, wait: Wait) -> Result<bool> {
        let me = thread_token();
        if self.owner.load(Ordering::Relaxed) == me {
            let count = self.count.load(Ordering::Relaxed);
            let count = count
                .checked_add(1)
                .ok_or_else(|| Error::state("Internal lock count overflowed"))?;
            self.count.store(count, Ordering::Relaxed);
            return Ok(true);
        }
        if !self.raw.try_lock() {
            let Wait::Until(deadline) = wait else {
                return Ok(false);
            };
            // Refused at once when it would close a cycle of waits.
            let _waiting = waits::begin_rlock(self)?;
            if !self.raw.lock_until(deadline)? {
                return Ok(false);
            }
        }
        self.take(me, 1);
        Ok(true)
    }

    fn take(&self, me: u64, count: u64) {
        self.owner.store(me, Ordering::Relaxed);
        self.count.store(count, Ordering::Relaxed);
    }

    pub fn release(&self) -> Result<()> {
        if !self.is_owned() {
            return Err(Error::state("cannot release un-acquired lock"));
        }
        let count = self.count.load(Ordering::Relaxed) - 1;
        self.count.store(count, Ordering::Relaxed);
        if count == 0 {
            self.unlock();
        }
        Ok(())
    }

    fn unlock(&self) {
        self.owner.store(0, Ordering::Relaxed);
        // SAFETY: the calling thread owns the lock (checked by the callers),
        // so `raw` is locked and only this thread may unlock it.
        unsafe { self.raw.unlock() };
    }

    /// True when the calling thread holds it.
    pub fn is_owned(&self) -> bool {
        self.owner.load(Ordering::Relaxed) == thread_token()
    }

    /// True when any thread holds it.
    pub fn locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// The `thread_token` of its owner, 0 when unowned.
    pub fn owner_token(&self) -> u64 {
        self.owner.load(Ordering::Relaxed)
    }

    /// How many times its owner holds it (read racily, for dumps).
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Releases it completely, however often the owner holds it (for a
    /// Condition's wait). The caller has checked `is_owned`.
    pub(crate) fn release_save(&self) -> Saved {
        let saved = Saved {
            count: self.count.load(Ordering::Relaxed),
        };
        self.unlock();
        saved
    }

    /// Takes it again as often as `release_save` found it held.
    pub(crate) fn acquire_restore(&self, saved: Saved) {
        if !self.raw.try_lock() {
            let _waiting = waits::begin(On::RLock(self));
            self.raw.lock();
        }
        self.take(thread_token(), saved.count);
    }
}
