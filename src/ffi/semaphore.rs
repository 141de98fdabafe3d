//! Semaphore and bounded semaphore (Python's `threading.Semaphore` and
//! `threading.BoundedSemaphore`), over `sync::Semaphore`.

// The C name of the opaque object type.
#![allow(non_camel_case_types)]

use std::ffi::c_int;

use super::record;
use super::{acquire, ffi_boundary, free, into_c, object, status};
use crate::sync;

/// A counting semaphore, bounded or not (Python's `threading.Semaphore` and
/// `threading.BoundedSemaphore`). Opaque; made by `hilo_sem_new` or
/// `hilo_sem_new_bounded`, freed by `hilo_sem_free`.
pub struct hilo_sem {
    sem: sync::Semaphore,
}

/// Makes a semaphore with the given initial value. The caller owns it and
/// frees it with `hilo_sem_free`.
///
/// @param value the initial value
/// @return the new semaphore. Never NULL.
#[no_mangle]
pub extern "C" fn hilo_sem_new(value: u32) -> *mut hilo_sem {
    ffi_boundary!({
        into_c(hilo_sem {
            sem: sync::Semaphore::new(value),
        })
    })
}

/// Makes a bounded semaphore: releases never take its value above the
/// initial `value`. The caller owns it and frees it with `hilo_sem_free`.
///
/// @param value the initial value, which is also the bound
/// @return the new semaphore. Never NULL.
#[no_mangle]
pub extern "C" fn hilo_sem_new_bounded(value: u32) -> *mut hilo_sem {
    ffi_boundary!({
        into_c(hilo_sem {
            sem: sync::Semaphore::bounded(value),
        })
    })
}

/// Frees a semaphore. NULL is fine. Freeing a semaphore that a thread still
/// uses or waits on is undefined behaviour.
///
/// @param s the semaphore, or NULL
#[no_mangle]
pub extern "C" fn hilo_sem_free(s: *mut hilo_sem) {
    ffi_boundary!({
        // SAFETY: `s` is NULL or from hilo_sem_new*, freed once (documented).
        unsafe { free(s) }
    })
}

/// Takes one unit: decrements the value when it is above 0, else waits for
/// a release. `blocking` false tries once; `blocking` true waits at most
/// `timeout` seconds (negative or +infinity: forever; 0: do not wait).
///
/// @param s the semaphore
/// @param blocking false to try once, true to wait
/// @param timeout the longest wait in seconds when `blocking`; negative or
/// +infinity: forever; must be negative (`HILO_FOREVER`) when not `blocking`
/// @return 1 when a unit was taken, 0 when not; `HILO_EINVAL` when `s` is
/// NULL, `timeout` is NaN, or `blocking` is false with a `timeout` >= 0
/// ("can't specify a timeout for a non-blocking call"); `HILO_EINTR` when a signal handler ran during the wait of an
/// interruptible thread (`hilo_set_interruptible`).
#[no_mangle]
pub extern "C" fn hilo_sem_acquire(s: *mut hilo_sem, blocking: bool, timeout: f64) -> c_int {
    ffi_boundary!({
        // SAFETY: `s` is NULL or a live semaphore (the header's contract).
        let s = unsafe { object(s, "semaphore") };
        acquire(s, blocking, timeout, |s, wait| s.sem.acquire(wait))
    })
}

/// Adds `n` units to the value, waking up to `n` waiting threads. Any thread
/// may release. On an error the value is unchanged.
///
/// @param s the semaphore
/// @param n how many units to add; 1 or more
/// @return `HILO_OK`; `HILO_EINVAL` when `s` is NULL or `n` is 0 ("n must be
/// one or more"); `HILO_ESTATE` when a bounded semaphore would go above its
/// initial value ("Semaphore released too many times") or an unbounded one
/// above UINT32_MAX ("Semaphore value would overflow: ...").
#[no_mangle]
pub extern "C" fn hilo_sem_release(s: *mut hilo_sem, n: u32) -> c_int {
    ffi_boundary!({
        // SAFETY: `s` is NULL or a live semaphore (the header's contract).
        status(unsafe { object(s, "semaphore") }.and_then(|s| s.sem.release(n)))
    })
}

/// Reads the semaphore's value. The value may change as soon as it is read;
/// for diagnostics and tests, as Python's `_value`.
///
/// @param s the semaphore
/// @return the semaphore's current value (0 to UINT32_MAX), or `HILO_EINVAL`
/// when `s` is NULL.
#[no_mangle]
pub extern "C" fn hilo_sem_value(s: *const hilo_sem) -> i64 {
    ffi_boundary!({
        // SAFETY: `s` is NULL or a live semaphore (the header's contract).
        match unsafe { object(s, "semaphore") } {
            Ok(s) => i64::from(s.sem.value()),
            Err(err) => i64::from(record(&err)),
        }
    })
}
