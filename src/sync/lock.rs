//! Lock and RLock (Python's `threading.Lock` and `threading.RLock`), whose
//! acquire and release may happen in separate calls and, for a Lock, on
//! different threads. A Lock is one byte of state with parking_lot_core's
//! wait queues; an RLock is parking_lot's raw mutex plus its owner.

use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::time::Instant;

use parking_lot::lock_api::{RawMutex as _, RawMutexTimed as _};
use parking_lot::RawMutex;
use parking_lot_core::{ParkResult, SpinWait, DEFAULT_PARK_TOKEN, DEFAULT_UNPARK_TOKEN};

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

/// Set while some thread holds the Lock.
const LOCKED: u8 = 1;
/// Set while threads may be parked waiting for the Lock (in the wait queue
/// keyed by the state's address).
const PARKED: u8 = 2;

/// A lock that no thread owns: any thread may release it.
///
/// The uncontended acquire and release are one compare-exchange each, as for
/// a pthread mutex. A release claims the acquire it undoes by clearing
/// LOCKED, so of two racing releases only one succeeds and a release of an
/// unlocked lock is seen. The scheme is parking_lot's raw mutex without its
/// fairness hand-off: waiters spin briefly, then set PARKED and park on the
/// state's address; a release that finds PARKED wakes one of them.
pub struct Lock {
    state: AtomicU8,
}

impl Default for Lock {
    fn default() -> Lock {
        Lock::new()
    }
}

impl Lock {
    pub fn new() -> Lock {
        Lock {
            state: AtomicU8::new(0),
        }
    }

    /// True when acquired, false when `wait` ran out first.
    #[inline]
    pub fn acquire(&self, wait: Wait) -> bool {
        if self.try_acquire_free() {
            return true;
        }
        match wait {
            Wait::No => self.take_unless_locked().is_ok(),
            Wait::Until(deadline) => self.acquire_slow(deadline),
        }
    }

    /// Takes it when it is free with no thread parked on it (the
    /// uncontended case, one compare-exchange); false says nothing.
    #[inline]
    pub fn try_acquire_free(&self) -> bool {
        self.state
            .compare_exchange_weak(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Takes it unless it is locked, also with threads parked on it (a
    /// spurious failure of the weak exchange does not count); otherwise
    /// the state that showed it locked.
    #[cold]
    fn take_unless_locked(&self) -> std::result::Result<(), u8> {
        let mut state = self.state.load(Ordering::Relaxed);
        while state & LOCKED == 0 {
            match self.state.compare_exchange_weak(
                state,
                state | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(now) => state = now,
            }
        }
        Err(state)
    }

    #[cold]
    fn acquire_slow(&self, deadline: Option<Instant>) -> bool {
        let mut spin = SpinWait::new();
        loop {
            let state = match self.take_unless_locked() {
                Ok(()) => return true,
                Err(state) => state,
            };
            // Nobody parked yet: spin a little first.
            if state & PARKED == 0 && spin.spin() {
                continue;
            }
            if state & PARKED == 0
                && self
                    .state
                    .compare_exchange_weak(
                        state,
                        state | PARKED,
                        Ordering::Relaxed,
                        Ordering::Relaxed,
                    )
                    .is_err()
            {
                continue;
            }
            // Park unless a release came in between (then LOCKED is clear)
            // or an unpark emptied the queue and cleared PARKED.
            let validate = || self.state.load(Ordering::Relaxed) == LOCKED | PARKED;
            let timed_out = |_key, was_last_thread| {
                if was_last_thread {
                    self.state.fetch_and(!PARKED, Ordering::Relaxed);
                }
            };
            // SAFETY: the key is the address of this lock's state, which no
            // other parking_lot_core user of hilo's parks on; `validate` and
            // `timed_out` neither panic nor call into parking_lot; the empty
            // `before_sleep` does not park.
            let parked = unsafe {
                parking_lot_core::park(
                    self.key(),
                    validate,
                    || {},
                    timed_out,
                    DEFAULT_PARK_TOKEN,
                    deadline,
                )
            };
            if parked == ParkResult::TimedOut {
                return false;
            }
            // Woken by a release, or the state changed before parking: try
            // again, spinning first as if new.
            spin.reset();
        }
    }

    /// Unlocks it; `HILO_ESTATE` "release unlocked lock" when it is not
    /// locked, also when another release came first.
    #[inline]
    pub fn release(&self) -> Result<()> {
        match self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
        {
            Ok(_) => Ok(()),
            Err(state) => self.release_slow(state),
        }
    }

    #[cold]
    fn release_slow(&self, mut state: u8) -> Result<()> {
        loop {
            if state & LOCKED == 0 {
                return Err(Error::state("release unlocked lock"));
            }
            match self.state.compare_exchange_weak(
                state,
                state & !LOCKED,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => state = now,
            }
        }
        if state & PARKED != 0 {
            let callback = |result: parking_lot_core::UnparkResult| {
                // The queue is empty: later releases need not look. A thread
                // about to park sets PARKED again and then fails `validate`
                // (checked under the queue's lock, which this callback holds).
                if !result.have_more_threads {
                    self.state.fetch_and(!PARKED, Ordering::Relaxed);
                }
                DEFAULT_UNPARK_TOKEN
            };
            // SAFETY: the key is this lock's (see `acquire_slow`); the
            // callback neither panics nor calls into parking_lot.
            unsafe { parking_lot_core::unpark_one(self.key(), callback) };
        }
        Ok(())
    }

    pub fn locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & LOCKED != 0
    }

    /// The key of this lock's wait queue.
    fn key(&self) -> usize {
        &self.state as *const AtomicU8 as usize
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
