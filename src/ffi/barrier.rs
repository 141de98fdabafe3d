//! Barrier (Python's `threading.Barrier`), over `sync::Barrier`.

// The C name of the opaque object type.
#![allow(non_camel_case_types)]

use std::ffi::{c_int, c_void};
use std::time::Duration;

use super::{answer, count, ffi_boundary, free, hilo_fn, into_c, object, or_null, status};
use super::{timeout, CPointer};
use crate::sync::{self, BarrierWait};

/// A barrier for a fixed number of threads (Python's `threading.Barrier`).
/// Opaque; made by `hilo_barrier_new`, freed by `hilo_barrier_free`.
pub struct hilo_barrier {
    barrier: sync::Barrier,
}

/// Makes a barrier for `parties` threads. When the last of them arrives in
/// `hilo_barrier_wait`, that thread calls `action(arg)` (if `action` is not
/// NULL; its return value is ignored) and then every waiter is released.
/// `timeout` is the default for waits that pass a negative timeout
/// (negative or +infinity here: forever). The caller owns the barrier and
/// frees it with `hilo_barrier_free`.
///
/// @param parties how many threads each round waits for; 1 or more
/// @param action called by the last thread to arrive, before the others are
/// released; or NULL
/// @param arg passed to `action` as is
/// @param timeout the default timeout in seconds of waits that pass a
/// negative one; negative or +infinity: forever
/// @return the new barrier; NULL when `parties` is 0 ("parties must be >= 1")
/// or `timeout` is NaN; `hilo_last_error()` says which.
#[no_mangle]
pub extern "C" fn hilo_barrier_new(
    parties: u32,
    action: hilo_fn,
    arg: *mut c_void,
    timeout: f64,
) -> *mut hilo_barrier {
    ffi_boundary!({
        let arg = CPointer(arg);
        let action = action.map(|action| -> sync::BarrierAction {
            Box::new(move || {
                // SAFETY: the C function and argument given to
                // hilo_barrier_new, called as the barrier trips.
                unsafe { action(arg.get()) };
            })
        });
        // Negative, +infinity or too long to represent: forever.
        let default_timeout =
            timeout::check(timeout).map(|()| Duration::try_from_secs_f64(timeout).ok());
        or_null(default_timeout.and_then(|default_timeout| {
            sync::Barrier::new(parties, action, default_timeout)
                .map(|barrier| into_c(hilo_barrier { barrier }))
        }))
    })
}

/// Frees a barrier. NULL is fine. Freeing a barrier that a thread still
/// uses or waits on is undefined behaviour.
///
/// @param b the barrier, or NULL
#[no_mangle]
pub extern "C" fn hilo_barrier_free(b: *mut hilo_barrier) {
    ffi_boundary!({
        // SAFETY: `b` is NULL or from hilo_barrier_new, freed once (documented).
        unsafe { free(b) }
    })
}

/// Waits until all parties have called `hilo_barrier_wait`, at most
/// `timeout` seconds. A negative `timeout` (`HILO_FOREVER`) means the
/// barrier's default timeout, as Python's `None` does (forever unless
/// `hilo_barrier_new` was given one); +infinity waits forever; 0 does not
/// wait. An abort or reset while the action runs breaks that round for
/// every waiter.
///
/// @param b the barrier
/// @param timeout the longest wait in seconds; negative: the barrier's
/// default; +infinity: forever
/// @return the arrival index, 0 for the first thread to arrive up to
/// `parties - 1` for the last (which runs the action), so that one thread
/// can be picked for a job. `HILO_EBROKEN` when the barrier is broken or
/// breaks while waiting: by `hilo_barrier_abort` ("the barrier is broken"),
/// by `hilo_barrier_reset` ("the barrier was reset while this thread
/// waited"), or by a wait that timed out (that waiter gets "barrier wait
/// timed out; the barrier is now broken", every other waiter "the barrier is
/// broken"). An abort or reset while the action runs breaks that round for
/// every waiter. `HILO_EINVAL` when `b` is NULL or `timeout` is NaN.
/// `HILO_EINTR` when a signal handler ran during the wait of an
/// interruptible thread (`hilo_set_interruptible`): the thread has left the
/// barrier, which stays unbroken (as CPython's when an exception interrupts
/// `Barrier.wait`).
#[no_mangle]
pub extern "C" fn hilo_barrier_wait(b: *mut hilo_barrier, timeout: f64) -> c_int {
    ffi_boundary!({
        // SAFETY: `b` is NULL or a live barrier (the header's contract).
        count(unsafe { object(b, "barrier") }.and_then(|b| {
            // Negative is Python's `None`: the barrier's default timeout.
            let wait = if timeout < 0.0 {
                BarrierWait::Default
            } else {
                BarrierWait::Until(timeout::deadline(timeout)?)
            };
            b.barrier.wait(wait)
        }))
    })
}

/// Breaks the barrier: threads waiting in it, and every later wait, get
/// `HILO_EBROKEN` until `hilo_barrier_reset`.
///
/// @param b the barrier
/// @return `HILO_OK`, or `HILO_EINVAL` when `b` is NULL.
#[no_mangle]
pub extern "C" fn hilo_barrier_abort(b: *mut hilo_barrier) -> c_int {
    ffi_boundary!({
        // SAFETY: `b` is NULL or a live barrier (the header's contract).
        status(unsafe { object(b, "barrier") }.map(|b| b.barrier.abort()))
    })
}

/// Returns the barrier to its empty, unbroken state. Threads waiting in it
/// now get `HILO_EBROKEN`; later waits start a new round.
///
/// @param b the barrier
/// @return `HILO_OK`, or `HILO_EINVAL` when `b` is NULL.
#[no_mangle]
pub extern "C" fn hilo_barrier_reset(b: *mut hilo_barrier) -> c_int {
    ffi_boundary!({
        // SAFETY: `b` is NULL or a live barrier (the header's contract).
        status(unsafe { object(b, "barrier") }.map(|b| b.barrier.reset()))
    })
}

/// Counts the threads waiting in the barrier for it to trip.
///
/// @param b the barrier
/// @return how many threads wait in the barrier, or `HILO_EINVAL` when `b` is
/// NULL.
#[no_mangle]
pub extern "C" fn hilo_barrier_n_waiting(b: *const hilo_barrier) -> c_int {
    ffi_boundary!({
        // SAFETY: `b` is NULL or a live barrier (the header's contract).
        count(unsafe { object(b, "barrier") }.map(|b| b.barrier.n_waiting()))
    })
}

/// Gives the number of parties the barrier was made for.
///
/// @param b the barrier
/// @return the number of parties (as much as an int can hold), or
/// `HILO_EINVAL` when `b` is NULL.
#[no_mangle]
pub extern "C" fn hilo_barrier_parties(b: *const hilo_barrier) -> c_int {
    ffi_boundary!({
        // SAFETY: `b` is NULL or a live barrier (the header's contract).
        count(unsafe { object(b, "barrier") }.map(|b| b.barrier.parties()))
    })
}

/// Tells whether the barrier is broken (aborted, or a wait timed out) and
/// not reset since.
///
/// @param b the barrier
/// @return 1 when broken, 0 when not, `HILO_EINVAL` when `b` is NULL.
#[no_mangle]
pub extern "C" fn hilo_barrier_broken(b: *const hilo_barrier) -> c_int {
    ffi_boundary!({
        // SAFETY: `b` is NULL or a live barrier (the header's contract).
        answer(unsafe { object(b, "barrier") }.map(|b| b.barrier.broken()))
    })
}
