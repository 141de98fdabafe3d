//! The error type of the thread manager: why a call failed, and the message
//! for the caller. It knows nothing of C: the C layer maps each kind to a
//! status code (src/ffi/error.rs).

use std::borrow::Cow;

/// Why a call failed.
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
    /// Work was cancelled before it ran (futures).
    Canceled,
    /// A signal handler ran during the wait, and the thread asked to be told.
    Interrupted,
}

/// A failed call: its kind, and a message in Python's words where Python
/// has them.
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

/// A wait that a signal handler interrupted (src/interrupt.rs).
impl From<crate::interrupt::Interrupted> for Error {
    fn from(_: crate::interrupt::Interrupted) -> Error {
        Error::new(
            Kind::Interrupted,
            "interrupted: a signal handler ran while this thread waited",
        )
    }
}

pub type Result<T> = std::result::Result<T, Error>;
