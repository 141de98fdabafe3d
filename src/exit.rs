//! Process exit: wait for every started non-daemon thread, as the Python
//! interpreter does, and release threads that are joining the main thread.

use std::panic::catch_unwind;
use std::time::Instant;

use crate::current;
use crate::futex::{Condvar, ForkLock, Mutex};
use crate::registry::registry;

static EXIT_BEGAN: Mutex<bool> = Mutex::new(false);
static EXIT_BEGAN_CV: Condvar = Condvar::new();

/// The `atexit` hook. Never unwinds into libc.
pub extern "C" fn on_process_exit() {
    let _ = catch_unwind(shutdown);
}

/// Marks the start of exit (joins of the main thread return), then waits for
/// every started non-daemon thread other than the caller, including threads
/// started while it waits. Idempotent.
pub fn shutdown() {
    {
        let mut began = EXIT_BEGAN.lock();
        *began = true;
        EXIT_BEGAN_CV.notify_all();
    }
    let me = current::handle_if_known();
    loop {
        let running = registry().running_non_daemon(me);
        if running.is_empty() {
            break;
        }
        for handle in running {
            registry().wait_for_end(handle);
        }
    }
}

/// Waits until exit has begun or `deadline` passes (None: forever).
/// True when exit has begun.
pub fn wait_until_exit_began(deadline: Option<Instant>) -> bool {
    let mut began = EXIT_BEGAN.lock();
    while !*began {
        if !EXIT_BEGAN_CV.wait_until(&mut began, deadline) {
            return *began;
        }
    }
    true
}

/// The exit flag's lock, which fork handling holds across `fork()`.
pub fn fork_lock() -> &'static dyn ForkLock {
    &EXIT_BEGAN
}

/// In a forked child, once `fork_lock` is usable again: exit has not begun
/// there, and nobody waits for it.
///
/// # Safety
/// Only in a forked child while it has one thread.
pub unsafe fn after_fork_in_child() {
    // SAFETY: as the caller guarantees.
    unsafe { EXIT_BEGAN_CV.reset_in_child() };
    *EXIT_BEGAN.lock() = false;
}
