//! Thread-local values (Python's `threading.local`), over `sync::Local`.

// The C name of the opaque object type.
#![allow(non_camel_case_types)]

use std::ffi::{c_int, c_void};

use super::{ffi_boundary, free, into_c, object, or_null, status};
use crate::sync;

/// A thread-local value: one pointer per thread (Python's
/// `threading.local`). Opaque; made by `hilo_local_new`, freed by
/// `hilo_local_free`.
pub struct hilo_local {
    local: sync::Local,
}

/// Makes a thread-local value: each thread sees its own pointer, NULL until
/// it sets one. When a thread that set a non-NULL value ends (a hilo thread,
/// or any other thread, such as one made by `pthread_create`), `dtor` (if
/// not NULL) is called on that thread with the value. It is not called for
/// the thread that calls `exit()` or returns from `main`. On a hilo thread
/// it runs right after the target returns (or calls `pthread_exit`), on that
/// thread, which is still alive and itself (`hilo_current_name` gives its
/// name): every `hilo_join` that returns `HILO_OK` returns after it. On other
/// threads it runs as pthread runs key destructors.
///
/// The caller owns the object and frees it with `hilo_local_free`. Built on
/// `pthread_key_create`, so the usual limit of `PTHREAD_KEYS_MAX` (1024 on
/// Linux, shared with the rest of the process) applies.
///
/// @param dtor called with a thread's non-NULL value when that thread ends,
/// or NULL
/// @return the new thread-local; NULL when the operating system has no
/// thread-local key left, or no memory (`hilo_last_error()` says so).
#[no_mangle]
pub extern "C" fn hilo_local_new(
    dtor: Option<unsafe extern "C" fn(value: *mut c_void)>,
) -> *mut hilo_local {
    ffi_boundary!({ or_null(sync::Local::new(dtor).map(|local| into_c(hilo_local { local }))) })
}

/// Frees a thread-local value. NULL is fine. Values that threads still have
/// set are not passed to the destructor (as with `pthread_key_delete`):
/// their owners must free them. Using `l` on any thread afterwards is
/// undefined behaviour.
///
/// @param l the thread-local, or NULL
#[no_mangle]
pub extern "C" fn hilo_local_free(l: *mut hilo_local) {
    ffi_boundary!({
        // SAFETY: `l` is NULL or from hilo_local_new, freed once (documented).
        unsafe { free(l) }
    })
}

/// Reads the calling thread's value.
///
/// @param l the thread-local
/// @return the calling thread's value, or NULL when this thread set none
/// (or set NULL). Also NULL when `l` is NULL, with `hilo_last_error()` set.
#[no_mangle]
pub extern "C" fn hilo_local_get(l: *const hilo_local) -> *mut c_void {
    ffi_boundary!({
        // SAFETY: `l` is NULL or a live thread-local (the header's contract).
        or_null(unsafe { object(l, "local") }.map(|l| l.local.get()))
    })
}

/// Sets the calling thread's value; the previous value is replaced without
/// calling the destructor on it (the caller still owns it). NULL clears it.
///
/// @param l the thread-local
/// @param value the calling thread's new value, or NULL
/// @return `HILO_OK`; `HILO_EINVAL` when `l` is NULL; `HILO_EAGAIN` when the
/// operating system has no memory for it.
#[no_mangle]
pub extern "C" fn hilo_local_set(l: *mut hilo_local, value: *mut c_void) -> c_int {
    ffi_boundary!({
        // SAFETY: `l` is NULL or a live thread-local (the header's contract).
        status(unsafe { object(l, "local") }.and_then(|l| l.local.set(value)))
    })
}
