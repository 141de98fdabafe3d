//! Semaphore and bounded semaphore (Python's `threading.Semaphore` and
//! `threading.BoundedSemaphore`).
//!
//! An atomic count, a count of sleepers, and the futex on the count: no
//! internal lock, so nothing a vanished thread (a fork) left behind blocks a
//! `release` or an `acquire`; a sleeper counted by a thread that vanished
//! costs at most one futex wake that finds nobody.

use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::time::Instant;

use super::Wait;
use crate::error::{Error, Result};
use crate::waits::{self, On};
use crate::{interrupt, os};

pub struct Semaphore {
    value: AtomicU32,
    /// Threads that may sleep in `acquire`, so `release` makes no system
    /// call when nobody waits, and `release(n)` wakes no more than `n`.
    sleepers: AtomicU32,
    /// The initial value of a bounded semaphore: `release` never goes past it.
    bound: Option<u32>,
}

impl Semaphore {
    pub fn new(value: u32) -> Semaphore {
        Semaphore::with_bound(value, None)
    }

    pub fn bounded(value: u32) -> Semaphore {
        Semaphore::with_bound(value, Some(value))
    }

    fn with_bound(value: u32, bound: Option<u32>) -> Semaphore {
        Semaphore {
            value: AtomicU32::new(value),
            sleepers: AtomicU32::new(0),
            bound,
        }
    }

    /// Takes one unit if there is one.
    fn try_take(&self) -> bool {
        self.value
            .fetch_update(Ordering::Acquire, Ordering::Relaxed, |value| {
                value.checked_sub(1)
            })
            .is_ok()
    }

    /// Takes one unit: true when taken, false when `wait` ran out first.
    /// `HILO_EINTR` when a signal handler interrupted the wait of an
    /// interruptible thread (src/interrupt.rs) and no unit was there.
    pub fn acquire(&self, wait: Wait) -> Result<bool> {
        if self.try_take() {
            return Ok(true);
        }
        let Wait::Until(deadline) = wait else {
            return Ok(false);
        };
        let _waiting = waits::begin(On::Semaphore(self));
        loop {
            // Count this thread as a sleeper before the last look at the
            // value (SeqCst, against `release`'s add then look at sleepers):
            // either that look sees the release's unit, or the release sees
            // this sleeper and wakes it.
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            let timeout = match deadline {
                None => Some(None),
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(Some(left)),
                    _ => None,
                },
            };
            let mut slept = Ok(());
            if let Some(timeout) = timeout {
                if self.value.load(Ordering::SeqCst) == 0 {
                    // Returns at once if a release came meanwhile.
                    slept = interrupt::sleep(timeout, |timeout| {
                        os::futex_wait(&self.value, 0, timeout)
                    });
                }
            }
            self.sleepers.fetch_sub(1, Ordering::Relaxed);
            if self.try_take() {
                return Ok(true);
            }
            slept?;
            if timeout.is_none() {
                return Ok(false);
            }
        }
    }

    /// Adds `n` units, waking up to `n` waiters.
    pub fn release(&self, n: u32) -> Result<()> {
        if n < 1 {
            return Err(Error::invalid("n must be one or more"));
        }
        let mut value = self.value.load(Ordering::Relaxed);
        loop {
            let new = match (value.checked_add(n), self.bound) {
                (Some(new), Some(bound)) if new <= bound => new,
                (_, Some(_)) => return Err(Error::state("Semaphore released too many times")),
                (Some(new), None) => new,
                (None, None) => {
                    return Err(Error::state(format!(
                        "Semaphore value would overflow: {value} + {n} > {}",
                        u32::MAX
                    )))
                }
            };
            match self
                .value
                .compare_exchange_weak(value, new, Ordering::SeqCst, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(now) => value = now,
            }
        }
        fence(Ordering::SeqCst);
        let sleepers = self.sleepers.load(Ordering::SeqCst);
        if sleepers > 0 {
            os::futex_wake(&self.value, sleepers.min(n).min(i32::MAX as u32) as i32);
        }
        Ok(())
    }

    /// The current value (Python's `_value`).
    pub fn value(&self) -> u32 {
        self.value.load(Ordering::Acquire)
    }
}
