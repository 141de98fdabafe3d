//! The rest of Python's `threading` module (API.md 5): Event, Lock, RLock,
//! Condition, Semaphore, Barrier, Timer and thread-local values, as plain
//! Rust. The C layer is `ffi::sync`.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::error::{Error, Result};
use crate::timeout;

mod barrier;
mod condition;
mod event;
mod local;
mod lock;
mod semaphore;
pub(crate) mod timer;

pub use barrier::{Action as BarrierAction, Barrier};
pub use condition::{CondLock, Condition};
pub use event::Event;
pub use local::Local;
pub use lock::{Lock, RLock};
pub use semaphore::Semaphore;
pub use timer::{cancel_timer, create_timer};

/// How long an acquire may block, from C's `(blocking, timeout)` pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Try once, do not block.
    No,
    /// Block at most until the deadline, or forever for None.
    Until(Option<Instant>),
}

impl Wait {
    /// Python's rule for `acquire(blocking, timeout)`: a non-blocking call
    /// takes no timeout; any negative timeout is C's spelling of "none".
    pub fn from_acquire(blocking: bool, seconds: f64) -> Result<Wait> {
        Wait::check_acquire(blocking, seconds)?;
        if !blocking {
            return Ok(Wait::No);
        }
        Ok(Wait::Until(timeout::deadline(seconds)?))
    }

    /// The errors of `from_acquire`, without reading the clock: a caller
    /// that can take a free lock at once needs no deadline.
    #[inline]
    pub fn check_acquire(blocking: bool, seconds: f64) -> Result<()> {
        timeout::check(seconds)?;
        if !blocking && seconds >= 0.0 {
            return Err(timeout_without_blocking());
        }
        Ok(())
    }
}

#[cold]
fn timeout_without_blocking() -> Error {
    Error::invalid("can't specify a timeout for a non-blocking call")
}

/// A number that names the calling thread for as long as it lives and is
/// never reused: the owner of an RLock. Threads that never take an RLock
/// never draw one. Works on any thread, hilo's or not, and registers nothing.
pub fn thread_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local! {
        // A const cell without a destructor stays readable during TLS teardown.
        static TOKEN: Cell<u64> = const { Cell::new(0) };
    }
    TOKEN.with(|token| match token.get() {
        0 => {
            let fresh = NEXT.fetch_add(1, Ordering::Relaxed);
            token.set(fresh);
            fresh
        }
        known => known,
    })
}

/// Waits on `condvar` until `deadline` (forever for None). Returns false
/// when the deadline has passed.
/// Wake-ups can be spurious: callers check their condition again.
pub(crate) fn wait_on<T>(
    condvar: &crate::futex::Condvar,
    guard: &mut crate::futex::MutexGuard<'_, T>,
    deadline: Option<Instant>,
) -> bool {
    match deadline {
        None => {
            condvar.wait(guard);
            true
        }
        Some(deadline) => !condvar.wait_until(guard, deadline),
    }
}
