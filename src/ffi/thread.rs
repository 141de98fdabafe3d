//! Threads, over src/threads.rs: create, start, join, release, names and
//! identity (src/current.rs), and the process-wide calls: the exit wait
//! (src/exit.rs), stack size, version, the thread dump (src/dump.rs).

use std::ffi::{c_char, c_int, c_void};

use super::error::record;
use super::{
    answer, ffi_boundary, handle_out, null_argument, required_str, status, timeout, HILO_OK,
};
use crate::{current, dump, exit, interrupt, threads, watch};

/// A thread handle. 0 is never a valid handle, and a handle is never reused
/// within a process: a released or random handle answers `HILO_ESRCH`.
#[allow(non_camel_case_types)]
pub type hilo_thread_t = u64;

/// A thread's target: the same shape as a pthread start routine. Its return
/// value is what `hilo_join` gives; a target may also end its thread with
/// `pthread_exit(value)`, which counts as a normal end.
///
/// `pthread_cancel` of a hilo thread (its `pthread_t` is `pthread_self()`
/// in the target) is an end too: deferred cancellation acts at the target's
/// next cancellation point (`nanosleep`, `read`, `write`, ...), the thread's
/// `hilo_local` destructors run, it is no longer alive, every `hilo_join`
/// returns `HILO_OK` with `PTHREAD_CANCELED` as the result, and the exit
/// wait does not wait for it. No hilo call is a cancellation point: a
/// cancel that comes while the thread waits in one (a join, a lock, an
/// event) stays pending until the call has returned, so no hilo object is
/// left half-changed. Asynchronous cancellation
/// (`PTHREAD_CANCEL_ASYNCHRONOUS`) must not be enabled around hilo calls,
/// as for nearly every libc call.
#[allow(non_camel_case_types)]
pub type hilo_fn = Option<unsafe extern "C-unwind" fn(arg: *mut c_void) -> *mut c_void>;

/// Makes a thread that has not started yet; start it with `hilo_start`.
///
/// `target(arg)` runs on the new thread. `name` is copied; NULL or "" gives
/// the default name "Thread-N", N from one process-wide counter that starts
/// at 1 and advances only when a default name is made. The daemon flag is
/// inherited from the calling thread (the main thread is not a daemon; a
/// thread hilo did not create counts as one); change it with
/// `hilo_set_daemon` before the start. On success the new handle is written to
/// `*out`; the caller owns it and gives it up with `hilo_release`.
///
/// @param target the function the thread runs; not NULL
/// @param arg passed to `target` as is; hilo never reads it
/// @param name the thread's name (copied), or NULL or "" for "Thread-N"
/// @param out where the new handle is written; not NULL
/// @return `HILO_OK`; `HILO_EINVAL` when `target` or `out` is NULL (nothing
/// is written); `HILO_EAGAIN` when too many thread records exist, or when
/// there is no memory for the name's copy (never an abort).
#[no_mangle]
pub extern "C" fn hilo_create(
    target: hilo_fn,
    arg: *mut c_void,
    name: *const c_char,
    out: *mut hilo_thread_t,
) -> c_int {
    ffi_boundary!({
        let Some(target) = target else {
            return status(Err(null_argument("target")));
        };
        if out.is_null() {
            return status(Err(null_argument("out")));
        }
        let name = if name.is_null() {
            None
        } else {
            // SAFETY: a non-NULL name is a NUL-terminated C string (the header's contract).
            Some(unsafe { std::ffi::CStr::from_ptr(name) })
        };
        handle_out(out, threads::create(target, arg, name))
    })
}

/// Starts the thread: its target begins to run on a new OS thread, and
/// `hilo_is_alive(t)` is 1 from the return of this call until the target has
/// returned.
///
/// @param t the thread, from `hilo_create` or `hilo_timer_create`
/// @return `HILO_OK`; `HILO_ESRCH` for an unknown or released handle;
/// `HILO_ESTATE` when it was started before, even if it has finished, or is
/// the main thread or a dummy ("threads can only be started once");
/// `HILO_EAGAIN` when the operating system refuses a thread (memory, limits):
/// the thread then stays unstarted and a later start may succeed;
/// `HILO_ESTATE` ("can't create new thread at interpreter shutdown") once
/// the process's exit wait has finished (an `atexit` handler registered
/// before hilo's first use runs after it): the thread would die unseen with
/// the process.
#[no_mangle]
pub extern "C" fn hilo_start(t: hilo_thread_t) -> c_int {
    ffi_boundary!({ status(threads::start(t)) })
}

/// Waits for the thread to finish, at most `timeout` seconds (negative or
/// +infinity: forever, see `HILO_FOREVER`; 0: do not wait).
///
/// Any number of threads may join the same thread, at once or later;
/// each gets `HILO_OK` and the same result. Joining the main thread returns
/// `HILO_OK` (result NULL) once the process has begun to exit, or once the
/// main thread has ended with `pthread_exit`. Joining a thread that called
/// `exit()` returns `HILO_OK` (result NULL) once that exit has begun: the
/// thread will never finish.
///
/// A thread has "finished" when its target has returned and its `hilo_local`
/// destructors have run (hilo runs them at the end of the target, as CPython
/// clears a thread's locals before its join returns). A join with a timeout
/// returns near its timeout whatever other joiners do; a thread that ended
/// with `pthread_exit` is reaped with `pthread_clockjoin_np` within the
/// timeout. Other pthread keys' destructors and C++ `thread_local`s may
/// still be running when a join returns.
///
/// Cost: no system call when the thread has finished. A blocking join of a
/// thread hilo started sleeps where `pthread_join` does, on the word glibc
/// clears as the thread exits: a joiner on another CPU is woken as the
/// thread finishes and goes on while it exits; one on the thread's own CPU
/// is woken by the kernel once the thread has exited (then after those
/// other destructors too), which spares the thread a second context switch.
///
/// @param t the thread to wait for
/// @param timeout the longest wait in seconds; negative or +infinity: forever
/// @param result where the target's return value is written, or NULL
/// @return `HILO_OK` once it has finished, writing the target's return value
/// (or the value given to `pthread_exit`) to `*result` when `result` is not
/// NULL. Errors (nothing is written): `HILO_ETIMEDOUT` if still alive at the
/// timeout; `HILO_ESTATE` if not started ("cannot join thread before it is
/// started") or a dummy ("cannot join a dummy thread"); `HILO_EDEADLK` for the
/// calling thread itself ("cannot join current thread"), and at once, instead
/// of hanging, when the join would close a cycle of joins (A joins B while B
/// joins A, or longer; the message names the threads; a join with a timeout
/// counts while it waits); `HILO_EINVAL` for a NaN timeout; `HILO_ESRCH` for
/// an unknown or released handle; `HILO_EINTR` when a signal handler ran
/// during the wait of an interruptible thread (`hilo_set_interruptible`).
#[no_mangle]
pub extern "C" fn hilo_join(t: hilo_thread_t, timeout: f64, result: *mut *mut c_void) -> c_int {
    ffi_boundary!({
        let joined = timeout::deadline(timeout).and_then(|deadline| threads::join(t, deadline));
        match joined {
            Ok(value) => {
                if !result.is_null() {
                    // SAFETY: a non-NULL `result` points to a void pointer.
                    unsafe { result.write(value) };
                }
                HILO_OK
            }
            Err(err) => record(&err),
        }
    })
}

/// Tells whether the thread is running. The main thread and registered
/// dummies are alive. Lock-free.
///
/// @param t the thread
/// @return 1 from a successful `hilo_start` until the target has returned,
/// else 0 (unstarted or finished); `HILO_ESRCH` for an unknown or released
/// handle.
#[no_mangle]
pub extern "C" fn hilo_is_alive(t: hilo_thread_t) -> c_int {
    ffi_boundary!({ answer(threads::is_alive(t)) })
}

/// Sets whether the thread is a daemon: the process does not wait for daemon
/// threads at exit. Only before the start.
///
/// @param t the thread, not started yet
/// @param daemon true for a daemon thread, false for one the process waits for
/// @return `HILO_OK`; `HILO_ESTATE` once started, even after it finished,
/// and for the main thread and dummies ("cannot set daemon status of active
/// thread"); `HILO_ESRCH` for an unknown or released handle.
#[no_mangle]
pub extern "C" fn hilo_set_daemon(t: hilo_thread_t, daemon: bool) -> c_int {
    ffi_boundary!({ status(threads::set_daemon(t, daemon)) })
}

/// Tells whether the thread is a daemon. Lock-free.
///
/// @param t the thread
/// @return 1 for a daemon thread, 0 for a non-daemon, `HILO_ESRCH` for an
/// unknown or released handle.
#[no_mangle]
pub extern "C" fn hilo_is_daemon(t: hilo_thread_t) -> c_int {
    ffi_boundary!({ answer(threads::is_daemon(t)) })
}

/// Gives the handle up, like `pthread_detach` plus free: the handle is
/// invalid from then on (`HILO_ESRCH` everywhere). A running thread runs to
/// its end, and a released non-daemon thread is still waited for at exit; an
/// unstarted thread is simply discarded. hilo frees the record once it is
/// both released and finished, so a program that releases its threads runs in
/// bounded memory. A released thread that still runs is still counted by
/// `hilo_active_count` and listed by `hilo_enumerate` (which says what its
/// listed handle allows).
///
/// @param t the handle to give up
/// @return `HILO_OK`; `HILO_ESTATE` for the main thread or a dummy;
/// `HILO_ESRCH` for an unknown or already released handle.
#[no_mangle]
pub extern "C" fn hilo_release(t: hilo_thread_t) -> c_int {
    ffi_boundary!({ status(threads::release(t)) })
}

/// Renames the thread, at any time, also while it runs. The full name is
/// copied and kept; the operating system's copy (`ps`, `top -H`, `gdb`,
/// `/proc/<pid>/task/<tid>/comm`) follows it for a running thread. A name
/// longer than the kernel's 15 bytes keeps its start and its end there,
/// with ".." between: the first 7 bytes and the last 6, or all of a final
/// number longer than that (up to 11 bytes), each cut on a UTF-8 character
/// boundary, so that "connection-worker-10" and "-11" show as
/// "connect..ker-10" and "connect..ker-11" (openjdk's rule for Java
/// threads). "" is a valid name (the OS name becomes empty too).
///
/// @param t the thread
/// @param name the new name, copied; not NULL
/// @return `HILO_OK`; `HILO_EINVAL` when `name` is NULL; `HILO_ESRCH` for an
/// unknown or released handle; `HILO_EAGAIN` when there is no memory for the
/// copy (never an abort; the old name stays).
#[no_mangle]
pub extern "C" fn hilo_set_name(t: hilo_thread_t, name: *const c_char) -> c_int {
    ffi_boundary!({
        // SAFETY: a non-NULL name is a NUL-terminated C string (the header's contract).
        let name = unsafe { required_str(name, "name") };
        status(name.and_then(|name| threads::set_name(t, name)))
    })
}

/// Copies the thread's name into `buf` with `snprintf` rules: at most
/// `size - 1` bytes and a terminating NUL; nothing is written when `size` is
/// 0, and `buf` may then be NULL.
///
/// @param t the thread
/// @param buf where the name is copied; may be NULL when `size` is 0
/// @param size the size of `buf` in bytes
/// @return the name's full length in bytes (without the NUL), which is
/// `size` or more when the copy was cut; `HILO_EINVAL` when `buf` is NULL and
/// `size` is not 0; `HILO_ESRCH` for an unknown or released handle.
#[no_mangle]
pub extern "C" fn hilo_get_name(t: hilo_thread_t, buf: *mut c_char, size: usize) -> c_int {
    ffi_boundary!({
        if buf.is_null() && size != 0 {
            return status(Err(null_argument("buf (with a non-zero size)")));
        }
        match threads::name(t) {
            Ok(name) => {
                let bytes = name.to_bytes();
                if size > 0 {
                    let n = bytes.len().min(size - 1);
                    // SAFETY: `buf` is non-NULL and has room for `size` bytes;
                    // n + 1 <= size.
                    unsafe {
                        std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), n);
                        buf.add(n).write(0);
                    }
                }
                c_int::try_from(bytes.len()).unwrap_or(c_int::MAX)
            }
            Err(err) => record(&err),
        }
    })
}

/// Names the calling thread. Costs a thread-local read on the common path:
/// no lock, no system call. In the destructors that run as a thread ends
/// (`hilo_local`, other pthread keys, C++ `thread_local`s) it is still the
/// thread's own name: on a hilo thread whose name is at most 31 bytes, to
/// the thread's very end; otherwise "" only after the third of pthread's
/// four destructor rounds.
///
/// @return the calling thread's name: "MainThread" on the process's initial
/// thread, "Dummy-N" on a thread hilo did not create (registering it), the
/// thread's name on a hilo thread. Never NULL; owned by hilo; valid until
/// the same thread calls `hilo_current_name` again or ends.
#[no_mangle]
pub extern "C" fn hilo_current_name() -> *const c_char {
    ffi_boundary!({
        // The fast path is C and cannot unwind (this boundary costs
        // nothing); the slow one, called from C, has its own.
        current::name(current_name_slow)
    })
}

extern "C" fn current_name_slow() -> *const c_char {
    ffi_boundary!({ current::refresh_name() })
}

/// Gives the calling thread's handle. The first call on the main
/// thread or on a thread hilo did not create registers it (the latter as a
/// daemon "dummy" named "Dummy-N", which leaves the registry when that
/// thread ends, after its destructors). Do not release the handle. In the
/// destructors that run as a thread ends it is still the thread's own
/// handle, and nothing new is registered (the handle may already be invalid
/// there: `HILO_ESRCH`). A foreign thread whose first hilo call comes in the
/// last two of pthread's four destructor rounds leaves its dummy record
/// behind.
///
/// @return the calling thread's handle; never 0.
#[no_mangle]
pub extern "C" fn hilo_current() -> hilo_thread_t {
    ffi_boundary!({ current::handle() })
}

/// Gives the handle of the main thread (the process's initial thread),
/// from any thread. Its name is "MainThread"; its OS name stays
/// the program's (what `ps` shows for the process) until `hilo_set_name`
/// renames it.
///
/// @return the main thread's handle; never 0.
#[no_mangle]
pub extern "C" fn hilo_main_thread() -> hilo_thread_t {
    ffi_boundary!({ current::main_handle() })
}

/// Gives the kernel thread id (Linux TID) of a thread once it has started; it
/// stays readable after the thread has finished.
///
/// @param t the thread
/// @return the TID, 0 before the start; `HILO_ESRCH` for an unknown or
/// released handle.
#[no_mangle]
pub extern "C" fn hilo_native_id(t: hilo_thread_t) -> i64 {
    ffi_boundary!({
        match threads::native_id(t) {
            Ok(tid) => tid,
            Err(err) => i64::from(record(&err)),
        }
    })
}

/// Counts the threads alive now: the main thread, registered dummies, and
/// started, unfinished hilo threads, released ones included (Python counts a
/// thread whose `Thread` object was dropped; a server that releases its
/// workers and reports "threads: N" counts them). The same rule as
/// `hilo_enumerate`, which lists exactly these. One scan of the thread
/// records; lock-free.
///
/// @return how many threads are alive now.
#[no_mangle]
pub extern "C" fn hilo_active_count() -> usize {
    ffi_boundary!({ threads::active_count() })
}

/// Writes the handles of the threads alive now (as `hilo_active_count`
/// counts them) to `buf`, at most `cap` of them; the handles written and the
/// count come from one scan. `buf` may be NULL when `cap` is 0; a NULL `buf`
/// with a non-zero `cap` writes nothing.
///
/// A released thread that still runs is listed with the handle it was
/// released under, which stays released: every call taking it answers
/// `HILO_ESRCH`, as for any released handle (it cannot be joined, renamed
/// or read). It still tells threads apart: it equals what `hilo_current()`
/// returns in that thread, and `hilo_dump` shows the thread as released.
/// It is never reused, so it never names another thread.
///
/// @param buf where the handles are written, or NULL
/// @param cap how many handles `buf` has room for
/// @return how many threads are alive, which may exceed `cap`.
#[no_mangle]
pub extern "C" fn hilo_enumerate(buf: *mut hilo_thread_t, cap: usize) -> usize {
    ffi_boundary!({
        let alive = threads::alive();
        if !buf.is_null() {
            let n = alive.len().min(cap);
            // SAFETY: a non-NULL `buf` has room for `cap` handles; n <= cap.
            unsafe { std::ptr::copy_nonoverlapping(alive.as_ptr(), buf, n) };
        }
        alive.len()
    })
}

/// Waits now, from any thread, for every started non-daemon thread that has
/// not finished (released ones included, the calling thread excluded),
/// including threads they start meanwhile, as the process does at exit; also
/// lets threads joining the main thread return. Idempotent. For hosts whose
/// own exit path runs before C's (an interpreter that loads hilo with ctypes).
/// Threads that are themselves in `hilo_shutdown` or `exit()` are not waited
/// for, so several callers at once never wait for each other. The caller
/// goes on running afterwards; threads may still start (only the exit wait
/// at `exit()` closes the door).
///
/// @return `HILO_OK`.
#[no_mangle]
pub extern "C" fn hilo_shutdown() -> c_int {
    ffi_boundary!({
        exit::shutdown();
        HILO_OK
    })
}

/// Gives up the exit wait, for good: from now on neither the process's exit
/// nor `hilo_shutdown()` waits for non-daemon threads, nor for the work
/// queued in executors (the exit still shuts them down without waiting);
/// an exit wait or `hilo_shutdown()` in progress in another thread returns
/// promptly. The exit still refuses thread starts once it has begun
/// (`HILO_ESTATE`), so no thread starts unseen while the process ends.
/// Joins are not affected: `hilo_join` still waits for its thread, and an
/// explicit `hilo_executor_shutdown(ex, true, ...)` for its workers.
///
/// An addition to hilo's specified API, for hosts whose user asked to stop while the
/// exit waited, such as a Python interpreter in which Ctrl-C raised
/// KeyboardInterrupt during its shutdown's wait for threads (CPython then
/// finishes and exits): hilo's own wait at `exit()` must not hold the
/// process a second time. The default stays "wait", so that no work is
/// lost silently; only a call of this function drops it.
///
/// Irreversible (there is no call to wait again) and idempotent. A child
/// forked afterwards waits again at its exit, as a new process that has
/// not begun to exit. Thread-safe; not async-signal-safe (it takes each
/// thread record's lock in turn): a C program's signal handler that wants
/// the process gone calls `_exit`, or sets a flag that an ordinary thread
/// acts on. Cost: one lock and wake per thread record.
///
/// @return `HILO_OK`.
#[no_mangle]
pub extern "C" fn hilo_abandon_exit_wait() -> c_int {
    ffi_boundary!({
        exit::abandon();
        HILO_OK
    })
}

/// Makes the calling thread's blocking waits interruptible (`on` true) or
/// not (false, the default of every thread). An interruptible thread's
/// `hilo_join`, lock, re-entrant lock, condition and semaphore acquires,
/// `hilo_cond_wait`, `hilo_cond_wait_for`, `hilo_event_wait`,
/// `hilo_barrier_wait`, `hilo_future_result`, `hilo_wait` and the wait of
/// `hilo_executor_shutdown` return `HILO_EINTR` when a signal handler ran while the thread slept in them,
/// with or without `SA_RESTART` (last error "interrupted: a signal handler
/// ran while this thread waited"), as POSIX calls without `SA_RESTART` do:
/// a host can then act on the signal (a Python interpreter runs its
/// handlers, a C daemon checks the flag its SIGTERM handler set) and wait
/// again for what is left of its timeout. Not interruptible, a wait resumes
/// after a handler and still honours its timeout, as `pthread_join` does.
///
/// What the interrupted call leaves: nothing acquired, joined or consumed.
/// What the wait waited for wins if it came too (a lock that became free, a
/// notify, a `hilo_event_set`, a unit, a trip): then the call succeeds. A
/// condition wait returns with its lock held again, as after a timeout, and
/// without its place in the queue. A barrier waiter leaves the barrier,
/// which stays unbroken and counts one waiter less (CPython's `Barrier.wait`
/// does the same when an exception interrupts it); a later wait arrives
/// anew. A barrier whose action runs is waited for to the end, as for a
/// timeout.
///
/// Only a signal that arrives while the thread sleeps in the kernel
/// interrupts it: one that comes just before the sleep (or while the thread
/// spins briefly on a lock) does not end this wait, which then ends as it
/// otherwise would, the window `read(2)` has too. A host that must react
/// within a bound checks its flags, then waits with a timeout of that bound
/// and checks again between waits. hilo's internal locks are never interrupted, nor is a
/// thread's setting changed by anything but this call. Cost: a
/// thread-local flag read before each sleep; an interruptible thread's
/// untimed sleeps wake once a day (so that the kernel reports handlers with
/// `SA_RESTART` too), which no caller sees.
///
/// @param on true: the calling thread's waits return `HILO_EINTR` after a
/// signal handler ran; false: they resume (the default).
/// @return `HILO_OK`.
#[no_mangle]
pub extern "C" fn hilo_set_interruptible(on: bool) -> c_int {
    ffi_boundary!({
        interrupt::set(on);
        HILO_OK
    })
}

/// Returns 1 when the calling thread's waits are interruptible
/// (`hilo_set_interruptible`), 0 when not (the default). Lets a library
/// that changes the setting restore the caller's.
///
/// @return 1 or 0.
#[no_mangle]
pub extern "C" fn hilo_is_interruptible() -> c_int {
    ffi_boundary!({ c_int::from(interrupt::enabled()) })
}

/// Sets the stack size, in bytes, of threads started afterwards (rounded up
/// to a page); 0 restores the platform default.
///
/// @param bytes the stack size, at least 32768, or 0 for the default
/// @return `HILO_OK`; `HILO_EINVAL` below 32 KiB (32768) or when pthreads
/// rejects the size, leaving the setting unchanged.
#[no_mangle]
pub extern "C" fn hilo_set_stack_size(bytes: usize) -> c_int {
    ffi_boundary!({ status(threads::set_stack_size(bytes)) })
}

/// Sets the stack size, in bytes, of one thread between `hilo_create` and
/// `hilo_start` (rounded up to a page); it wins over `hilo_set_stack_size`.
/// 0 gives the thread the process-wide setting again (read at its start).
/// Python has no per-thread size: this is the configuration step between
/// create and start that `pthread_attr_setstacksize` gives a pthread.
///
/// @param t an unstarted thread
/// @param bytes 0, or at least 32 KiB (32768)
/// @return `HILO_OK`; `HILO_EINVAL` below 32 KiB or when pthreads rejects
/// the size ("size not valid: N bytes (0 for the default, or at least
/// 32768)"), leaving the thread's setting unchanged; `HILO_ESTATE` once
/// the thread has started, even after it finished, and for the main thread
/// and dummies ("cannot set stack size of active thread"); `HILO_ESRCH`
/// for an unknown or released handle. A size the machine cannot map fails
/// at `hilo_start` with `HILO_EAGAIN`.
#[no_mangle]
pub extern "C" fn hilo_set_thread_stack_size(t: hilo_thread_t, bytes: usize) -> c_int {
    ffi_boundary!({ status(threads::set_thread_stack_size(t, bytes)) })
}

/// Gives the stack size setting for new threads.
///
/// @return the stack size in bytes; 0 means the platform default.
#[no_mangle]
pub extern "C" fn hilo_get_stack_size() -> usize {
    ffi_boundary!({ threads::stack_size() })
}

/// Gives the library's version, matching `HILO_VERSION_MAJOR`, `_MINOR` and
/// `_PATCH`.
///
/// @return the version string, "MAJOR.MINOR.PATCH". Static; never NULL.
#[no_mangle]
pub extern "C" fn hilo_version() -> *const c_char {
    ffi_boundary!({ concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast() })
}

/// Writes a thread dump (a `jstack` for C) to the file descriptor `fd`: a
/// table of every thread hilo knows (handle, name, daemon, state, native id,
/// the thread it is blocked joining); then each thread with its state
/// ("timer" for a Timer's thread), what it waits for in a hilo wait and for
/// how long (the thread it joins; a Lock and its last acquirer; an RLock and
/// its owner; the event, condition, semaphore or barrier with its state),
/// and its stack, innermost first, with function names as far as symbols
/// allow; threads hilo did not create are listed with their kernel name and
/// stack; last, every cycle of waits as a deadlock ("Found one deadlock:"),
/// or "No deadlock found.". Other threads' stacks are taken by a real-time
/// signal (SIGRTMAX-3) whose handler only copies return addresses: each
/// thread stops for microseconds; a thread inside a system call that a
/// signal would end early (`sleep`, `nanosleep`, `poll`, `epoll_wait`, ...)
/// is left alone (the dump names the call instead of a stack), others
/// resume (SA_RESTART), and hilo's own waits go on, interruptible ones too
/// (no `HILO_EINTR` for a dump's signal).
/// Symbolization runs in the calling thread, and the first dump of
/// a process reads symbol tables (tens to hundreds of milliseconds). For a
/// stuck program: call it from a watchdog thread, `hilo_watchdog`,
/// `hilo_dump_on_signal`, or a debugger (`call hilo_dump(2)` in gdb). It
/// does not close `fd`. Writing to a pipe whose reader is gone raises
/// SIGPIPE, as any write does.
///
/// @param fd an open file descriptor, written to and left open
/// @return `HILO_OK`; `HILO_EINVAL` when `fd` is not an open descriptor or
/// the write fails (the message says why).
#[no_mangle]
pub extern "C" fn hilo_dump(fd: c_int) -> c_int {
    ffi_boundary!({ status(dump::dump(fd)) })
}

/// From now on, signal `signo` makes hilo write a dump (`hilo_dump`) to
/// `fd`: `kill -QUIT <pid>` then shows where every thread is, and the
/// program goes on. The handler only wakes a thread of hilo's
/// ("hilo-watch", started on first use) that writes the dump; nothing
/// unsafe runs in the handler. `signo` 0 turns it off (the signal's
/// default action is back). A signal the program already handles is left
/// alone and refused; hilo's own handler may be moved to another `fd` or
/// signal (the old signal gets its default action back). An ignored signal
/// (SIG_IGN, as a shell leaves SIGQUIT for a background job) is taken over.
/// The environment variable `HILO_DUMP_SIGNAL` (`QUIT`, `USR2`, a number)
/// does the same, writing to stderr, when hilo initialises. In a forked
/// child, call it again: hilo's thread does not survive `fork()`.
///
/// @param signo the signal (SIGQUIT, SIGUSR2, ...), or 0 to turn it off
/// @param fd the file descriptor the dumps go to; hilo does not close it
/// @return `HILO_OK`; `HILO_EINVAL` when `signo` is not a signal, cannot be
/// caught, is a fault signal (SEGV, BUS, FPE, ILL, ABRT, TRAP, SYS) or hilo's
/// stack signal, or `fd` is not open; `HILO_ESTATE` when the program already
/// has a handler for `signo` ("signal N already has a handler of the
/// program's"); `HILO_EAGAIN` when hilo's thread cannot start.
#[no_mangle]
pub extern "C" fn hilo_dump_on_signal(signo: c_int, fd: c_int) -> c_int {
    ffi_boundary!({ status(watch::dump_on_signal(signo, fd)) })
}

/// Watches every hilo wait: when a thread has been blocked in one wait
/// (join, lock, rlock, condition, semaphore, event, barrier; a Timer's wait
/// for its delay does not count) for longer than `seconds`, hilo writes one
/// dump (`hilo_dump`) to `fd`, once per stall: a dump covers every wait in
/// progress then, and none of those makes another. Checked by a thread of
/// hilo's ("hilo-watch") that sleeps until the first moment a wait could
/// pass the limit, so a stall is reported between `seconds` and twice
/// `seconds` after it began, and nothing polls while no watchdog is set.
///
/// @param seconds the limit; 0 or negative turns the watchdog off
/// @param fd the file descriptor the dumps go to; hilo does not close it
/// @return `HILO_OK`; `HILO_EINVAL` when `seconds` is NaN or `fd` is not
/// open; `HILO_EAGAIN` when hilo's thread cannot start.
#[no_mangle]
pub extern "C" fn hilo_watchdog(seconds: f64, fd: c_int) -> c_int {
    ffi_boundary!({ status(watch::watchdog(seconds, fd)) })
}
