//! Lock and RLock (Python's `threading.Lock` and `threading.RLock`), on
//! parking_lot's raw mutex, whose acquire and release may happen in separate
//! calls and, for a Lock, on different threads.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use parking_lot::lock_api::{RawMutex as _, RawMutexTimed as _};
use parking_lot::RawMutex;

use super::{thread_token, Wait};
use crate::error::{Error, Result};

fn raw_acquire(raw: &RawMutex, wait: Wait) -> bool {
    match wait {
        Wait::No => raw.try_lock(),
        Wait::Until(None) => {
            raw.lock();
            true
        }
        Wait::Until(Some(deadline)) => raw.try_lock_until(deadline),
    }
}

/// A lock that no thread owns: any thread may release it.
pub struct Lock {
    raw: RawMutex,
    /// True between a successful acquire and the release that claims it.
    /// Releases race for it, so only one of them unlocks `raw`.
    held: AtomicBool,
}

impl Default for Lock {
    fn default() -> Lock {
        Lock::new()
    }
}

impl Lock {
    pub fn new() -> Lock {
        Lock {
            raw: RawMutex::INIT,
            held: AtomicBool::new(false),
        }
    }

    /// True when acquired, false when `wait` ran out first.
    pub fn acquire(&self, wait: Wait) -> bool {
        let acquired = raw_acquire(&self.raw, wait);
        if acquired {
            self.held.store(true, Ordering::Release);
        }
        acquired
    }

    pub fn release(&self) -> Result<()> {
        if self
            .held
            .compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(Error::state("release unlocked lock"));
        }
        // SAFETY: `held` was true, so `raw` is locked, and this call alone
        // won the exchange that claims that acquire: no other release unlocks
        // it. parking_lot's raw mutex is not tied to the locking thread.
        unsafe { self.raw.unlock() };
        Ok(())
    }

    pub fn locked(&self) -> bool {
        self.raw.is_locked()
    }
}

/// A re-entrant lock: its owner may acquire it again, and must release it
/// as many times.
pub struct RLock {
    raw: RawMutex,
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
            raw: RawMutex::INIT,
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
        if !raw_acquire(&self.raw, wait) {
            return Ok(false);
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
        self.raw.lock();
        self.take(thread_token(), saved.count);
    }
}
