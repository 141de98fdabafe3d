//! The C boundary: argument checks, type conversion, status codes, and one
//! panic boundary around every exported function. No thread logic lives here.
//!
//! The exported functions take raw pointers from C and check them for NULL;
//! they are entry points for C, where Rust's `unsafe fn` means nothing, so
//! clippy's `not_unsafe_ptr_arg_deref` is allowed here.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::ffi::{c_char, c_int, CStr};

use crate::error::{self, Error, Result};

mod thread;

// Section 5 of API.md; declared after `thread`, which cbindgen follows, so
// that the header lists the thread API first.
mod sync;

pub use sync::*;
pub use thread::*;

/// Success.
pub const HILO_OK: c_int = 0;
/// An argument is invalid: NULL where a pointer is required, a NaN timeout, a
/// stack size out of range, and so on.
pub const HILO_EINVAL: c_int = -1;
/// The handle names no thread: it was never issued, or it was released.
pub const HILO_ESRCH: c_int = -2;
/// The thread (or object) is not in a state that allows the call: started
/// twice, joined before start, daemon set after start, released the main
/// thread, released an unlocked lock, ...
pub const HILO_ESTATE: c_int = -3;
/// The call would wait forever: joining the calling thread itself, or a join
/// that would close a cycle of joins (A joins B while B joins A).
pub const HILO_EDEADLK: c_int = -4;
/// The timeout expired first.
pub const HILO_ETIMEDOUT: c_int = -5;
/// The operating system refused a thread (memory, limits).
pub const HILO_EAGAIN: c_int = -6;
/// A barrier is broken (reset, aborted, or a wait timed out).
pub const HILO_EBROKEN: c_int = -7;
/// A bug inside hilo was caught; hilo never unwinds into C.
pub const HILO_EINTERNAL: c_int = -8;

/// A timeout meaning "wait forever". Any negative timeout and +infinity mean
/// the same; 0 means "do not wait"; NaN is `HILO_EINVAL`.
pub const HILO_FOREVER: f64 = -1.0;

/// The major version; `hilo_version()` gives the whole version string.
pub const HILO_VERSION_MAJOR: u32 = 0;
/// The minor version.
pub const HILO_VERSION_MINOR: u32 = 1;
/// The patch version.
pub const HILO_VERSION_PATCH: u32 = 0;

const fn parse_u32(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

// The header's version macros must match Cargo.toml.
const _: () = assert!(HILO_VERSION_MAJOR == parse_u32(env!("CARGO_PKG_VERSION_MAJOR")));
const _: () = assert!(HILO_VERSION_MINOR == parse_u32(env!("CARGO_PKG_VERSION_MINOR")));
const _: () = assert!(HILO_VERSION_PATCH == parse_u32(env!("CARGO_PKG_VERSION_PATCH")));

/// Runs an exported function's body, turning a Rust panic into `$fallback`
/// with `HILO_EINTERNAL` recorded as the calling thread's last error.
macro_rules! ffi_boundary {
    ($fallback:expr, $body:block) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(value) => value,
            Err(payload) => {
                $crate::ffi::record_panic(payload);
                $fallback
            }
        }
    };
}
pub(crate) use ffi_boundary;

pub(crate) fn record_panic(payload: Box<dyn std::any::Any + Send>) {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    error::record(&Error::new(
        error::Kind::Internal,
        format!("internal error in hilo (please report it): {what}"),
    ));
}

/// The status code of a result, recording its error as the last error.
pub(crate) fn status(result: Result<()>) -> c_int {
    match result {
        Ok(()) => HILO_OK,
        Err(err) => error::record(&err),
    }
}

/// Writes a new handle to the caller's out-parameter on success (which the
/// caller checked is not NULL), or records the error; returns the status.
pub(crate) fn handle_out(out: *mut u64, created: Result<u64>) -> c_int {
    match created {
        Ok(handle) => {
            // SAFETY: the caller checked that `out` is not NULL; it points to
            // a hilo_thread_t (API.md 2).
            unsafe { out.write(handle) };
            HILO_OK
        }
        Err(err) => error::record(&err),
    }
}

/// A yes/no answer as 1 or 0, or the status code of the error.
pub(crate) fn answer(result: Result<bool>) -> c_int {
    match result {
        Ok(yes) => c_int::from(yes),
        Err(err) => error::record(&err),
    }
}

/// A required C string argument.
///
/// # Safety
/// `text` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn required_str<'a>(text: *const c_char, what: &str) -> Result<&'a CStr> {
    if text.is_null() {
        return Err(Error::invalid(format!("{what} must not be NULL")));
    }
    // SAFETY: non-null and NUL-terminated, as the caller guarantees.
    Ok(unsafe { CStr::from_ptr(text) })
}

pub(crate) fn null_argument(what: &str) -> Error {
    Error::invalid(format!("{what} must not be NULL"))
}
