//! Event: a flag that threads wait for (Python's `threading.Event`).
//!
//! One atomic word and the futex on it, no internal lock: nothing a thread
//! leaves behind (one that vanished in a fork, one killed mid-call) can block
//! another. The word holds the flag, a bit that says a waiter may sleep, and
//! a count of `set` calls, so that a waiter that a `set` woke returns true
//! even if a `clear` came before it ran again (as in Python, where `wait`
//! returns what the condition's wait returned).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Instant;

use crate::error::Result;
use crate::waits::{self, On};
use crate::{interrupt, os};

const SET: u32 = 1;
const SLEEPERS: u32 = 2;
/// The count of `set` calls starts at this bit (it wraps; a waiter would
/// have to sleep through 2^30 sets to miss one).
const ONE_SET: u32 = 4;

pub struct Event {
    word: AtomicU32,
}

impl Default for Event {
    fn default() -> Event {
        Event::new()
    }
}

impl Event {
    pub fn new() -> Event {
        Event {
            word: AtomicU32::new(0),
        }
    }

    pub fn is_set(&self) -> bool {
        self.word.load(Ordering::Acquire) & SET != 0
    }

    /// Sets the flag and wakes every waiter.
    pub fn set(&self) {
        // Count the set, raise the flag, and take the sleepers bit: every
        // thread asleep now is woken below; one that sleeps again sets the
        // bit again.
        let old = self
            .word
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |word| {
                Some((word & !(SET | SLEEPERS)).wrapping_add(ONE_SET) | SET)
            })
            .unwrap_or_else(|word| word);
        if old & SLEEPERS != 0 {
            os::futex_wake(&self.word, i32::MAX);
        }
    }

    pub fn clear(&self) {
        self.word.fetch_and(!SET, Ordering::AcqRel);
    }

    /// Waits until the flag is set or `deadline` passes (None: forever).
    /// True when the flag was set, or a `set` woke this waiter.
    /// `HILO_EINTR` when a signal handler interrupted the wait of an
    /// interruptible thread (src/interrupt.rs) and no `set` came first.
    pub fn wait(&self, deadline: Option<Instant>) -> Result<bool> {
        let first = self.word.load(Ordering::Acquire);
        if first & SET != 0 {
            return Ok(true);
        }
        let sets = first & !(SET | SLEEPERS);
        let _waiting = waits::begin(On::Event(self));
        let done = |word: u32| word & SET != 0 || word & !(SET | SLEEPERS) != sets;
        loop {
            let mut word = self.word.load(Ordering::Acquire);
            if done(word) {
                return Ok(true);
            }
            if word & SLEEPERS == 0 {
                match self.word.compare_exchange(
                    word,
                    word | SLEEPERS,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => word |= SLEEPERS,
                    Err(_) => continue,
                }
            }
            let timeout = match deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Ok(done(self.word.load(Ordering::Acquire))),
                },
            };
            // Returns at once if the word changed since it was read.
            let slept =
                interrupt::sleep(timeout, |timeout| os::futex_wait(&self.word, word, timeout));
            if let Err(interrupted) = slept {
                if done(self.word.load(Ordering::Acquire)) {
                    return Ok(true);
                }
                return Err(interrupted.into());
            }
        }
    }
}
