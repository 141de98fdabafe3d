//! Semaphore and bounded semaphore (Python's `threading.Semaphore` and
//! `threading.BoundedSemaphore`).

use crate::futex::{Condvar, Mutex};

use super::Wait;
use crate::error::{Error, Result};

struct Count {
    value: u32,
    /// Threads blocked in `acquire`, so `release(n)` wakes no more than it can.
    waiting: usize,
}

pub struct Semaphore {
    count: Mutex<Count>,
    available: Condvar,
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
            count: Mutex::new(Count { value, waiting: 0 }),
            available: Condvar::new(),
            bound,
        }
    }

    /// Takes one unit: true when taken, false when `wait` ran out first.
    pub fn acquire(&self, wait: Wait) -> bool {
        let mut count = self.count.lock();
        loop {
            if count.value > 0 {
                count.value -= 1;
                return true;
            }
            let Wait::Until(deadline) = wait else {
                return false;
            };
            count.waiting += 1;
            let woken = self.available.wait_until(&mut count, deadline);
            count.waiting -= 1;
            if !woken && count.value == 0 {
                return false;
            }
        }
    }

    /// Adds `n` units, waking up to `n` waiters.
    pub fn release(&self, n: u32) -> Result<()> {
        if n < 1 {
            return Err(Error::invalid("n must be one or more"));
        }
        let mut count = self.count.lock();
        let value = match (count.value.checked_add(n), self.bound) {
            (Some(value), Some(bound)) if value <= bound => value,
            (_, Some(_)) => return Err(Error::state("Semaphore released too many times")),
            (Some(value), None) => value,
            (None, None) => {
                return Err(Error::state(format!(
                    "Semaphore value would overflow: {} + {n} > {}",
                    count.value,
                    u32::MAX
                )))
            }
        };
        count.value = value;
        let wake = count.waiting.min(n as usize);
        drop(count);
        // After unlocking, so that woken waiters do not find the lock held
        // (a waiter counted itself under the lock, so none is missed).
        for _ in 0..wake {
            self.available.notify_one();
        }
        Ok(())
    }

    /// The current value (Python's `_value`).
    pub fn value(&self) -> u32 {
        self.count.lock().value
    }
}
