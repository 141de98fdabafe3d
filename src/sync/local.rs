//! Thread-local values (Python's `threading.local`, for one pointer): a
//! pthread key, whose destructor runs when a thread that set a value ends,
//! on any thread, hilo's or not.

use std::ffi::c_void;

use crate::error::{Error, Kind, Result};

/// The destructor C gives: called with a thread's value as the thread ends.
pub type Destructor = unsafe extern "C" fn(*mut c_void);

pub struct Local {
    key: libc::pthread_key_t,
}

impl Local {
    pub fn new(destructor: Option<Destructor>) -> Result<Local> {
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: `key` is a valid out-pointer; the destructor, if any, is a
        // C function of the shape pthread calls.
        let rc = unsafe { libc::pthread_key_create(&mut key, destructor) };
        match rc {
            0 => Ok(Local { key }),
            _ => Err(Error::new(
                Kind::Again,
                format!(
                    "can't make a thread-local value: {}",
                    std::io::Error::from_raw_os_error(rc)
                ),
            )),
        }
    }

    /// The calling thread's value, NULL when it set none.
    pub fn get(&self) -> *mut c_void {
        // SAFETY: the key was made by pthread_key_create and is deleted only
        // when `self` drops.
        unsafe { libc::pthread_getspecific(self.key) }
    }

    pub fn set(&self, value: *mut c_void) -> Result<()> {
        // SAFETY: a live key, as in `get`; pthread only stores the pointer.
        let rc = unsafe { libc::pthread_setspecific(self.key, value) };
        match rc {
            0 => Ok(()),
            _ => Err(Error::new(
                Kind::Again,
                format!(
                    "can't set a thread-local value: {}",
                    std::io::Error::from_raw_os_error(rc)
                ),
            )),
        }
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        // SAFETY: a live key, deleted once. Values still set are not passed
        // to the destructor (POSIX), and reads of the key end here.
        unsafe { libc::pthread_key_delete(self.key) };
    }
}
