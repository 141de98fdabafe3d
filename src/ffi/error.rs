//! Status codes: each one's value, the core error kind it stands for and
//! its text, in one table (as libuv's `UV_ERRNO_MAP` gives each errno its
//! code and text in one place); the per-thread "last error" message; and
//! `hilo_strerror` and `hilo_last_error`.

use std::cell::UnsafeCell;
use std::ffi::{c_char, c_int, CStr};

use super::ffi_boundary;
use crate::error::{Error, Kind};

/// The status codes, as a C enum so that tools which read the header
/// without its macros (LuaJIT's `ffi.cdef`, cffi's `cdef`) keep them.
/// Functions still return `int` (yes/no answers and counts share the return
/// value with the statuses), so compare the int with these values:
/// `if (hilo_join(t, 1.0, NULL) == HILO_ETIMEDOUT)`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum hilo_status {
    /// Success.
    HILO_OK = 0,
    /// An argument is invalid: NULL where a pointer is required, a NaN timeout, a
    /// stack size out of range, and so on.
    HILO_EINVAL = -1,
    /// The handle names no thread: it was never issued, or it was released.
    HILO_ESRCH = -2,
    /// The thread (or object) is not in a state that allows the call: started
    /// twice, joined before start, daemon set after start, released the main
    /// thread, released an unlocked lock, ...
    HILO_ESTATE = -3,
    /// The call would wait forever: joining the calling thread itself, or a join
    /// that would close a cycle of joins (A joins B while B joins A).
    HILO_EDEADLK = -4,
    /// The timeout expired first.
    HILO_ETIMEDOUT = -5,
    /// The operating system refused a thread (memory, limits).
    HILO_EAGAIN = -6,
    /// A barrier is broken (reset, aborted, or a wait timed out).
    HILO_EBROKEN = -7,
    /// A bug inside hilo was caught; hilo never unwinds into C.
    HILO_EINTERNAL = -8,
    /// The work was cancelled before it ran (futures).
    HILO_ECANCELED = -9,
    /// A signal handler ran while the calling thread waited, and the thread
    /// asked to be told (`hilo_set_interruptible`).
    HILO_EINTR = -10,
}

// The same values as Rust `c_int`s, what the functions return (left out
// of the header by cbindgen.toml: C has the enum).
/// `hilo_status::HILO_OK` as the `int` the functions return.
pub const HILO_OK: c_int = hilo_status::HILO_OK as c_int;
/// `hilo_status::HILO_EINVAL` as the `int` the functions return.
pub const HILO_EINVAL: c_int = hilo_status::HILO_EINVAL as c_int;
/// `hilo_status::HILO_ESRCH` as the `int` the functions return.
pub const HILO_ESRCH: c_int = hilo_status::HILO_ESRCH as c_int;
/// `hilo_status::HILO_ESTATE` as the `int` the functions return.
pub const HILO_ESTATE: c_int = hilo_status::HILO_ESTATE as c_int;
/// `hilo_status::HILO_EDEADLK` as the `int` the functions return.
pub const HILO_EDEADLK: c_int = hilo_status::HILO_EDEADLK as c_int;
/// `hilo_status::HILO_ETIMEDOUT` as the `int` the functions return.
pub const HILO_ETIMEDOUT: c_int = hilo_status::HILO_ETIMEDOUT as c_int;
/// `hilo_status::HILO_EAGAIN` as the `int` the functions return.
pub const HILO_EAGAIN: c_int = hilo_status::HILO_EAGAIN as c_int;
/// `hilo_status::HILO_EBROKEN` as the `int` the functions return.
pub const HILO_EBROKEN: c_int = hilo_status::HILO_EBROKEN as c_int;
/// `hilo_status::HILO_EINTERNAL` as the `int` the functions return.
pub const HILO_EINTERNAL: c_int = hilo_status::HILO_EINTERNAL as c_int;
/// `hilo_status::HILO_ECANCELED` as the `int` the functions return.
pub const HILO_ECANCELED: c_int = hilo_status::HILO_ECANCELED as c_int;
/// `hilo_status::HILO_EINTR` as the `int` the functions return.
pub const HILO_EINTR: c_int = hilo_status::HILO_EINTR as c_int;

/// One status: its code, the core error kind it reports (None for
/// `HILO_OK`), and its text for `hilo_strerror`.
struct Status {
    code: c_int,
    kind: Option<Kind>,
    text: &'static CStr,
}

/// Every status, once.
const STATUSES: [Status; 11] = [
    Status {
        code: HILO_OK,
        kind: None,
        text: c"success",
    },
    Status {
        code: HILO_EINVAL,
        kind: Some(Kind::Invalid),
        text: c"invalid argument",
    },
    Status {
        code: HILO_ESRCH,
        kind: Some(Kind::NoSuchThread),
        text: c"no such thread",
    },
    Status {
        code: HILO_ESTATE,
        kind: Some(Kind::State),
        text: c"not allowed in the current state",
    },
    Status {
        code: HILO_EDEADLK,
        kind: Some(Kind::Deadlock),
        text: c"the call would wait forever",
    },
    Status {
        code: HILO_ETIMEDOUT,
        kind: Some(Kind::TimedOut),
        text: c"timed out",
    },
    Status {
        code: HILO_EAGAIN,
        kind: Some(Kind::Again),
        text: c"the operating system refused a thread",
    },
    Status {
        code: HILO_EBROKEN,
        kind: Some(Kind::Broken),
        text: c"broken barrier",
    },
    Status {
        code: HILO_EINTERNAL,
        kind: Some(Kind::Internal),
        text: c"internal error in hilo",
    },
    Status {
        code: HILO_ECANCELED,
        kind: Some(Kind::Canceled),
        text: c"the work was cancelled",
    },
    Status {
        code: HILO_EINTR,
        kind: Some(Kind::Interrupted),
        text: c"interrupted by a signal",
    },
];

/// The status code of an error kind.
fn code(kind: Kind) -> c_int {
    STATUSES
        .iter()
        .find(|status| status.kind == Some(kind))
        .map_or(HILO_EINTERNAL, |status| status.code)
}

/// The static text of a status code.
fn text(code: c_int) -> &'static CStr {
    STATUSES
        .iter()
        .find(|status| status.code == code)
        .map_or(c"unknown status code", |status| status.text)
}

/// The longest message `hilo_last_error` gives, in bytes, without its NUL.
/// A longer one (a cycle of joins between threads with long names) is cut
/// on a UTF-8 character boundary and ends with "...".
const LAST_ERROR_MAX: usize = 511;
const CUT_MARK: &[u8] = b"...";

thread_local! {
    // One fixed buffer per thread, overwritten in place by every failing
    // call: its address never changes while the thread lives, so a pointer
    // that `hilo_last_error` gave stays valid and shows the latest message,
    // whichever order C evaluates `printf("%d %s", hilo_join(...),
    // hilo_last_error())` in. Const-initialised with no destructor: no
    // allocation, no TLS destructor, readable during TLS teardown. Zeroed:
    // "" until the first failure.
    static LAST_ERROR: UnsafeCell<[u8; LAST_ERROR_MAX + 1]> =
        const { UnsafeCell::new([0; LAST_ERROR_MAX + 1]) };
}

/// Records `err` as the calling thread's last error and returns its status.
pub(crate) fn record(err: &Error) -> c_int {
    // Interior NUL bytes cannot come from our own texts; names quoted in a
    // message come from C strings, which have none.
    let mut text = err.message.as_bytes();
    if text.contains(&0) {
        text = b"(message with a NUL byte)";
    }
    let (kept, mark) = if text.len() <= LAST_ERROR_MAX {
        (text, &b""[..])
    } else {
        let mut cut = LAST_ERROR_MAX - CUT_MARK.len();
        // Back to a character's start (continuation bytes are 10xxxxxx).
        while cut > 0 && text[cut] & 0xC0 == 0x80 {
            cut -= 1;
        }
        (&text[..cut], CUT_MARK)
    };
    let _ = LAST_ERROR.try_with(|buffer| {
        let at = buffer.get().cast::<u8>();
        // SAFETY: the buffer is this thread's and holds LAST_ERROR_MAX + 1
        // bytes; `kept` and `mark` fit in LAST_ERROR_MAX together and the
        // NUL after them. No reference to the buffer exists (C holds at most
        // a raw pointer, which reads it only between calls on this thread).
        unsafe {
            std::ptr::copy_nonoverlapping(kept.as_ptr(), at, kept.len());
            std::ptr::copy_nonoverlapping(mark.as_ptr(), at.add(kept.len()), mark.len());
            at.add(kept.len() + mark.len()).write(0);
        }
    });
    code(err.kind)
}

/// Records a caught panic as the calling thread's last error.
pub(crate) fn record_panic(payload: Box<dyn std::any::Any + Send>) {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    record(&Error::new(
        Kind::Internal,
        format!("internal error in hilo (please report it): {what}"),
    ));
}

/// Names a status code in words. Thread-safe.
///
/// @param status a status code (`HILO_OK`, `HILO_EINVAL`, ...), or any int
/// @return a static, human-readable text for `status`; an unknown code gives
/// "unknown status code". Never NULL; the caller must not free it.
#[no_mangle]
pub extern "C" fn hilo_strerror(status: c_int) -> *const c_char {
    ffi_boundary!({ text(status).as_ptr() })
}

/// Says what the calling thread's last failing hilo call went wrong on. A
/// successful call does not clear it.
///
/// @return a message about the last failing hilo call made by the calling
/// thread, as specific as Python's text where Python has one (for example
/// "threads can only be started once"), or "" when no call has failed yet on
/// this thread. Never NULL; owned by hilo. The pointer is the same for the
/// whole life of the calling thread and stays valid until the thread ends:
/// each failing call overwrites the text in place, so, as with `errno`, it
/// always reads the latest error, and `printf("%d %s", hilo_join(t, 0,
/// NULL), hilo_last_error())` prints the join's message whichever argument
/// C evaluates first. Messages longer than 511 bytes are cut on a character
/// boundary and end with "...". No allocation; no lock.
#[no_mangle]
pub extern "C" fn hilo_last_error() -> *const c_char {
    ffi_boundary!({
        LAST_ERROR
            .try_with(|buffer| buffer.get().cast::<c_char>().cast_const())
            .unwrap_or(c"".as_ptr())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_and_every_kind_appears_once() {
        for status in &STATUSES {
            let same_code = STATUSES.iter().filter(|s| s.code == status.code).count();
            assert_eq!(same_code, 1, "code {} twice", status.code);
            if let Some(kind) = status.kind {
                assert_eq!(code(kind), status.code);
            }
            assert_eq!(text(status.code), status.text);
        }
        for kind in [
            Kind::Invalid,
            Kind::NoSuchThread,
            Kind::State,
            Kind::Deadlock,
            Kind::TimedOut,
            Kind::Again,
            Kind::Broken,
            Kind::Internal,
        ] {
            let rows = STATUSES.iter().filter(|s| s.kind == Some(kind)).count();
            assert_eq!(rows, 1, "{kind:?} has {rows} rows");
        }
        assert_eq!(text(12345), c"unknown status code");
    }

    fn last() -> String {
        // SAFETY: never NULL, NUL-terminated, this thread's buffer.
        unsafe { CStr::from_ptr(hilo_last_error()) }
            .to_str()
            .expect("whole characters")
            .to_string()
    }

    #[test]
    fn the_last_error_is_one_buffer_overwritten_in_place_and_cut_when_long() {
        std::thread::spawn(|| {
            let buffer = hilo_last_error();
            assert_eq!(last(), "");
            assert_eq!(record(&Error::state("first")), HILO_ESTATE);
            assert_eq!(last(), "first");
            assert_eq!(record(&Error::timed_out()), HILO_ETIMEDOUT);
            // The pointer read before both calls shows the latest text.
            // SAFETY: the thread's buffer, valid while it lives.
            assert_eq!(unsafe { CStr::from_ptr(buffer) }, c"timed out");
            assert_eq!(hilo_last_error(), buffer);
            // Two-byte characters: a cut at 508 bytes falls on one's start.
            let long = "é".repeat(600);
            record(&Error::invalid(long.clone()));
            assert_eq!(last(), format!("{}...", "é".repeat(254)));
            let odd = format!("a{long}");
            record(&Error::invalid(odd));
            assert_eq!(last(), format!("a{}...", "é".repeat(253)));
            let exact = "x".repeat(LAST_ERROR_MAX);
            record(&Error::invalid(exact.clone()));
            assert_eq!(last(), exact);
            record(&Error::invalid("with a \0 inside"));
            assert_eq!(last(), "(message with a NUL byte)");
        })
        .join()
        .unwrap();
    }
}
