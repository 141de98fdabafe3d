//! The thread pool with futures (Python's `concurrent.futures`), over
//! src/executor.rs. A `hilo_future *` is a counted reference to the core's
//! future (`FutureRef::into_raw`): the caller's one, given up by
//! `hilo_future_free`; the queue and the worker hold their own, so a future
//! freed before it ran still runs.

// The C names of the opaque object types.
#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void, CStr};

use super::{answer, ffi_boundary, free, hilo_fn, into_c, null_argument, object, or_null};
use super::{status, timeout, CPointer, HILO_OK};
use crate::error::{Error, Result};
use crate::executor::{self, Executor, Future, FutureRef, Phase};

/// `hilo_wait`: return as soon as one of the futures is done (finished or
/// cancelled).
pub const HILO_FIRST_COMPLETED: c_int = 1;
/// `hilo_wait`: return once every one of the futures is done.
pub const HILO_ALL_COMPLETED: c_int = 2;

/// A thread pool (Python's `concurrent.futures.ThreadPoolExecutor`). Opaque;
/// made by `hilo_executor_new`, freed by `hilo_executor_free`.
pub struct hilo_executor {
    executor: Executor,
}

/// The outcome of one `hilo_executor_submit`. Opaque; the caller frees it
/// with `hilo_future_free`.
pub struct hilo_future {
    _opaque: [u8; 0],
}

/// The core future behind a C pointer; `HILO_EINVAL` for NULL.
///
/// # Safety
/// `f` is NULL or a future from `hilo_executor_submit` not yet freed.
unsafe fn future<'a>(f: *const hilo_future) -> Result<&'a Future> {
    // SAFETY: as the caller guarantees; a hilo_future pointer is a
    // `FutureRef` turned into a raw pointer.
    unsafe { f.cast::<Future>().as_ref() }.ok_or_else(|| null_argument("future"))
}

/// A new counted reference to the future behind a C pointer.
///
/// # Safety
/// As for `future`, and `f` is not NULL.
unsafe fn counted(f: *const hilo_future) -> FutureRef {
    // SAFETY: `f` came from `FutureRef::into_raw` and its reference is
    // alive (the caller's promise), so the count may be raised.
    unsafe { FutureRef::counted(f.cast::<Future>()) }
}

/// Makes a thread pool of at most `max_workers` worker threads (0: Python's
/// default, `min(32, CPUs + 4)`). Workers start lazily as work arrives, one
/// at a time, and only when no worker is idle; they are daemon hilo threads
/// named `<name_prefix>_<i>` (i from 0), visible to `hilo_enumerate` and
/// `hilo_dump`. `name_prefix` is copied; NULL or "" gives
/// "ThreadPoolExecutor-<n>", n from a process-wide counter starting at 0.
///
/// Workers being daemons, an idle pool never holds up `hilo_shutdown()`.
/// Instead the process's exit (its first `exit()`, or the return from
/// `main`) shuts down every executor not yet freed and waits for the work
/// already submitted, as Python's interpreter does; `hilo_executor_submit`
/// then answers `HILO_ESTATE`.
///
/// After `fork()`, an executor made before it has no workers in the child
/// and its queue is dropped there; it starts new workers for new work.
/// Futures that had not ended at the fork report cancelled in the child,
/// and their done callbacks never run there.
///
/// The caller owns the executor and frees it with `hilo_executor_free`.
/// Never NULL (hilo aborts if memory runs out, as Rust does).
///
/// @param max_workers the most worker threads it runs at once; 0 for the default
/// @param name_prefix the workers' name prefix (copied), or NULL
/// @return the executor
#[no_mangle]
pub extern "C" fn hilo_executor_new(
    max_workers: usize,
    name_prefix: *const c_char,
) -> *mut hilo_executor {
    ffi_boundary!({
        let prefix = if name_prefix.is_null() {
            None
        } else {
            // SAFETY: a non-NULL prefix is a NUL-terminated string (the
            // header's contract).
            Some(unsafe { CStr::from_ptr(name_prefix) })
        };
        or_null(
            Executor::new(max_workers, prefix).map(|executor| into_c(hilo_executor { executor })),
        )
    })
}

/// Queues `fn(arg)` to run on one of the executor's workers, and writes its
/// future to `*out`. Cost: a 64-byte slot from the executor's blocks (no
/// `malloc` but one per 1023 futures), one CAS to queue it, plus one futex
/// wake when a worker sleeps (or a thread start, when none is idle and fewer
/// than `max_workers` run).
///
/// The caller owns the future and frees it with `hilo_future_free`; a future
/// freed before its work ran still runs it (the result is dropped). `fn` may
/// itself submit more work, also from a done callback. `fn` calling
/// `pthread_exit(v)` ends its work with `v` as its result, as returning `v`
/// would; the worker's thread ends with it and later work starts another.
///
/// @param ex the executor
/// @param fn the function to run; its return value is the future's result
/// @param arg its argument, handed over as is
/// @param out where the new future is written (only on success)
/// @return `HILO_OK`; `HILO_EINVAL` when `ex`, `fn` or `out` is NULL;
/// `HILO_ESTATE` after `hilo_executor_shutdown` ("cannot schedule new futures
/// after shutdown") or once the process's exit has begun ("cannot schedule
/// new futures after interpreter shutdown"); `HILO_EAGAIN` when no worker
/// runs and the operating system refuses to start one, or there is no
/// memory for the future (nothing is queued).
#[no_mangle]
pub extern "C" fn hilo_executor_submit(
    ex: *mut hilo_executor,
    r#fn: hilo_fn,
    arg: *mut c_void,
    out: *mut *mut hilo_future,
) -> c_int {
    ffi_boundary!({
        // SAFETY: `ex` is NULL or a live executor (the header's contract).
        let submitted = unsafe { object(ex, "executor") }.and_then(|ex| {
            let function = r#fn.ok_or_else(|| null_argument("fn"))?;
            if out.is_null() {
                return Err(null_argument("out"));
            }
            let future = ex.executor.submit(function, arg)?;
            // SAFETY: `out` is not NULL and points to a hilo_future pointer
            // (the header's contract).
            unsafe { out.write(future.into_raw().cast()) };
            Ok(())
        });
        status(submitted)
    })
}

/// Shuts the executor down, as Python's `shutdown(wait, cancel_futures)`:
/// no new work is accepted; with `cancel_futures`, work still queued is
/// cancelled (its done callbacks run here); work queued and not cancelled
/// still runs. With `wait`, returns once every worker has ended (a worker
/// that calls this does not wait for itself). A second call is fine, as in
/// Python, and waits again when asked to. The wait is a join of each
/// worker: an interruptible thread (`hilo_set_interruptible`) is told of a
/// signal handler that ran during it, as by `hilo_join`.
///
/// @param ex the executor
/// @param wait whether to wait for the workers to end
/// @param cancel_futures whether to cancel the work not yet begun
/// @return `HILO_OK`; `HILO_EINTR` when the calling thread is
/// interruptible and a signal handler ran while it waited for a worker
/// (the executor is shut down all the same, its cancelled work cancelled;
/// call again to wait again); `HILO_EINVAL` when `ex` is NULL
#[no_mangle]
pub extern "C" fn hilo_executor_shutdown(
    ex: *mut hilo_executor,
    wait: bool,
    cancel_futures: bool,
) -> c_int {
    ffi_boundary!({
        // SAFETY: `ex` is NULL or a live executor (the header's contract).
        let ex = unsafe { object(ex, "executor") };
        status(ex.and_then(|ex| ex.executor.shutdown(wait, cancel_futures)))
    })
}

/// Shuts the executor down with `wait` (queued work runs first), then frees
/// it. NULL is fine. Its futures stay valid until each is freed. Using the
/// executor afterwards is undefined behaviour.
///
/// @param ex the executor, or NULL
#[no_mangle]
pub extern "C" fn hilo_executor_free(ex: *mut hilo_executor) {
    ffi_boundary!({
        // SAFETY: `ex` is NULL or from hilo_executor_new, freed once
        // (documented).
        unsafe { free(ex) }
    })
}

/// Waits at most `timeout` seconds (negative or +infinity: forever; 0: do
/// not wait) for the future's work to end, and writes its return value to
/// `*result` (when `result` is not NULL).
///
/// @param f the future
/// @param timeout seconds to wait at most
/// @param result where `fn`'s return value is written (only on `HILO_OK`), or NULL
/// @return `HILO_OK`; `HILO_ETIMEDOUT` when the work has not ended in time;
/// `HILO_ECANCELED` when it was cancelled; `HILO_EINTR` when the calling
/// thread is interruptible (`hilo_set_interruptible`), a signal handler ran
/// while it slept, and the work has not ended; `HILO_EINVAL` when `f` is
/// NULL or `timeout` is NaN
#[no_mangle]
pub extern "C" fn hilo_future_result(
    f: *mut hilo_future,
    timeout: f64,
    result: *mut *mut c_void,
) -> c_int {
    ffi_boundary!({
        // SAFETY: `f` is NULL or a live future (the header's contract).
        let got = unsafe { future(f) }.and_then(|f| f.result(timeout::deadline(timeout)?));
        status(got.map(|value| {
            if !result.is_null() {
                // SAFETY: not NULL, points to a void pointer (the contract).
                unsafe { result.write(value) };
            }
        }))
    })
}

fn phase_is(f: *const hilo_future, test: impl FnOnce(Phase) -> bool) -> c_int {
    // SAFETY: `f` is NULL or a live future (the header's contract).
    answer(unsafe { future(f) }.map(|f| test(f.phase())))
}

/// Whether the future's work has ended: finished or cancelled. Lock-free.
///
/// @param f the future
/// @return 1 when done, 0 when not; `HILO_EINVAL` when `f` is NULL
#[no_mangle]
pub extern "C" fn hilo_future_done(f: *const hilo_future) -> c_int {
    ffi_boundary!({
        phase_is(f, |phase| {
            matches!(phase, Phase::Finished | Phase::Cancelled)
        })
    })
}

/// Whether the future's work is running now. Lock-free.
///
/// @param f the future
/// @return 1 when running, 0 when not; `HILO_EINVAL` when `f` is NULL
#[no_mangle]
pub extern "C" fn hilo_future_running(f: *const hilo_future) -> c_int {
    ffi_boundary!({ phase_is(f, |phase| phase == Phase::Running) })
}

/// Whether the future was cancelled. Lock-free.
///
/// @param f the future
/// @return 1 when cancelled, 0 when not; `HILO_EINVAL` when `f` is NULL
#[no_mangle]
pub extern "C" fn hilo_future_cancelled(f: *const hilo_future) -> c_int {
    ffi_boundary!({ phase_is(f, |phase| phase == Phase::Cancelled) })
}

/// Cancels the future's work if it has not begun to run. Its done callbacks
/// then run here, in the caller, and its waiters wake.
///
/// @param f the future
/// @return 1 when it is cancelled (also when it already was, as Python's
/// `cancel` answers True); 0 when its work runs or has finished;
/// `HILO_EINVAL` when `f` is NULL
#[no_mangle]
pub extern "C" fn hilo_future_cancel(f: *mut hilo_future) -> c_int {
    ffi_boundary!({
        // SAFETY: `f` is NULL or a live future (the header's contract).
        answer(unsafe { future(f) }.map(|_| {
            // SAFETY: checked not NULL above; alive (the contract).
            unsafe { counted(f) }.cancel()
        }))
    })
}

/// Calls `fn(f, arg)` once the future is done (finished or cancelled): on
/// the worker that finished it, in the thread that cancelled it, or at once
/// in the caller when it is done already and its earlier callbacks have
/// run (one added while they still run runs after them, in the thread
/// running them). Each callback runs once, in the order added. A callback may free the future (its own reference: the
/// caller's pointer is then gone), submit more work, or cancel others; it
/// must not wait for work of its executor that is queued behind it when the
/// executor has one worker (that never ends, as in Python).
///
/// @param f the future
/// @param fn the callback
/// @param arg its second argument, handed over as is
/// @return `HILO_OK`; `HILO_EINVAL` when `f` or `fn` is NULL
#[no_mangle]
pub extern "C" fn hilo_future_add_done_callback(
    f: *mut hilo_future,
    r#fn: Option<unsafe extern "C-unwind" fn(f: *mut hilo_future, arg: *mut c_void)>,
    arg: *mut c_void,
) -> c_int {
    ffi_boundary!({
        // SAFETY: `f` is NULL or a live future (the header's contract).
        let added = unsafe { future(f) }.and_then(|_| {
            let callback = r#fn.ok_or_else(|| null_argument("fn"))?;
            let arg = CPointer(arg);
            // SAFETY: checked not NULL above; alive (the contract).
            let f = unsafe { counted(f) };
            f.add_done_callback(Box::new(move |done: &FutureRef| {
                let arg = &arg;
                // SAFETY: the caller's C callback with its argument, called
                // once with the future's own pointer, which this call keeps
                // alive meanwhile.
                unsafe { callback(done.as_ptr().cast(), arg.get()) }
            }));
            Ok(())
        });
        status(added)
    })
}

/// Gives up the caller's future. NULL is fine. Work not yet run still runs
/// (its result is dropped); cancel it first to stop it. Using the future
/// afterwards is undefined behaviour, as for any freed object. Cost: one
/// atomic decrement, and one more on its block once nothing else holds it;
/// a block whose futures are all freed is kept for reuse (16 MiB at most in
/// the process) or freed.
///
/// @param f the future, or NULL
#[no_mangle]
pub extern "C" fn hilo_future_free(f: *mut hilo_future) {
    ffi_boundary!({
        if !f.is_null() {
            // SAFETY: the caller's reference, from `FutureRef::into_raw` in
            // submit, given up once (documented).
            drop(unsafe { FutureRef::from_raw(f.cast::<Future>()) });
        }
    })
}

/// Waits at most `timeout` seconds (negative or +infinity: forever; 0: do
/// not wait) until one (`HILO_FIRST_COMPLETED`) or every
/// (`HILO_ALL_COMPLETED`) of the `n` futures of `fs` is done, as Python's
/// `concurrent.futures.wait`; the caller then asks each which are done. The
/// futures must come from one executor. `n` 0 returns at once.
///
/// @param fs the futures (NULL only when `n` is 0)
/// @param n how many
/// @param timeout seconds to wait at most
/// @param return_when `HILO_FIRST_COMPLETED` or `HILO_ALL_COMPLETED`
/// @return `HILO_OK` once that holds; `HILO_ETIMEDOUT` when it does not in
/// time; `HILO_EINTR` when the calling thread is interruptible
/// (`hilo_set_interruptible`), a signal handler ran while it slept, and it
/// does not hold yet; `HILO_EINVAL` when `fs` or one of its futures is NULL, they come
/// from different executors, `return_when` is neither constant or `timeout`
/// is NaN
#[no_mangle]
pub extern "C" fn hilo_wait(
    fs: *const *mut hilo_future,
    n: usize,
    timeout: f64,
    return_when: c_int,
) -> c_int {
    ffi_boundary!({
        let waited = (|| {
            let all = match return_when {
                HILO_FIRST_COMPLETED => false,
                HILO_ALL_COMPLETED => true,
                _ => {
                    return Err(Error::invalid(
                        "return_when must be HILO_FIRST_COMPLETED or HILO_ALL_COMPLETED",
                    ))
                }
            };
            let deadline = timeout::deadline(timeout)?;
            if n == 0 {
                return Ok(true);
            }
            if fs.is_null() {
                return Err(null_argument("fs"));
            }
            // SAFETY: `fs` points to `n` future pointers (the contract).
            let pointers = unsafe { std::slice::from_raw_parts(fs, n) };
            // Checked in one pass, without a copy: a wait may cover
            // millions of futures.
            // SAFETY: each is NULL or a live future (the contract).
            let executor_of_first = unsafe { future(pointers[0]) }?.executor_id();
            for &pointer in pointers {
                // SAFETY: as above.
                if unsafe { future(pointer) }?.executor_id() != executor_of_first {
                    return Err(Error::invalid(
                        "hilo_wait: the futures come from different executors",
                    ));
                }
            }
            // SAFETY: every pointer was checked above: live and not NULL.
            let futures = pointers
                .iter()
                .map(|&f| unsafe { &*f.cast_const().cast::<Future>() });
            executor::wait_many(futures, all, deadline)
        })();
        match waited {
            Ok(true) => HILO_OK,
            Ok(false) => status(Err(Error::timed_out())),
            Err(err) => status(Err(err)),
        }
    })
}
