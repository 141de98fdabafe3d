//! Timer (Python's `threading.Timer`), over src/timer.rs.

use std::ffi::{c_int, c_void};
use std::time::Duration;

use super::{ffi_boundary, handle_out, hilo_fn, hilo_thread_t, null_argument, status};
use crate::error::Error;
use crate::timer;

/// A timer's interval as a delay: as in Python, 0 or less fires at once;
/// +infinity (or too long to represent) waits until cancelled; NaN is
/// invalid. Not a timeout: negative does not mean forever.
fn delay(interval: f64) -> Result<Option<Duration>, Error> {
    if interval.is_nan() {
        return Err(Error::invalid("interval must be a number, not NaN"));
    }
    if interval <= 0.0 {
        return Ok(Some(Duration::ZERO));
    }
    Ok(Duration::try_from_secs_f64(interval).ok())
}

/// Makes a timer: an unstarted thread that, once started with `hilo_start`,
/// waits `interval` seconds and then calls `fn(arg)`, unless
/// `hilo_timer_cancel` came first. As in Python, an `interval` of 0 or less
/// calls it at once (this is not a timeout: negative does not mean
/// forever); +infinity waits until cancelled.
///
/// The handle written to `*out` is an ordinary thread handle: its default
/// name is "Thread-N", its daemon flag is inherited from the calling thread,
/// and `hilo_start`, `hilo_join`, `hilo_set_name`, `hilo_set_daemon`,
/// `hilo_release` all apply. `hilo_join` gives `fn`'s return value, or NULL
/// when it was cancelled.
///
/// @param interval seconds from the start to the call; 0 or less: at once
/// @param fn the function called when the interval has passed; not NULL
/// @param arg passed to `fn` as is
/// @param out where the new handle is written; not NULL
/// @return `HILO_OK`; `HILO_EINVAL` when `fn` or `out` is NULL or `interval`
/// is NaN (nothing is written); `HILO_EAGAIN` when too many thread records
/// exist.
#[no_mangle]
pub extern "C" fn hilo_timer_create(
    interval: f64,
    r#fn: hilo_fn,
    arg: *mut c_void,
    out: *mut hilo_thread_t,
) -> c_int {
    ffi_boundary!({
        let Some(function) = r#fn else {
            return status(Err(null_argument("fn")));
        };
        if out.is_null() {
            return status(Err(null_argument("out")));
        }
        handle_out(
            out,
            delay(interval).and_then(|delay| timer::create_timer(delay, function, arg)),
        )
    })
}

/// Stops a timer: if its function has not begun to run, it never will, and
/// a started timer's thread ends at once. Cancelling before the start, or
/// after the function ran, or twice, is fine.
///
/// @param t the timer's handle, from `hilo_timer_create`
/// @return `HILO_OK`; `HILO_ESRCH` for an unknown or released handle;
/// `HILO_EINVAL` for a thread not made by `hilo_timer_create` ("not a timer:
/// ...").
#[no_mangle]
pub extern "C" fn hilo_timer_cancel(t: hilo_thread_t) -> c_int {
    ffi_boundary!({ status(timer::cancel_timer(t)) })
}
