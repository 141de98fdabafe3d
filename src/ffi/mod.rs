//! The C boundary: argument checks, type conversion (C's seconds into
//! deadlines, in `timeout`), status codes (`error`), and one panic boundary
//! around every exported function. No thread logic lives here. One file per
//! object family, mirroring the core: `thread` (src/threads.rs, with the
//! process-wide calls), `event`, `lock`, `condition`, `semaphore`, `barrier`
//! and `local` (src/sync/), `timer` (src/timer.rs), `executor`
//! (src/executor.rs).
//!
//! The exported functions take raw pointers from C and check them for NULL;
//! they are entry points for C, where Rust's `unsafe fn` means nothing, so
//! clippy's `not_unsafe_ptr_arg_deref` is allowed here.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::ffi::{c_char, c_int, c_void, CStr};

use crate::error::{Error, Result};
use crate::sync::Wait;

// Declared in the order the header lists their items (cbindgen follows the
// declarations): status codes and texts, the timeout and version constants,
// threads, then the sync objects.
mod error;
mod timeout;
mod version;

mod thread;

mod event;
mod lock;

mod condition;
mod semaphore;

mod barrier;
mod timer;

mod executor;

mod local;

pub use barrier::*;
pub use condition::*;
pub use error::*;
pub use event::*;
pub use executor::*;
pub use local::*;
pub use lock::*;
pub use semaphore::*;
pub use thread::*;
pub use timeout::HILO_FOREVER;
pub use timer::*;
pub use version::*;

/// What an exported function returns when its body panicked, chosen once
/// per return type: a status code says `HILO_EINTERNAL`, a handle or a count
/// 0, a string "" (those functions never return NULL), an object pointer
/// NULL. The panic's message is recorded as the last error either way.
pub(crate) trait PanicOrDefault {
    fn value() -> Self;
}

impl PanicOrDefault for c_int {
    fn value() -> c_int {
        HILO_EINTERNAL
    }
}

impl PanicOrDefault for i64 {
    fn value() -> i64 {
        i64::from(HILO_EINTERNAL)
    }
}

/// `hilo_thread_t`: 0 is never a valid handle.
impl PanicOrDefault for u64 {
    fn value() -> u64 {
        0
    }
}

impl PanicOrDefault for usize {
    fn value() -> usize {
        0
    }
}

impl PanicOrDefault for () {
    fn value() {}
}

impl PanicOrDefault for *const c_char {
    fn value() -> *const c_char {
        c"".as_ptr()
    }
}

impl<T> PanicOrDefault for *mut T {
    fn value() -> *mut T {
        std::ptr::null_mut()
    }
}

/// Runs an exported function's body, turning a Rust panic into the return
/// type's `PanicOrDefault` value with `HILO_EINTERNAL` recorded as the
/// calling thread's last error.
macro_rules! ffi_boundary {
    ($body:block) => {
        match ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| $body)) {
            Ok(value) => value,
            Err(payload) => {
                $crate::ffi::error::record_panic(payload);
                $crate::ffi::PanicOrDefault::value()
            }
        }
    };
}
pub(crate) use ffi_boundary;

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
            // a hilo_thread_t (the header's contract).
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

/// A count for C's int (saturating), or the error's status.
pub(crate) fn count(result: Result<u32>) -> c_int {
    match result {
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(err) => error::record(&err),
    }
}

/// The `acquire` of a lock-like object, with C's `(blocking, timeout)`
/// checked first: 1 acquired, 0 not, or the error's status.
pub(crate) fn acquire<T>(
    object: Result<&T>,
    blocking: bool,
    seconds: f64,
    acquire: impl FnOnce(&T, Wait) -> Result<bool>,
) -> c_int {
    answer(object.and_then(|object| acquire(object, timeout::acquire_wait(blocking, seconds)?)))
}

/// A pointer for C, or NULL with the error recorded as the last error.
pub(crate) fn or_null<T>(result: Result<*mut T>) -> *mut T {
    result.unwrap_or_else(|err| {
        error::record(&err);
        std::ptr::null_mut()
    })
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

/// Moves a new object to the heap and hands it to C, which owns it until
/// the matching `*_free`.
pub(crate) fn into_c<T>(object: T) -> *mut T {
    Box::into_raw(Box::new(object))
}

/// Frees an object made by `into_c`; NULL is fine.
///
/// # Safety
/// `ptr` is NULL or came from `into_c` and is freed once, with no thread
/// still using it (the header documents anything else as undefined).
pub(crate) unsafe fn free<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: as the caller guarantees.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// The object behind a C pointer; `HILO_EINVAL` for NULL.
///
/// # Safety
/// `ptr` is NULL or points to a live object made by the matching `*_new`.
pub(crate) unsafe fn object<'a, T>(ptr: *const T, what: &str) -> Result<&'a T> {
    // SAFETY: as the caller guarantees.
    unsafe { ptr.as_ref() }.ok_or_else(|| null_argument(what))
}

/// A C pointer handed to the C function it came with, on another thread.
pub(crate) struct CPointer(pub *mut c_void);

// SAFETY: hilo never reads the pointee; it only hands the pointer back to
// the caller's function, as pthread_create hands over its argument.
unsafe impl Send for CPointer {}
// SAFETY: as above.
unsafe impl Sync for CPointer {}

impl CPointer {
    pub(crate) fn get(&self) -> *mut c_void {
        self.0
    }
}
