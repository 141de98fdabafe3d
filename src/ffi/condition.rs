//! Condition (Python's `threading.Condition`), over `sync::Condition`.

// The C name of the opaque object type.
#![allow(non_camel_case_types)]

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use super::{
    acquire, answer, ffi_boundary, free, into_c, null_argument, object, or_null, status, timeout,
};
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
/// NaN, or `blocking` is false with a `timeout` >= 0; `HILO_EINTR` when a
/// signal handler ran during the wait of an interruptible thread
/// (`hilo_set_interruptible`).
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
/// is NULL or `timeout` is NaN; `HILO_EINTR` when a signal handler ran
/// during the wait of an interruptible thread (`hilo_set_interruptible`),
/// with the lock held again and nothing consumed (a notify that came too
/// wins: 1). Or let `hilo_cond_wait_for` do the loop.
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

/// A predicate for `hilo_cond_wait_for`: true when the state waited for is
/// there. Called with the condition's lock held.
#[allow(non_camel_case_types)]
pub type hilo_predicate = Option<unsafe extern "C" fn(arg: *mut c_void) -> bool>;

/// Waits until `predicate(arg)` is true (Python's `Condition.wait_for`):
/// the loop every condition user writes by hand, with the deadline computed
/// once, so that wake-ups (notifies for other states, spurious ones) never
/// stretch the total wait past `timeout` seconds (negative or +infinity:
/// forever; 0: check once, do not wait). `predicate` runs on the calling
/// thread with the lock held: once first, then after each wake-up, and a
/// last time when the timeout expires (as in Python). The caller must hold
/// the lock, and holds it again when this returns, whatever it returns.
/// Unlike Python, which calls a true predicate without checking, waiting
/// without the lock is refused before the predicate runs (it would read
/// shared state unguarded).
///
/// Cost: one predicate call per wake-up; no allocation beyond
/// `hilo_cond_wait`'s.
///
/// @param c the condition; its lock must be held by the calling thread.
/// @param predicate called as `predicate(arg)` with the lock held; must not
/// release the lock.
/// @param arg passed to `predicate` untouched.
/// @param timeout seconds in all; negative or +infinity: forever; 0: do not
/// wait.
/// @return 1 when the predicate is true (Python's truthy result); 0 when it
/// is still false at the timeout (Python's falsy one); `HILO_ESTATE` when
/// the calling thread does not hold the lock ("cannot wait on un-acquired
/// lock"); `HILO_EINVAL` when `c` or `predicate` is NULL or `timeout` is
/// NaN; `HILO_EINTR` when a signal handler ran during a wait of an
/// interruptible thread (`hilo_set_interruptible`) with the predicate still
/// false (the lock is held again; call again with what is left of the
/// timeout).
#[no_mangle]
pub extern "C" fn hilo_cond_wait_for(
    c: *mut hilo_cond,
    predicate: hilo_predicate,
    arg: *mut c_void,
    timeout: f64,
) -> c_int {
    ffi_boundary!({
        // SAFETY: `c` is NULL or a live condition (the header's contract).
        let waited = unsafe { object(c, "condition") }.and_then(|c| {
            let predicate = predicate.ok_or_else(|| null_argument("predicate"))?;
            let deadline = timeout::deadline(timeout)?;
            // SAFETY: a C function of the documented signature, given back
            // its own argument on the calling thread, as the caller asked.
            c.cond.wait_for(|| unsafe { predicate(arg) }, deadline)
        });
        answer(waited)
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
