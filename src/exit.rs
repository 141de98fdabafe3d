//! Process exit: wait for every started non-daemon thread, as the Python
//! interpreter does, and release threads that are joining the main thread.

use std::panic::catch_unwind;
use std::time::Instant;

use crate::futex::{Condvar, Mutex};

use crate::current;
use crate::threads;

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
        let running = threads::running_non_daemon(me);
        if running.is_empty() {
            break;
        }
        for handle in running {
            threads::wait_for_end(handle);
        }
    }
}

/// Waits until exit has begun or `deadline` passes (None: forever).
/// True when exit has begun.
pub fn wait_until_exit_began(deadline: Option<Instant>) -> bool {
    let mut began = EXIT_BEGAN.lock();
    while !*began {
        match deadline {
            None => EXIT_BEGAN_CV.wait(&mut began),
            Some(deadline) => {
                if EXIT_BEGAN_CV.wait_until(&mut began, deadline) {
                    return *began;
                }
            }
        }
    }
    true
}

/// Holds the exit flag's lock across `fork()` (see fork.rs).
pub fn lock_for_fork() {
    std::mem::forget(EXIT_BEGAN.lock());
}

/// # Safety
/// Only after `lock_for_fork`, once.
pub unsafe fn unlock_after_fork() {
    // SAFETY: `lock_for_fork` left the lock held for us.
    unsafe { EXIT_BEGAN.force_unlock() };
}

/// In a forked child: the lock usable again, and exit not begun.
///
/// # Safety
/// Only in a forked child, after `lock_for_fork` (see fork.rs).
pub unsafe fn reset_after_fork() {
    // SAFETY: as the caller guarantees.
    unsafe {
        crate::fork::reset_mutex(&EXIT_BEGAN);
        crate::fork::reset_condvar(&EXIT_BEGAN_CV);
    }
    *EXIT_BEGAN.lock() = false;
}
