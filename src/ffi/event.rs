//! Event (Python's `threading.Event`), over `sync::Event`.

// The C name of the opaque object type.
#![allow(non_camel_case_types)]

use std::ffi::c_int;

use super::{answer, ffi_boundary, free, into_c, object, status, timeout};
use crate::sync;

/// An event: a flag that threads can wait for (Python's `threading.Event`).
/// Opaque; made by `hilo_event_new`, freed by `hilo_event_free`.
pub struct hilo_event {
    event: sync::Event,
}

/// Makes an event whose flag is clear. The caller owns it and frees it with
/// `hilo_event_free`.
///
/// @return the new event. Never NULL (hilo aborts if memory runs out, as Rust
/// does).
#[no_mangle]
pub extern "C" fn hilo_event_new() -> *mut hilo_event {
    ffi_boundary!({
        into_c(hilo_event {
            event: sync::Event::new(),
        })
    })
}

/// Frees an event. NULL is fine. Freeing an event that a thread still uses
/// or waits on is undefined behaviour.
///
/// @param e the event, or NULL
#[no_mangle]
pub extern "C" fn hilo_event_free(e: *mut hilo_event) {
    ffi_boundary!({
        // SAFETY: `e` is NULL or from hilo_event_new, freed once (documented).
        unsafe { free(e) }
    })
}

/// Sets the flag and wakes every thread waiting in `hilo_event_wait`.
///
/// @param e the event
/// @return `HILO_OK`, or `HILO_EINVAL` when `e` is NULL.
#[no_mangle]
pub extern "C" fn hilo_event_set(e: *mut hilo_event) -> c_int {
    ffi_boundary!({
        // SAFETY: `e` is NULL or a live event (the header's contract).
        status(unsafe { object(e, "event") }.map(|e| e.event.set()))
    })
}

/// Clears the flag: later waits block until the next `hilo_event_set`.
///
/// @param e the event
/// @return `HILO_OK`, or `HILO_EINVAL` when `e` is NULL.
#[no_mangle]
pub extern "C" fn hilo_event_clear(e: *mut hilo_event) -> c_int {
    ffi_boundary!({
        // SAFETY: `e` is NULL or a live event (the header's contract).
        status(unsafe { object(e, "event") }.map(|e| e.event.clear()))
    })
}

/// Tells whether the flag is set. Lock-free.
///
/// @param e the event
/// @return 1 when the flag is set, 0 when clear, `HILO_EINVAL` when `e` is
/// NULL.
#[no_mangle]
pub extern "C" fn hilo_event_is_set(e: *const hilo_event) -> c_int {
    ffi_boundary!({
        // SAFETY: `e` is NULL or a live event (the header's contract).
        answer(unsafe { object(e, "event") }.map(|e| e.event.is_set()))
    })
}

/// Waits until the flag is set, at most `timeout` seconds (negative or
/// +infinity: forever; 0: do not wait).
///
/// @param e the event
/// @param timeout the longest wait in seconds; negative or +infinity: forever
/// @return 1 when the flag is set, or a `hilo_event_set` woke this waiter
/// (even if the flag was cleared again before it ran); 0 when the timeout
/// expired first; `HILO_EINVAL` when `e` is NULL or `timeout` is NaN;
/// `HILO_EINTR` when a signal handler ran during the wait of an
/// interruptible thread (`hilo_set_interruptible`).
#[no_mangle]
pub extern "C" fn hilo_event_wait(e: *mut hilo_event, timeout: f64) -> c_int {
    ffi_boundary!({
        // SAFETY: `e` is NULL or a live event (the header's contract).
        let waited = unsafe { object(e, "event") }.and_then(|e| {
            let deadline = timeout::deadline(timeout)?;
            e.event.wait(deadline)
        });
        answer(waited)
    })
}
