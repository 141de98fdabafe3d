//! Lock and RLock (Python's `threading.Lock` and `threading.RLock`), over
//! `sync::Lock` and `sync::RLock`.

// The C name of the opaque object type.
#![allow(non_camel_case_types)]

use std::ffi::c_int;
use std::sync::Arc;

use super::{acquire, answer, ffi_boundary, free, into_c, object, status, timeout};
use crate::sync;

/// A lock that no thread owns: any thread may release it (Python's
/// `threading.Lock`). Opaque; made by `hilo_lock_new`, freed by
/// `hilo_lock_free`.
pub struct hilo_lock {
    pub(super) lock: Arc<sync::Lock>,
}

/// A re-entrant lock: the thread that holds it may acquire it again and
/// must release it as many times (Python's `threading.RLock`). Opaque; made
/// by `hilo_rlock_new`, freed by `hilo_rlock_free`.
pub struct hilo_rlock {
    pub(super) rlock: Arc<sync::RLock>,
}

/// Makes an unlocked lock. The caller owns it and frees it with
/// `hilo_lock_free`.
///
/// @return the new lock. Never NULL.
#[no_mangle]
pub extern "C" fn hilo_lock_new() -> *mut hilo_lock {
    ffi_boundary!({
        into_c(hilo_lock {
            lock: Arc::new(sync::Lock::new()),
        })
    })
}

/// Frees a lock. NULL is fine. Freeing a lock that a thread still uses or
/// waits on is undefined behaviour. A condition made with
/// `hilo_cond_new_with_lock` keeps its own reference to the lock, so the
/// lock may be freed before the condition.
///
/// @param l the lock, or NULL
#[no_mangle]
pub extern "C" fn hilo_lock_free(l: *mut hilo_lock) {
    ffi_boundary!({
        // SAFETY: `l` is NULL or from hilo_lock_new, freed once (documented).
        unsafe { free(l) }
    })
}

/// Acquires the lock. `blocking` false tries once; `blocking` true waits at
/// most `timeout` seconds (negative or +infinity: forever; 0: do not wait).
/// A thread that acquires a lock it holds already waits for itself: use a
/// `hilo_rlock` for that.
///
/// @param l the lock
/// @param blocking false to try once, true to wait
/// @param timeout the longest wait in seconds when `blocking`; negative or
/// +infinity: forever; must be negative (`HILO_FOREVER`) when not `blocking`
/// @return 1 when acquired, 0 when not (held elsewhere, or the timeout
/// expired); `HILO_EINVAL` when `l` is NULL, `timeout` is NaN, or `blocking`
/// is false with a `timeout` >= 0 ("can't specify a timeout for a
/// non-blocking call"; pass `HILO_FOREVER`); `HILO_EINTR` when a signal
/// handler ran during the wait of an interruptible thread
/// (`hilo_set_interruptible`).
#[no_mangle]
pub extern "C" fn hilo_lock_acquire(l: *mut hilo_lock, blocking: bool, timeout: f64) -> c_int {
    ffi_boundary!({
        // SAFETY: `l` is NULL or a live lock (the header's contract).
        let acquired = unsafe { object(l, "lock") }.and_then(|l| {
            timeout::check_acquire(blocking, timeout)?;
            // A free lock needs no deadline, which costs a clock read; as
            // in CPython's acquire, try first.
            if l.lock.try_acquire_free() {
                return Ok(true);
            }
            l.lock.acquire(timeout::acquire_wait(blocking, timeout)?)
        });
        answer(acquired)
    })
}

/// Releases the lock. Any thread may release it, not only the one that
/// acquired it; one waiting thread then acquires it.
///
/// @param l the lock
/// @return `HILO_OK`; `HILO_ESTATE` when it is not locked ("release unlocked
/// lock"); `HILO_EINVAL` when `l` is NULL.
#[no_mangle]
pub extern "C" fn hilo_lock_release(l: *mut hilo_lock) -> c_int {
    ffi_boundary!({
        // SAFETY: `l` is NULL or a live lock (the header's contract).
        status(unsafe { object(l, "lock") }.and_then(|l| l.lock.release()))
    })
}

/// Tells whether the lock is held (by any thread). Lock-free.
///
/// @param l the lock
/// @return 1 when the lock is held, 0 when not, `HILO_EINVAL` when `l` is
/// NULL.
#[no_mangle]
pub extern "C" fn hilo_lock_locked(l: *const hilo_lock) -> c_int {
    ffi_boundary!({
        // SAFETY: `l` is NULL or a live lock (the header's contract).
        answer(unsafe { object(l, "lock") }.map(|l| l.lock.locked()))
    })
}

/// Makes an unlocked re-entrant lock. The caller owns it and frees it with
/// `hilo_rlock_free`.
///
/// @return the new re-entrant lock. Never NULL.
#[no_mangle]
pub extern "C" fn hilo_rlock_new() -> *mut hilo_rlock {
    ffi_boundary!({
        into_c(hilo_rlock {
            rlock: Arc::new(sync::RLock::new()),
        })
    })
}

/// Frees a re-entrant lock. NULL is fine. Freeing one that a thread still
/// holds, uses or waits on is undefined behaviour. A condition made with
/// `hilo_cond_new_with_rlock` keeps its own reference to the lock, so the
/// lock may be freed before the condition.
///
/// @param r the re-entrant lock, or NULL
#[no_mangle]
pub extern "C" fn hilo_rlock_free(r: *mut hilo_rlock) {
    ffi_boundary!({
        // SAFETY: `r` is NULL or from hilo_rlock_new, freed once (documented).
        unsafe { free(r) }
    })
}

/// Acquires the re-entrant lock. The thread that holds it acquires it again
/// at once, and must then release it once more. Otherwise as
/// `hilo_lock_acquire`: `blocking` false tries once; `blocking` true waits
/// at most `timeout` seconds (negative or +infinity: forever).
///
/// @param r the re-entrant lock
/// @param blocking false to try once, true to wait
/// @param timeout the longest wait in seconds when `blocking`; negative or
/// +infinity: forever; must be negative (`HILO_FOREVER`) when not `blocking`
/// @return 1 when acquired, 0 when not; `HILO_EINVAL` when `r` is NULL,
/// `timeout` is NaN, or `blocking` is false with a `timeout` >= 0 ("can't
/// specify a timeout for a non-blocking call"); `HILO_ESTATE` when its owner
/// has acquired it 2^64 - 1 times ("Internal lock count overflowed");
/// `HILO_EINTR` when a signal handler ran during the wait of an
/// interruptible thread (`hilo_set_interruptible`).
#[no_mangle]
pub extern "C" fn hilo_rlock_acquire(r: *mut hilo_rlock, blocking: bool, timeout: f64) -> c_int {
    ffi_boundary!({
        // SAFETY: `r` is NULL or a live rlock (the header's contract).
        let r = unsafe { object(r, "rlock") };
        acquire(r, blocking, timeout, |r, wait| r.rlock.acquire(wait))
    })
}

/// Releases the re-entrant lock once; it is unlocked when its owner has
/// released it as many times as it acquired it.
///
/// @param r the re-entrant lock
/// @return `HILO_OK`; `HILO_ESTATE` when the calling thread does not hold it
/// ("cannot release un-acquired lock"); `HILO_EINVAL` when `r` is NULL.
#[no_mangle]
pub extern "C" fn hilo_rlock_release(r: *mut hilo_rlock) -> c_int {
    ffi_boundary!({
        // SAFETY: `r` is NULL or a live rlock (the header's contract).
        status(unsafe { object(r, "rlock") }.and_then(|r| r.rlock.release()))
    })
}

/// Tells whether the re-entrant lock is held by any thread. Lock-free.
///
/// @param r the re-entrant lock
/// @return 1 when it is held, 0 when not, `HILO_EINVAL` when `r` is NULL.
#[no_mangle]
pub extern "C" fn hilo_rlock_locked(r: *const hilo_rlock) -> c_int {
    ffi_boundary!({
        // SAFETY: `r` is NULL or a live rlock (the header's contract).
        answer(unsafe { object(r, "rlock") }.map(|r| r.rlock.locked()))
    })
}
