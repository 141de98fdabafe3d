//! Thread-local values (Python's `threading.local`, for one pointer): a
//! pthread key, whose destructor runs when a thread that set a value ends,
//! on any thread, hilo's or not.
//!
//! A hilo thread runs its values' destructors itself at the end of its
//! target (`run_destructors`), before it counts as finished, as CPython
//! clears a thread's locals before its join returns: a join that returns
//! finds them run, and they still see the thread's own identity. For that,
//! the keys that have a destructor are listed here.

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Kind, Result};
use crate::futex::{ForkLock, Mutex};
use crate::os::{self, Key, KeyDestructor};

pub struct Local {
    key: Key,
    destructor: Option<KeyDestructor>,
}

/// The live keys that have a destructor, and how many (read without the
/// lock, so a thread's end costs one load when there are none).
static WITH_DESTRUCTOR: Mutex<Vec<(Key, KeyDestructor)>> = Mutex::new(Vec::new());
static COUNT: AtomicUsize = AtomicUsize::new(0);

/// How many times a thread's end looks again for values that destructors
/// set meanwhile (POSIX's `PTHREAD_DESTRUCTOR_ITERATIONS`, 4 on Linux).
const ROUNDS: usize = 4;

fn refused(what: &str, errno: i32) -> Error {
    Error::new(
        Kind::Again,
        format!("{what}: {}", std::io::Error::from_raw_os_error(errno)),
    )
}

impl Local {
    pub fn new(destructor: Option<KeyDestructor>) -> Result<Local> {
        let key = os::key_create(destructor)
            .map_err(|errno| refused("can't make a thread-local value", errno))?;
        if let Some(destructor) = destructor {
            let mut list = WITH_DESTRUCTOR.lock();
            if list.try_reserve(1).is_err() {
                drop(list);
                // SAFETY: the key was just made and nothing uses it yet.
                unsafe { os::key_delete(key) };
                return Err(Error::new(Kind::Again, "out of memory"));
            }
            list.push((key, destructor));
            COUNT.store(list.len(), Ordering::Release);
        }
        Ok(Local { key, destructor })
    }

    /// The calling thread's value, NULL when it set none.
    pub fn get(&self) -> *mut c_void {
        // SAFETY: the key was made by `key_create` and is deleted only when
        // `self` drops.
        unsafe { os::key_get(self.key) }
    }

    pub fn set(&self, value: *mut c_void) -> Result<()> {
        // SAFETY: a live key, as in `get`.
        unsafe { os::key_set(self.key, value) }
            .map_err(|errno| refused("can't set a thread-local value", errno))
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        if self.destructor.is_some() {
            let mut list = WITH_DESTRUCTOR.lock();
            list.retain(|&(key, _)| key != self.key);
            COUNT.store(list.len(), Ordering::Release);
        }
        // SAFETY: a live key, deleted once. Values still set are not passed
        // to the destructor (POSIX), and reads of the key end here.
        unsafe { os::key_delete(self.key) };
    }
}

/// Runs the calling thread's destructors of its non-NULL values, as pthread
/// would at the thread's end: each value is cleared before its destructor
/// is called, and values that destructors set meanwhile get up to `ROUNDS`
/// rounds in all. Destructors run without any lock of hilo held, so they may
/// use hilo freely.
pub fn run_destructors() {
    if COUNT.load(Ordering::Acquire) == 0 {
        return;
    }
    for _ in 0..ROUNDS {
        let mut due: Vec<(KeyDestructor, *mut c_void)> = Vec::new();
        {
            let list = WITH_DESTRUCTOR.lock();
            for &(key, destructor) in list.iter() {
                // SAFETY: keys in the list are live: `Local::drop` removes a
                // key under this lock before deleting it.
                let value = unsafe { os::key_get(key) };
                if !value.is_null() {
                    // SAFETY: as above; clearing a value cannot fail.
                    let _ = unsafe { os::key_set(key, std::ptr::null_mut()) };
                    due.push((destructor, value));
                }
            }
        }
        if due.is_empty() {
            return;
        }
        for (destructor, value) in due {
            // SAFETY: the destructor the user gave `hilo_local_new`, called
            // once with this thread's value, as pthread would call it.
            unsafe { destructor(value) };
        }
    }
}

/// The key list's lock, which fork handling holds across `fork()`.
pub fn fork_lock() -> &'static dyn ForkLock {
    &WITH_DESTRUCTOR
}
