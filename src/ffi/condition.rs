//! Condition (Python's `threading.Condition`), over `sync::Condition`.

// The C name of the opaque object type.
#![allow(non_camel_case_types)]

use std::ffi::c_int;
use std::sync::Arc;

use super::{acquire, answer, ffi_boundary, free, into_c, object, or_null, status, timeout};
use super::{hilo_lock, hilo_rlock};
use crate::sync::{self, CondLock};

/// A condition variable bound to a lock (Python's `threading.Condition`).
/// Opaque; made by `hilo_cond_new`, `hilo_cond_new_with_lock` or
/// `hilo_cond_new_with_rlock`, freed by `hilo_cond_free`.
pub struct hilo_cond {
    cond: sync::Condition,
}

fn new_cond(lock: CondLock) -> *mut hilo_cond {
    into_c(hilo_cond {
        cond: sync::Condition::new(lock),
    })
}

/// Makes a condition with its own re-entrant lock, as Python's
/// `Condition()` does. The caller owns it and frees it with
/// `hilo_cond_free`.
///
/// @return the new condition. Never NULL.
#[no_mangle]
pub extern "C" fn hilo_cond_new() -> *mut hilo_cond {
    ffi_boundary!({ new_cond(CondLock::RLock(Arc::new(sync::RLock::new()))) })
}

/// Makes a condition bound to the caller's lock `l`: `hilo_cond_acquire`
/// and `hilo_cond_release` act on `l`, and so do `hilo_lock_acquire` and
/// `hilo_lock_release` on the condition's behalf. The condition keeps its
/// own reference to the lock, so `l` may be freed first. The caller owns the
/// condition and frees it with `hilo_cond_free`.
///
/// @param l the lock the condition uses
/// @return the new condition; NULL when `l` is NULL (`hilo_last_error()` says
/// so).
#[no_mangle]
pub extern "C" fn hilo_cond_new_with_lock(l: *mut hilo_lock) -> *mut hilo_cond {
    ffi_boundary!({
        // SAFETY: `l` is NULL or a live lock (the header's contract).
        or_null(unsafe { object(l, "lock") }.map(|l| new_cond(CondLock::Lock(Arc::clone(&l.lock)))))
    })
}

/// Makes a condition bound to the caller's re-entrant lock `r`, as
/// `hilo_cond_new_with_lock` does for a plain lock.
///
/// @param r the re-entrant lock the condition uses
/// @return the new condition; NULL when `r` is NULL (`hilo_last_error()` says
/// so).
#[no_mangle]
pub extern "C" fn hilo_cond_new_with_rlock(r: *mut hilo_rlock) -> *mut hilo_cond {
    ffi_boundary!({
        // SAFETY: `r` is NULL or a live rlock (the header's contract).
        or_null(
            unsafe { object(r, "rlock") }.map(|r| new_cond(CondLock::RLock(Arc::clone(&r.rlock)))),
        )
    })
}

/// Frees a condition. NULL is fine. Freeing a condition that a thread still
/// uses or waits on is undefined behaviour. The lock it was bound to lives on
/// while the caller's own `hilo_lock` / `hilo_rlock` does.
///
/// @param c the condition, or NULL
#[no_mangle]
pub extern "C" fn hilo_cond_free(c: *mut hilo_cond) {
    ffi_boundary!({
        // SAFETY: `c` is NULL or from hilo_cond_new*, freed once (documented).
        unsafe { free(c) }
    })
}

/// Acquires the condition's lock, exactly as `hilo_lock_acquire` or
/// `hilo_rlock_acquire` would.
///
/// @param c the condition
/// @param blocking false to try once, true to wait
/// @param timeout the longest wait in seconds when `blocking`; negative or
/// +infinity: forever; must be negative (`HILO_FOREVER`) when not `blocking`
/// @return 1 acquired, 0 not, `HILO_EINVAL` when `c` is NULL, `timeout` is
/// NaN, or `blocking` is false with a `timeout` >= 0.
#[no_mangle]
pub extern "C" fn hilo_cond_acquire(c: *mut hilo_cond, blocking: bool, timeout: f64) -> c_int {
    ffi_boundary!({
        // SAFETY: `c` is NULL or a live condition (the header's contract).
        let c = unsafe { object(c, "condition") };
        acquire(c, blocking, timeout, |c, wait| c.cond.acquire(wait))
    })
}

/// Releases the condition's lock, exactly as `hilo_lock_release` or
/// `hilo_rlock_release` would.
///
/// @param c the condition
/// @return `HILO_OK`, `HILO_ESTATE` ("release unlocked lock" or "cannot
/// release un-acquired lock"), or `HILO_EINVAL` when `c` is NULL.
#[no_mangle]
pub extern "C" fn hilo_cond_release(c: *mut hilo_cond) -> c_int {
    ffi_boundary!({
        // SAFETY: `c` is NULL or a live condition (the header's contract).
        status(unsafe { object(c, "condition") }.and_then(|c| c.cond.release()))
    })
}

/// Releases the lock (completely, however often a re-entrant lock is held),
/// waits until another thread notifies this one or `timeout` seconds pass
/// (negative or +infinity: forever; 0: do not wait), and acquires the lock
/// again as it was before returning. The caller must hold the lock. As with
/// any condition, check the state you wait for in a loop.
///
/// @param c the condition, whose lock the calling thread holds
/// @param timeout the longest wait in seconds; negative or +infinity: forever
/// @return 1 when notified, 0 when the timeout expired first (the lock is
/// held again in both cases); `HILO_ESTATE` when the calling thread does not
/// hold the lock ("cannot wait on un-acquired lock"); `HILO_EINVAL` when `c`
/// is NULL or `timeout` is NaN.
#[no_mangle]
pub extern "C" fn hilo_cond_wait(c: *mut hilo_cond, timeout: f64) -> c_int {
    ffi_boundary!({
        // SAFETY: `c` is NULL or a live condition (the header's contract).
        let notified = unsafe { object(c, "condition") }.and_then(|c| {
            let deadline = timeout::deadline(timeout)?;
            c.cond.wait(deadline)
        });
        answer(notified)
    })
}

/// Wakes up to `n` threads waiting on the condition, those that began to
/// wait first; 0 wakes none. The caller must hold the lock.
///
/// @param c the condition, whose lock the calling thread holds
/// @param n how many waiting threads to wake at most
/// @return `HILO_OK`; `HILO_ESTATE` when the calling thread does not hold the
/// lock ("cannot notify on un-acquired lock"); `HILO_EINVAL` when `c` is NULL.
#[no_mangle]
pub extern "C" fn hilo_cond_notify(c: *mut hilo_cond, n: usize) -> c_int {
    ffi_boundary!({
        // SAFETY: `c` is NULL or a live condition (the header's contract).
        status(unsafe { object(c, "condition") }.and_then(|c| c.cond.notify(n)))
    })
}

/// Wakes every thread waiting on the condition. The caller must hold the
/// lock.
///
/// @param c the condition, whose lock the calling thread holds
/// @return as `hilo_cond_notify`: `HILO_OK`; `HILO_ESTATE` when the calling
/// thread does not hold the lock; `HILO_EINVAL` when `c` is NULL.
#[no_mangle]
pub extern "C" fn hilo_cond_notify_all(c: *mut hilo_cond) -> c_int {
    ffi_boundary!({
        // SAFETY: `c` is NULL or a live condition (the header's contract).
        status(unsafe { object(c, "condition") }.and_then(|c| c.cond.notify_all()))
    })
}
