//! Thread-local values (Python's `threading.local`, for one pointer): a
//! pthread key, whose destructor runs when a thread that set a value ends,
//! on any thread, hilo's or not.

use std::ffi::c_void;

use crate::error::{Error, Kind, Result};
use crate::os::{self, Key, KeyDestructor};

pub struct Local {
    key: Key,
}

fn refused(what: &str, errno: i32) -> Error {
    Error::new(
        Kind::Again,
        format!("{what}: {}", std::io::Error::from_raw_os_error(errno)),
    )
}

impl Local {
    pub fn new(destructor: Option<KeyDestructor>) -> Result<Local> {
        os::key_create(destructor)
            .map(|key| Local { key })
            .map_err(|errno| refused("can't make a thread-local value", errno))
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
        // SAFETY: a live key, deleted once. Values still set are not passed
        // to the destructor (POSIX), and reads of the key end here.
        unsafe { os::key_delete(self.key) };
    }
}
