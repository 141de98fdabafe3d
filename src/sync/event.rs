//! Event: a flag that threads wait for (Python's `threading.Event`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crate::futex::{Condvar, Mutex};

pub struct Event {
    /// The flag, readable without the lock; changed only under `sets`.
    flag: AtomicBool,
    /// How many times `set` has been called: a waiter that sees it move was
    /// woken by a `set`, even if a `clear` came before it ran again.
    sets: Mutex<u64>,
    changed: Condvar,
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl Event {
    pub fn new() -> Event {
        Event {
            flag: AtomicBool::new(false),
            sets: Mutex::new(0),
            changed: Condvar::new(),
        }
    }

    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        let mut sets = self.sets.lock();
        *sets = sets.wrapping_add(1);
        self.flag.store(true, Ordering::Release);
        drop(sets);
        // After unlocking, so that woken waiters do not find the lock held
        // (a waiter counted itself under the lock, so none is missed).
        self.changed.notify_all();
    }

    pub fn clear(&self) {
        let _sets = self.sets.lock();
        self.flag.store(false, Ordering::Release);
    }

    /// Waits until the flag is set or `deadline` passes (None: forever).
    /// True when the flag was set, or a `set` woke this waiter (as in
    /// Python, where `wait` returns what the condition's wait returned).
    pub fn wait(&self, deadline: Option<Instant>) -> bool {
        if self.is_set() {
            return true;
        }
        let mut sets = self.sets.lock();
        let seen = *sets;
        loop {
            if self.is_set() || *sets != seen {
                return true;
            }
            if !self.changed.wait_until(&mut sets, deadline) {
                return self.is_set() || *sets != seen;
            }
        }
    }
}
