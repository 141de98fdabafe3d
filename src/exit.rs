//! Process exit: wait for every started non-daemon thread, as the Python
//! interpreter does, and let joins of the main thread (and of any thread
//! that called `exit()`) return.
//!
//! Exit paths race each other, and none may hang or cut work short:
//!
//! - glibc runs each `atexit` handler once, so a second `exit()` from
//!   another thread while the first waits would find hilo's handler gone and
//!   end the process at once. The hook is therefore registered twice, and
//!   every run that may wait registers one more copy before it waits: a
//!   concurrent `exit()` always finds one, and waits too. The chain ends once
//!   the wait has closed the registry.
//! - The first `exit()` ends the process, with its status, after the wait.
//!   A thread that calls `exit()` while another thread's `exit()` runs
//!   blocks for good (as glibc 2.41's own `exit` does), after marking itself
//!   so that the waits skip it and its joins return: it will never finish.
//! - `hilo_shutdown()` callers skip every thread that is itself in an exit
//!   wait (`hilo_shutdown()` or `exit()`), so two of them never wait for each
//!   other; an `exit()` still waits for a `hilo_shutdown()` caller to finish
//!   its work.
//! - Once an exit wait finds nothing left, no thread starts any more
//!   (`HILO_ESTATE`): an `atexit` handler registered before hilo's runs after
//!   its wait, and a thread it started would be killed unseen.
//! - `hilo_abandon_exit_wait()` (`abandon`) gives the waits up for good: a
//!   host whose user asked to stop while the exit waited (Python after
//!   KeyboardInterrupt in its shutdown) must not be held by hilo's own wait
//!   again. From then on the waits find nothing to wait for (executors'
//!   queued work included), a wait asleep wakes and returns, and the exit
//!   still closes the registry.

use std::panic::catch_unwind;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};

use crate::current;
use crate::os;
use crate::registry::{registry, EXITING, IN_SHUTDOWN, NOT_LEAVING};

/// The kernel thread id of the thread whose `exit()` came first, or 0.
static FIRST_EXIT: AtomicI64 = AtomicI64::new(0);

/// Registers the exit hook: twice, see the module's doc. On the main
/// thread, also `main_exits` (see there).
pub fn install() {
    os::at_exit(on_process_exit);
    os::at_exit(on_process_exit);
    if os::is_initial_thread() {
        os::at_thread_exit(main_exits);
    }
}

/// Runs first thing in an `exit()` that the main thread calls (`main`
/// returning included), before the `atexit` handlers, and when the main
/// thread ends with `pthread_exit`. When another thread's `exit()` has
/// already reached hilo's hook, this one blocks for good, so that the first
/// exit's status stands. The handlers alone cannot see to that: glibc
/// before 2.41 does not serialise `exit()`, and once the first exit has
/// run every copy of hilo's hook (it is past its wait, running handlers
/// registered before hilo's), a later `exit()` finds none left and races it
/// to `_exit` with its own status. Registered for the main thread only (one
/// registration per process, when hilo starts there): a later `exit()`
/// from another thread still has that race.
unsafe extern "C" fn main_exits(_: *mut std::ffi::c_void) {
    let _ = catch_unwind(|| {
        let first = FIRST_EXIT.load(Ordering::Acquire);
        if first != 0 && first != os::gettid() {
            block_for_good();
        }
    });
}

/// The `atexit` hook. Never unwinds into libc.
pub extern "C" fn on_process_exit() {
    let _ = catch_unwind(|| {
        let tid = os::gettid();
        match FIRST_EXIT.compare_exchange(0, tid, Ordering::AcqRel, Ordering::Acquire) {
            // The first exit(), or its own next copy of this hook, or an
            // exit() that its own handlers called.
            Ok(_) => {}
            Err(first) if first == tid => {}
            Err(_) => block_for_good(),
        }
        if !registry().is_closed() {
            // For an exit() that another thread calls while this one waits.
            os::at_exit(on_process_exit);
        }
        wait(Leaving::Exit);
    });
}

/// A later `exit()`: marks the caller as exiting (its joins return, the
/// waits skip it), then sleeps until the first `exit()` ends the process.
fn block_for_good() -> ! {
    let me = current::handle_if_known();
    if me != 0 {
        registry().set_exit_mark(me, EXITING);
    }
    static NEVER: AtomicU32 = AtomicU32::new(0);
    loop {
        os::futex_wait(&NEVER, 0, None);
    }
}

/// `hilo_shutdown`: the exit wait, now, from any thread. The caller goes on
/// running afterwards.
pub fn shutdown() {
    wait(Leaving::Shutdown);
}

/// `hilo_abandon_exit_wait`: from now on no exit wait waits, and those in
/// progress return (the registry wakes their sleeps; an executor's exit
/// wait sleeps in the same place). Irreversible; idempotent.
pub fn abandon() {
    registry().abandon_exit_waits();
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Leaving {
    Exit,
    Shutdown,
}

/// Marks the caller and the main thread as leaving, then waits for every
/// started non-daemon thread other than the caller that it must not skip,
/// including threads started while it waits.
fn wait(leaving: Leaving) {
    if leaving == Leaving::Exit {
        // Executors first, as CPython's threading._shutdown runs
        // concurrent.futures' hook before it joins threads: queued work
        // runs, new work is refused.
        crate::executor::at_exit();
    }
    let me = current::handle_if_known();
    let main = current::main_handle();
    // Joins of the main thread return once the process begins to exit.
    if registry().exit_mark(main) == NOT_LEAVING {
        registry().set_exit_mark(main, EXITING);
    }
    if me != 0 && me != main {
        let mine = match leaving {
            Leaving::Exit => EXITING,
            Leaving::Shutdown => IN_SHUTDOWN,
        };
        registry().set_exit_mark(me, mine);
    }
    let skip = move |other: u64| match leaving {
        // Threads blocked for good in a later exit(). A hilo_shutdown()
        // caller is waited for: it goes on running afterwards.
        Leaving::Exit => other >= EXITING,
        // Anyone in an exit wait: they would wait for this caller.
        Leaving::Shutdown => other != NOT_LEAVING,
    };
    loop {
        let pending: Vec<_> = if registry().exit_waits_abandoned() {
            Vec::new()
        } else {
            registry()
                .running_non_daemon(me)
                .into_iter()
                .filter(|&handle| !skip(registry().exit_mark(handle)))
                .collect()
        };
        if pending.is_empty() {
            if leaving == Leaving::Exit && !registry().is_closed() {
                // Nothing left: refuse new threads, then look once more for
                // one that started before the refusal.
                registry().close();
                continue;
            }
            break;
        }
        for handle in pending {
            registry().wait_for_end(handle, skip);
        }
    }
    if leaving == Leaving::Shutdown && me != 0 && me != main {
        registry().set_exit_mark(me, NOT_LEAVING);
    }
}

/// In a forked child: no exit has begun there.
pub fn after_fork_in_child() {
    FIRST_EXIT.store(0, Ordering::Relaxed);
}
