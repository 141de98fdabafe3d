//! Timer (Python's `threading.Timer`): a hilo thread that waits its delay
//! on an Event and then calls the function, unless cancelled. A thread, not
//! a sync object: it sits above `threads` and uses `sync::Event`.

use std::collections::HashMap;
use std::ffi::c_void;
use std::panic::catch_unwind;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::futex::{ForkLock, Mutex};
use crate::registry::{registry, Handle, Target};
use crate::sync::Event;
use crate::{current, threads};

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
/// `delay` after its start; None waits until cancelled.
pub fn create_timer(delay: Option<Duration>, function: Target, arg: *mut c_void) -> Result<Handle> {
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
            .retain(|&handle, _| registry().record_exists(handle));
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
    // A new thread: not interruptible, so this wait ends set or timed out.
    let _ = timer.finished.wait(deadline);
    let mut value = std::ptr::null_mut();
    if !timer.finished.is_set() {
        // SAFETY: the C function and argument given to hilo_timer_create,
        // called once on this thread, as a thread target is.
        value = unsafe { (timer.function)(timer.arg.0) };
    }
    timer.finished.set();
    value
}

/// The timer map's lock, which fork handling holds across `fork()` so that
/// the child never sees the map half-updated. Taken before the registry's
/// allocator lock: `create_timer` holds it while it creates the thread.
pub fn fork_lock() -> &'static dyn ForkLock {
    timers()
}

/// True when `handle` is a timer's thread (for the dump and the watchdog).
pub fn is_timer(handle: Handle) -> bool {
    timers().lock().by_handle.contains_key(&handle)
}
