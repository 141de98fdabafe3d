//! The rest of Python's `threading` module: Event, Lock, RLock, Condition,
//! Semaphore, Barrier and thread-local values, as plain Rust that takes
//! deadlines (`Instant`s), not C's seconds. Each has its C layer in the
//! file of the same name under src/ffi/.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

mod barrier;
mod condition;
mod event;
pub mod local;
mod lock;
mod semaphore;

pub use barrier::{Action as BarrierAction, Barrier, BarrierWait};
pub use condition::{CondLock, Condition};
pub use event::Event;
pub use local::Local;
pub use lock::{Lock, RLock};
pub use semaphore::Semaphore;

thread_local! {
    // A const cell without a destructor stays readable during TLS teardown.
    static TOKEN: Cell<u64> = const { Cell::new(0) };
}

/// How long an acquire may block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Try once, do not block.
    No,
    /// Block at most until the deadline, or forever for None.
    Until(Option<Instant>),
}

/// A number that names the calling thread for as long as it lives and is
/// never reused: the owner of an RLock. Threads that never take an RLock
/// never draw one. Works on any thread, hilo's or not, and registers nothing.
pub fn thread_token() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    TOKEN.with(|token| match token.get() {
        0 => {
            let fresh = NEXT.fetch_add(1, Ordering::Relaxed);
            token.set(fresh);
            // Once per thread: its record learns it, so that dumps and cycle
            // checks can name the holder of a lock.
            crate::current::publish_token(fresh);
            fresh
        }
        known => known,
    })
}

/// The calling thread's token if it has drawn one, else 0.
pub fn drawn_token() -> u64 {
    TOKEN.try_with(Cell::get).unwrap_or(0)
}
