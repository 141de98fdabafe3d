//! Status codes, the error type of the thread manager, and the per-thread
//! "last error" message that `hilo_last_error` returns.

use std::borrow::Cow;
use std::cell::RefCell;
use std::ffi::{c_char, CString};

/// Why a call failed. Each kind maps to one `HILO_E*` status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Invalid,
    NoSuchThread,
    State,
    Deadlock,
    TimedOut,
    Again,
    Broken,
    Internal,
}

/// A failed call: its kind and the message `hilo_last_error` gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: Kind,
    pub message: Cow<'static, str>,
}

impl Error {
    pub fn new(kind: Kind, message: impl Into<Cow<'static, str>>) -> Error {
        Error {
            kind,
            message: message.into(),
        }
    }
    pub fn invalid(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(Kind::Invalid, message)
    }
    pub fn state(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(Kind::State, message)
    }
    pub fn no_such_thread() -> Error {
        Error::new(
            Kind::NoSuchThread,
            "no such thread: the handle was never issued or has been released",
        )
    }
    pub fn timed_out() -> Error {
        Error::new(Kind::TimedOut, "timed out")
    }
}

pub type Result<T> = std::result::Result<T, Error>;

use crate::ffi::{
    HILO_EAGAIN as EAGAIN, HILO_EBROKEN as EBROKEN, HILO_EDEADLK as EDEADLK,
    HILO_EINTERNAL as EINTERNAL, HILO_EINVAL as EINVAL, HILO_ESRCH as ESRCH, HILO_ESTATE as ESTATE,
    HILO_ETIMEDOUT as ETIMEDOUT, HILO_OK as OK,
};

impl Kind {
    pub fn code(self) -> i32 {
        match self {
            Kind::Invalid => EINVAL,
            Kind::NoSuchThread => ESRCH,
            Kind::State => ESTATE,
            Kind::Deadlock => EDEADLK,
            Kind::TimedOut => ETIMEDOUT,
            Kind::Again => EAGAIN,
            Kind::Broken => EBROKEN,
            Kind::Internal => EINTERNAL,
        }
    }
}

/// The static text for a status code, NUL-terminated for C.
pub fn strerror(status: i32) -> &'static [u8] {
    match status {
        OK => b"success\0",
        EINVAL => b"invalid argument\0",
        ESRCH => b"no such thread\0",
        ESTATE => b"not allowed in the current state\0",
        EDEADLK => b"the call would wait forever\0",
        ETIMEDOUT => b"timed out\0",
        EAGAIN => b"the operating system refused a thread\0",
        EBROKEN => b"broken barrier\0",
        EINTERNAL => b"internal error in hilo\0",
        _ => b"unknown status code\0",
    }
}

thread_local! {
    // No value until the thread's first failing call, so threads that never
    // fail never touch it (no allocation, no destructor registration).
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Records `err` as the calling thread's last error and returns its status.
pub fn record(err: &Error) -> i32 {
    // Interior NUL bytes cannot come from our own texts; names quoted in a
    // message come from C strings, which have none.
    let text = CString::new(err.message.as_bytes().to_vec())
        .unwrap_or_else(|_| CString::from(c"(message with a NUL byte)"));
    // `try_with` fails only while the thread's TLS is being torn down; the
    // status code still reaches the caller then.
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = Some(text));
    err.kind.code()
}

/// The calling thread's last error message, or "" when nothing failed yet.
/// The pointer stays valid until the thread's next failing call or its end.
pub fn last_error_ptr() -> *const c_char {
    LAST_ERROR
        .try_with(|slot| match &*slot.borrow() {
            Some(text) => text.as_ptr(),
            None => c"".as_ptr(),
        })
        .unwrap_or(c"".as_ptr())
}
