//! Timer (Python's `threading.Timer`): a hilo thread that waits `interval`
//! seconds on an Event and then calls the function, unless cancelled.

use std::collections::HashMap;
use std::ffi::c_void;
use std::panic::catch_unwind;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::futex::Mutex;

use super::Event;
use crate::current;
use crate::error::{Error, Result};
use crate::registry::{Handle, Target};
use crate::threads;

struct Timer {
    /// Set by `cancel`, and by the timer itself once it has run.
    finished: Event,
    /// None: wait until cancelled.
    delay: Option<Duration>,
    function: Target,
    arg: Arg,
}

/// The C argument of the function.
struct Arg(*mut c_void);

// SAFETY: the pointer is only handed to the C function, once, on the timer's
// thread, as pthread_create would hand its argument over; hilo never reads it.
unsafe impl Send for Arg {}
// SAFETY: as above; shared references never touch the pointee.
unsafe impl Sync for Arg {}

/// The timers whose records may still exist. An entry leaves once its record
/// is gone (released and finished, or released unstarted), swept by
/// `create_timer` whenever the map has doubled, so memory stays bounded. A released timer that has not
/// fired yet keeps its entry: its thread still looks itself up here.
struct Timers {
    by_handle: HashMap<Handle, Arc<Timer>>,
    /// Sweep when the map reaches this size: twice what the last sweep left
    /// (at least 64), so sweeping costs O(1) per timer made.
    sweep_at: usize,
}

fn timers() -> &'static Mutex<Timers> {
    static TIMERS: OnceLock<Mutex<Timers>> = OnceLock::new();
    TIMERS.get_or_init(|| {
        Mutex::new(Timers {
            by_handle: HashMap::new(),
            sweep_at: 64,
        })
    })
}

/// `hilo_timer_create`: an unstarted thread that calls `function(arg)`
/// `interval` seconds after its start. As in Python, an interval of 0 or
/// less calls it at once; +infinity waits until cancelled; NaN is invalid.
pub fn create_timer(interval: f64, function: Target, arg: *mut c_void) -> Result<Handle> {
    if interval.is_nan() {
        return Err(Error::invalid("interval must be a number, not NaN"));
    }
    let delay = if interval <= 0.0 {
        Some(Duration::ZERO)
    } else {
        Duration::try_from_secs_f64(interval).ok()
    };
    let timer = Arc::new(Timer {
        finished: Event::new(),
        delay,
        function,
        arg: Arg(arg),
    });
    let mut timers = timers().lock();
    if timers.by_handle.len() >= timers.sweep_at {
        timers
            .by_handle
            .retain(|&handle, _| threads::record_exists(handle));
        timers.sweep_at = (2 * timers.by_handle.len()).max(64);
    }
    let handle = threads::create(timer_main, std::ptr::null_mut(), None)?;
    timers.by_handle.insert(handle, timer);
    Ok(handle)
}

/// `hilo_timer_cancel`: the function will not run if it has not begun.
pub fn cancel_timer(handle: Handle) -> Result<()> {
    // ESRCH for a handle that names no thread, timer or not.
    threads::is_alive(handle)?;
    let timer = timers().lock().by_handle.get(&handle).cloned();
    match timer {
        Some(timer) => {
            timer.finished.set();
            Ok(())
        }
        None => Err(Error::invalid(
            "not a timer: the thread was not made by hilo_timer_create",
        )),
    }
}

extern "C-unwind" fn timer_main(_: *mut c_void) -> *mut c_void {
    let found = catch_unwind(|| timers().lock().by_handle.get(&current::handle()).cloned());
    let Ok(Some(timer)) = found else {
        return std::ptr::null_mut();
    };
    let deadline = timer
        .delay
        .and_then(|delay| Instant::now().checked_add(delay));
    timer.finished.wait(deadline);
    let mut value = std::ptr::null_mut();
    if !timer.finished.is_set() {
        // SAFETY: the C function and argument given to hilo_timer_create,
        // called once on this thread, as a thread target is.
        value = unsafe { (timer.function)(timer.arg.0) };
    }
    timer.finished.set();
    value
}

/// Holds the timer map's lock across `fork()` (see fork.rs), so that the
/// child never sees the map half-updated. Taken before the registry's lock:
/// `create_timer` holds it while it creates the thread.
pub(crate) fn lock_for_fork() {
    std::mem::forget(timers().lock());
}

/// Releases the lock taken by `lock_for_fork`, in the parent.
///
/// # Safety
/// Only after `lock_for_fork`, once.
pub(crate) unsafe fn unlock_after_fork() {
    // SAFETY: `lock_for_fork` left the lock held for us.
    unsafe { timers().force_unlock() };
}

/// In a forked child: the map's lock usable again.
///
/// # Safety
/// Only in a forked child, after `lock_for_fork`, while it has one thread.
pub(crate) unsafe fn reset_after_fork() {
    // SAFETY: as the caller guarantees.
    unsafe { crate::fork::reset_mutex(timers()) };
}
