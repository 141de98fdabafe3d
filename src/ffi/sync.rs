//! The C API of section 5 of API.md: Event, Lock, RLock, Condition,
//! Semaphore, Barrier, Timer and thread-local values. The logic lives in
//! `crate::sync`; this layer checks pointers, converts arguments and maps
//! errors to status codes.

// The C names of the opaque object types.
#![allow(non_camel_case_types)]

use std::ffi::{c_int, c_void};
use std::sync::Arc;

use super::{answer, ffi_boundary, handle_out, null_argument, status, HILO_EINTERNAL};
use super::{hilo_fn, hilo_thread_t};
use crate::error::{self, Result};
use crate::sync::{self, CondLock, Wait};
use crate::timeout;

/// An event: a flag that threads can wait for (Python's `threading.Event`).
/// Opaque; made by `hilo_event_new`, freed by `hilo_event_free`.
pub struct hilo_event {
    event: sync::Event,
}

/// A lock that no thread owns: any thread may release it (Python's
/// `threading.Lock`). Opaque; made by `hilo_lock_new`, freed by
/// `hilo_lock_free`.
pub struct hilo_lock {
    lock: Arc<sync::Lock>,
}

/// A re-entrant lock: the thread that holds it may acquire it again and
/// must release it as many times (Python's `threading.RLock`). Opaque; made
/// by `hilo_rlock_new`, freed by `hilo_rlock_free`.
pub struct hilo_rlock {
    rlock: Arc<sync::RLock>,
}

/// A condition variable bound to a lock (Python's `threading.Condition`).
/// Opaque; made by `hilo_cond_new`, `hilo_cond_new_with_lock` or
/// `hilo_cond_new_with_rlock`, freed by `hilo_cond_free`.
pub struct hilo_cond {
    cond: sync::Condition,
}

/// A counting semaphore, bounded or not (Python's `threading.Semaphore` and
/// `threading.BoundedSemaphore`). Opaque; made by `hilo_sem_new` or
/// `hilo_sem_new_bounded`, freed by `hilo_sem_free`.
pub struct hilo_sem {
    sem: sync::Semaphore,
}

/// A barrier for a fixed number of threads (Python's `threading.Barrier`).
/// Opaque; made by `hilo_barrier_new`, freed by `hilo_barrier_free`.
pub struct hilo_barrier {
    barrier: sync::Barrier,
}

/// A thread-local value: one pointer per thread (Python's
/// `threading.local`). Opaque; made by `hilo_local_new`, freed by
/// `hilo_local_free`.
pub struct hilo_local {
    local: sync::Local,
}

/// Moves a new object to the heap and hands it to C.
fn into_c<T>(object: T) -> *mut T {
    Box::into_raw(Box::new(object))
}

/// Frees an object made by `into_c`; NULL is fine.
///
/// # Safety
/// `ptr` is NULL or came from `into_c` and is freed once, with no thread
/// still using it (the header documents anything else as undefined).
unsafe fn free<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: as the caller guarantees.
        drop(unsafe { Box::from_raw(ptr) });
    }
}

/// The object behind a C pointer; `HILO_EINVAL` for NULL.
///
/// # Safety
/// `ptr` is NULL or points to a live object made by the matching `*_new`.
unsafe fn object<'a, T>(ptr: *const T, what: &str) -> Result<&'a T> {
    // SAFETY: as the caller guarantees.
    unsafe { ptr.as_ref() }.ok_or_else(|| null_argument(what))
}

/// A pointer for C, or NULL with the error recorded as the last error.
fn or_null<T>(result: Result<*mut T>) -> *mut T {
    result.unwrap_or_else(|err| {
        error::record(&err);
        std::ptr::null_mut()
    })
}

/// A count for C's int (saturating), or the error's status.
fn count(result: Result<u32>) -> c_int {
    match result {
        Ok(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
        Err(err) => error::record(&err),
    }
}

/// A C pointer handed to the C function it came with, on another thread.
struct CPointer(*mut c_void);

// SAFETY: hilo never reads the pointee; it only hands the pointer back to
// the caller's function, as pthread_create hands over its argument.
unsafe impl Send for CPointer {}
// SAFETY: as above.
unsafe impl Sync for CPointer {}

impl CPointer {
    fn get(&self) -> *mut c_void {
        self.0
    }
}

/// The `acquire` of a lock-like object, with C's `(blocking, timeout)`
/// checked first: 1 acquired, 0 not, or the error's status.
fn acquire<T>(
    object: Result<&T>,
    blocking: bool,
    timeout: f64,
    acquire: impl FnOnce(&T, Wait) -> Result<bool>,
) -> c_int {
    answer(object.and_then(|object| acquire(object, Wait::from_acquire(blocking, timeout)?)))
}

// ---------------------------------------------------------------- Event --

/// Makes an event whose flag is clear. Never NULL (hilo aborts if memory
/// runs out, as Rust does). The caller owns it and frees it with
/// `hilo_event_free`.
#[no_mangle]
pub extern "C" fn hilo_event_new() -> *mut hilo_event {
    ffi_boundary!(std::ptr::null_mut(), {
        into_c(hilo_event {
            event: sync::Event::new(),
        })
    })
}

/// Frees an event. NULL is fine. Freeing an event that a thread still uses
/// or waits on is undefined behaviour.
#[no_mangle]
pub extern "C" fn hilo_event_free(e: *mut hilo_event) {
    ffi_boundary!((), {
        // SAFETY: `e` is NULL or from hilo_event_new, freed once (documented).
        unsafe { free(e) }
    })
}

/// Sets the flag and wakes every thread waiting in `hilo_event_wait`.
/// Returns `HILO_OK`, or `HILO_EINVAL` when `e` is NULL.
#[no_mangle]
pub extern "C" fn hilo_event_set(e: *mut hilo_event) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `e` is NULL or a live event (API.md 5).
        status(unsafe { object(e, "event") }.map(|e| e.event.set()))
    })
}

/// Clears the flag: later waits block until the next `hilo_event_set`.
/// Returns `HILO_OK`, or `HILO_EINVAL` when `e` is NULL.
#[no_mangle]
pub extern "C" fn hilo_event_clear(e: *mut hilo_event) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `e` is NULL or a live event (API.md 5).
        status(unsafe { object(e, "event") }.map(|e| e.event.clear()))
    })
}

/// Returns 1 when the flag is set, 0 when clear, `HILO_EINVAL` when `e` is
/// NULL. Lock-free.
#[no_mangle]
pub extern "C" fn hilo_event_is_set(e: *const hilo_event) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `e` is NULL or a live event (API.md 5).
        answer(unsafe { object(e, "event") }.map(|e| e.event.is_set()))
    })
}

/// Waits until the flag is set, at most `timeout` seconds (negative or
/// +infinity: forever; 0: do not wait).
///
/// Returns 1 when the flag is set, or a `hilo_event_set` woke this waiter
/// (even if the flag was cleared again before it ran); 0 when the timeout
/// expired first; `HILO_EINVAL` when `e` is NULL or `timeout` is NaN.
#[no_mangle]
pub extern "C" fn hilo_event_wait(e: *mut hilo_event, timeout: f64) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `e` is NULL or a live event (API.md 5).
        let waited = unsafe { object(e, "event") }.and_then(|e| {
            let deadline = timeout::deadline(timeout)?;
            Ok(e.event.wait(deadline))
        });
        answer(waited)
    })
}

// ----------------------------------------------------------------- Lock --

/// Makes an unlocked lock. Never NULL. The caller owns it and frees it with
/// `hilo_lock_free`.
#[no_mangle]
pub extern "C" fn hilo_lock_new() -> *mut hilo_lock {
    ffi_boundary!(std::ptr::null_mut(), {
        into_c(hilo_lock {
            lock: Arc::new(sync::Lock::new()),
        })
    })
}

/// Frees a lock. NULL is fine. Freeing a lock that a thread still uses or
/// waits on is undefined behaviour. A condition made with
/// `hilo_cond_new_with_lock` keeps its own reference to the lock, so the
/// lock may be freed before the condition.
#[no_mangle]
pub extern "C" fn hilo_lock_free(l: *mut hilo_lock) {
    ffi_boundary!((), {
        // SAFETY: `l` is NULL or from hilo_lock_new, freed once (documented).
        unsafe { free(l) }
    })
}

/// Acquires the lock. `blocking` false tries once; `blocking` true waits at
/// most `timeout` seconds (negative or +infinity: forever; 0: do not wait).
///
/// Returns 1 when acquired, 0 when not (held elsewhere, or the timeout
/// expired); `HILO_EINVAL` when `l` is NULL, `timeout` is NaN, or `blocking`
/// is false with a `timeout` >= 0 ("can't specify a timeout for a
/// non-blocking call"; pass `HILO_FOREVER`). A thread that acquires a lock it
/// holds already waits for itself: use a `hilo_rlock` for that.
#[no_mangle]
pub extern "C" fn hilo_lock_acquire(l: *mut hilo_lock, blocking: bool, timeout: f64) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `l` is NULL or a live lock (API.md 5).
        let acquired = unsafe { object(l, "lock") }.and_then(|l| {
            Wait::check_acquire(blocking, timeout)?;
            // A free lock needs no deadline, which costs a clock read; as
            // in CPython's acquire, try first.
            if l.lock.try_acquire_free() {
                return Ok(true);
            }
            Ok(l.lock.acquire(Wait::from_acquire(blocking, timeout)?))
        });
        answer(acquired)
    })
}

/// Releases the lock. Any thread may release it, not only the one that
/// acquired it; one waiting thread then acquires it.
///
/// Returns `HILO_OK`; `HILO_ESTATE` when it is not locked ("release unlocked
/// lock"); `HILO_EINVAL` when `l` is NULL.
#[no_mangle]
pub extern "C" fn hilo_lock_release(l: *mut hilo_lock) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `l` is NULL or a live lock (API.md 5).
        status(unsafe { object(l, "lock") }.and_then(|l| l.lock.release()))
    })
}

/// Returns 1 when the lock is held (by any thread), 0 when not,
/// `HILO_EINVAL` when `l` is NULL. Lock-free.
#[no_mangle]
pub extern "C" fn hilo_lock_locked(l: *const hilo_lock) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `l` is NULL or a live lock (API.md 5).
        answer(unsafe { object(l, "lock") }.map(|l| l.lock.locked()))
    })
}

// ---------------------------------------------------------------- RLock --

/// Makes an unlocked re-entrant lock. Never NULL. The caller owns it and
/// frees it with `hilo_rlock_free`.
#[no_mangle]
pub extern "C" fn hilo_rlock_new() -> *mut hilo_rlock {
    ffi_boundary!(std::ptr::null_mut(), {
        into_c(hilo_rlock {
            rlock: Arc::new(sync::RLock::new()),
        })
    })
}

/// Frees a re-entrant lock. NULL is fine. Freeing one that a thread still
/// holds, uses or waits on is undefined behaviour. A condition made with
/// `hilo_cond_new_with_rlock` keeps its own reference to the lock, so the
/// lock may be freed before the condition.
#[no_mangle]
pub extern "C" fn hilo_rlock_free(r: *mut hilo_rlock) {
    ffi_boundary!((), {
        // SAFETY: `r` is NULL or from hilo_rlock_new, freed once (documented).
        unsafe { free(r) }
    })
}

/// Acquires the re-entrant lock. The thread that holds it acquires it again
/// at once, and must then release it once more. Otherwise as
/// `hilo_lock_acquire`: `blocking` false tries once; `blocking` true waits
/// at most `timeout` seconds (negative or +infinity: forever).
///
/// Returns 1 when acquired, 0 when not; `HILO_EINVAL` when `r` is NULL,
/// `timeout` is NaN, or `blocking` is false with a `timeout` >= 0 ("can't
/// specify a timeout for a non-blocking call"); `HILO_ESTATE` when its owner
/// has acquired it 2^64 - 1 times ("Internal lock count overflowed").
#[no_mangle]
pub extern "C" fn hilo_rlock_acquire(r: *mut hilo_rlock, blocking: bool, timeout: f64) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `r` is NULL or a live rlock (API.md 5).
        let r = unsafe { object(r, "rlock") };
        acquire(r, blocking, timeout, |r, wait| r.rlock.acquire(wait))
    })
}

/// Releases the re-entrant lock once; it is unlocked when its owner has
/// released it as many times as it acquired it.
///
/// Returns `HILO_OK`; `HILO_ESTATE` when the calling thread does not hold it
/// ("cannot release un-acquired lock"); `HILO_EINVAL` when `r` is NULL.
#[no_mangle]
pub extern "C" fn hilo_rlock_release(r: *mut hilo_rlock) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `r` is NULL or a live rlock (API.md 5).
        status(unsafe { object(r, "rlock") }.and_then(|r| r.rlock.release()))
    })
}

/// Returns 1 when the re-entrant lock is held by any thread, 0 when not,
/// `HILO_EINVAL` when `r` is NULL. Lock-free.
#[no_mangle]
pub extern "C" fn hilo_rlock_locked(r: *const hilo_rlock) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `r` is NULL or a live rlock (API.md 5).
        answer(unsafe { object(r, "rlock") }.map(|r| r.rlock.locked()))
    })
}

// ------------------------------------------------------------ Condition --

fn new_cond(lock: CondLock) -> *mut hilo_cond {
    into_c(hilo_cond {
        cond: sync::Condition::new(lock),
    })
}

/// Makes a condition with its own re-entrant lock, as Python's
/// `Condition()` does. Never NULL. The caller owns it and frees it with
/// `hilo_cond_free`.
#[no_mangle]
pub extern "C" fn hilo_cond_new() -> *mut hilo_cond {
    ffi_boundary!(std::ptr::null_mut(), {
        new_cond(CondLock::RLock(Arc::new(sync::RLock::new())))
    })
}

/// Makes a condition bound to the caller's lock `l`: `hilo_cond_acquire`
/// and `hilo_cond_release` act on `l`, and so do `hilo_lock_acquire` and
/// `hilo_lock_release` on the condition's behalf. The condition keeps its
/// own reference to the lock, so `l` may be freed first.
///
/// Returns NULL when `l` is NULL (`hilo_last_error()` says so).
#[no_mangle]
pub extern "C" fn hilo_cond_new_with_lock(l: *mut hilo_lock) -> *mut hilo_cond {
    ffi_boundary!(std::ptr::null_mut(), {
        // SAFETY: `l` is NULL or a live lock (API.md 5).
        or_null(unsafe { object(l, "lock") }.map(|l| new_cond(CondLock::Lock(Arc::clone(&l.lock)))))
    })
}

/// Makes a condition bound to the caller's re-entrant lock `r`, as
/// `hilo_cond_new_with_lock` does for a plain lock.
///
/// Returns NULL when `r` is NULL (`hilo_last_error()` says so).
#[no_mangle]
pub extern "C" fn hilo_cond_new_with_rlock(r: *mut hilo_rlock) -> *mut hilo_cond {
    ffi_boundary!(std::ptr::null_mut(), {
        // SAFETY: `r` is NULL or a live rlock (API.md 5).
        or_null(
            unsafe { object(r, "rlock") }.map(|r| new_cond(CondLock::RLock(Arc::clone(&r.rlock)))),
        )
    })
}

/// Frees a condition. NULL is fine. Freeing a condition that a thread still
/// uses or waits on is undefined behaviour. The lock it was bound to lives on
/// while the caller's own `hilo_lock` / `hilo_rlock` does.
#[no_mangle]
pub extern "C" fn hilo_cond_free(c: *mut hilo_cond) {
    ffi_boundary!((), {
        // SAFETY: `c` is NULL or from hilo_cond_new*, freed once (documented).
        unsafe { free(c) }
    })
}

/// Acquires the condition's lock, exactly as `hilo_lock_acquire` or
/// `hilo_rlock_acquire` would: 1 acquired, 0 not, `HILO_EINVAL` when `c` is
/// NULL, `timeout` is NaN, or `blocking` is false with a `timeout` >= 0.
#[no_mangle]
pub extern "C" fn hilo_cond_acquire(c: *mut hilo_cond, blocking: bool, timeout: f64) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `c` is NULL or a live condition (API.md 5).
        let c = unsafe { object(c, "condition") };
        acquire(c, blocking, timeout, |c, wait| c.cond.acquire(wait))
    })
}

/// Releases the condition's lock, exactly as `hilo_lock_release` or
/// `hilo_rlock_release` would: `HILO_OK`, `HILO_ESTATE` ("release unlocked
/// lock" or "cannot release un-acquired lock"), or `HILO_EINVAL` when `c` is
/// NULL.
#[no_mangle]
pub extern "C" fn hilo_cond_release(c: *mut hilo_cond) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `c` is NULL or a live condition (API.md 5).
        status(unsafe { object(c, "condition") }.and_then(|c| c.cond.release()))
    })
}

/// Releases the lock (completely, however often a re-entrant lock is held),
/// waits until another thread notifies this one or `timeout` seconds pass
/// (negative or +infinity: forever; 0: do not wait), and acquires the lock
/// again as it was before returning. The caller must hold the lock.
///
/// Returns 1 when notified, 0 when the timeout expired first (the lock is
/// held again in both cases); `HILO_ESTATE` when the calling thread does not
/// hold the lock ("cannot wait on un-acquired lock"); `HILO_EINVAL` when `c`
/// is NULL or `timeout` is NaN. As with any condition, check the state you
/// wait for in a loop.
#[no_mangle]
pub extern "C" fn hilo_cond_wait(c: *mut hilo_cond, timeout: f64) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `c` is NULL or a live condition (API.md 5).
        let notified = unsafe { object(c, "condition") }.and_then(|c| {
            let deadline = timeout::deadline(timeout)?;
            c.cond.wait(deadline)
        });
        answer(notified)
    })
}

/// Wakes up to `n` threads waiting on the condition, those that began to
/// wait first; 0 wakes none. The caller must hold the lock.
///
/// Returns `HILO_OK`; `HILO_ESTATE` when the calling thread does not hold the
/// lock ("cannot notify on un-acquired lock"); `HILO_EINVAL` when `c` is NULL.
#[no_mangle]
pub extern "C" fn hilo_cond_notify(c: *mut hilo_cond, n: usize) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `c` is NULL or a live condition (API.md 5).
        status(unsafe { object(c, "condition") }.and_then(|c| c.cond.notify(n)))
    })
}

/// Wakes every thread waiting on the condition. The caller must hold the
/// lock. Returns as `hilo_cond_notify`.
#[no_mangle]
pub extern "C" fn hilo_cond_notify_all(c: *mut hilo_cond) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `c` is NULL or a live condition (API.md 5).
        status(unsafe { object(c, "condition") }.and_then(|c| c.cond.notify_all()))
    })
}

// ------------------------------------------------------------ Semaphore --

/// Makes a semaphore with the given initial value. Never NULL. The caller
/// owns it and frees it with `hilo_sem_free`.
#[no_mangle]
pub extern "C" fn hilo_sem_new(value: u32) -> *mut hilo_sem {
    ffi_boundary!(std::ptr::null_mut(), {
        into_c(hilo_sem {
            sem: sync::Semaphore::new(value),
        })
    })
}

/// Makes a bounded semaphore: releases never take its value above the
/// initial `value`. Never NULL. The caller owns it and frees it with
/// `hilo_sem_free`.
#[no_mangle]
pub extern "C" fn hilo_sem_new_bounded(value: u32) -> *mut hilo_sem {
    ffi_boundary!(std::ptr::null_mut(), {
        into_c(hilo_sem {
            sem: sync::Semaphore::bounded(value),
        })
    })
}

/// Frees a semaphore. NULL is fine. Freeing a semaphore that a thread still
/// uses or waits on is undefined behaviour.
#[no_mangle]
pub extern "C" fn hilo_sem_free(s: *mut hilo_sem) {
    ffi_boundary!((), {
        // SAFETY: `s` is NULL or from hilo_sem_new*, freed once (documented).
        unsafe { free(s) }
    })
}

/// Takes one unit: decrements the value when it is above 0, else waits for
/// a release. `blocking` false tries once; `blocking` true waits at most
/// `timeout` seconds (negative or +infinity: forever; 0: do not wait).
///
/// Returns 1 when a unit was taken, 0 when not; `HILO_EINVAL` when `s` is
/// NULL, `timeout` is NaN, or `blocking` is false with a `timeout` >= 0
/// ("can't specify a timeout for a non-blocking call").
#[no_mangle]
pub extern "C" fn hilo_sem_acquire(s: *mut hilo_sem, blocking: bool, timeout: f64) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `s` is NULL or a live semaphore (API.md 5).
        let s = unsafe { object(s, "semaphore") };
        acquire(s, blocking, timeout, |s, wait| Ok(s.sem.acquire(wait)))
    })
}

/// Adds `n` units to the value, waking up to `n` waiting threads. Any thread
/// may release.
///
/// Returns `HILO_OK`; `HILO_EINVAL` when `s` is NULL or `n` is 0 ("n must be
/// one or more"); `HILO_ESTATE` when a bounded semaphore would go above its
/// initial value ("Semaphore released too many times") or an unbounded one
/// above UINT32_MAX ("Semaphore value would overflow: ..."). On an error the
/// value is unchanged.
#[no_mangle]
pub extern "C" fn hilo_sem_release(s: *mut hilo_sem, n: u32) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `s` is NULL or a live semaphore (API.md 5).
        status(unsafe { object(s, "semaphore") }.and_then(|s| s.sem.release(n)))
    })
}

/// Returns the semaphore's current value (0 to UINT32_MAX), or `HILO_EINVAL`
/// when `s` is NULL. The value may change as soon as it is read; for
/// diagnostics and tests, as Python's `_value`.
#[no_mangle]
pub extern "C" fn hilo_sem_value(s: *const hilo_sem) -> i64 {
    ffi_boundary!(i64::from(HILO_EINTERNAL), {
        // SAFETY: `s` is NULL or a live semaphore (API.md 5).
        match unsafe { object(s, "semaphore") } {
            Ok(s) => i64::from(s.sem.value()),
            Err(err) => i64::from(error::record(&err)),
        }
    })
}

// -------------------------------------------------------------- Barrier --

/// Makes a barrier for `parties` threads. When the last of them arrives in
/// `hilo_barrier_wait`, that thread calls `action(arg)` (if `action` is not
/// NULL; its return value is ignored) and then every waiter is released.
/// `timeout` is the default for waits that pass a negative timeout
/// (negative or +infinity here: forever).
///
/// Returns NULL when `parties` is 0 ("parties must be >= 1") or `timeout` is
/// NaN; `hilo_last_error()` says which. The caller owns the barrier and
/// frees it with `hilo_barrier_free`.
#[no_mangle]
pub extern "C" fn hilo_barrier_new(
    parties: u32,
    action: hilo_fn,
    arg: *mut c_void,
    timeout: f64,
) -> *mut hilo_barrier {
    ffi_boundary!(std::ptr::null_mut(), {
        let arg = CPointer(arg);
        let action = action.map(|action| -> sync::BarrierAction {
            Box::new(move || {
                // SAFETY: the C function and argument given to
                // hilo_barrier_new, called as the barrier trips.
                unsafe { action(arg.get()) };
            })
        });
        or_null(
            sync::Barrier::new(parties, action, timeout)
                .map(|barrier| into_c(hilo_barrier { barrier })),
        )
    })
}

/// Frees a barrier. NULL is fine. Freeing a barrier that a thread still
/// uses or waits on is undefined behaviour.
#[no_mangle]
pub extern "C" fn hilo_barrier_free(b: *mut hilo_barrier) {
    ffi_boundary!((), {
        // SAFETY: `b` is NULL or from hilo_barrier_new, freed once (documented).
        unsafe { free(b) }
    })
}

/// Waits until all parties have called `hilo_barrier_wait`, at most
/// `timeout` seconds. A negative `timeout` (`HILO_FOREVER`) means the
/// barrier's default timeout, as Python's `None` does (forever unless
/// `hilo_barrier_new` was given one); +infinity waits forever; 0 does not
/// wait.
///
/// Returns the arrival index, 0 for the first thread to arrive up to
/// `parties - 1` for the last (which runs the action), so that one thread
/// can be picked for a job. `HILO_EBROKEN` when the barrier is broken or
/// breaks while waiting: by `hilo_barrier_abort` ("the barrier is broken"),
/// by `hilo_barrier_reset` ("the barrier was reset while this thread
/// waited"), or by a wait that timed out (that waiter gets "barrier wait
/// timed out; the barrier is now broken", every other waiter "the barrier is
/// broken"). An abort or reset while the action runs breaks that round for
/// every waiter. `HILO_EINVAL` when `b` is NULL or `timeout` is NaN.
#[no_mangle]
pub extern "C" fn hilo_barrier_wait(b: *mut hilo_barrier, timeout: f64) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `b` is NULL or a live barrier (API.md 5).
        count(unsafe { object(b, "barrier") }.and_then(|b| b.barrier.wait(timeout)))
    })
}

/// Breaks the barrier: threads waiting in it, and every later wait, get
/// `HILO_EBROKEN` until `hilo_barrier_reset`. Returns `HILO_OK`, or
/// `HILO_EINVAL` when `b` is NULL.
#[no_mangle]
pub extern "C" fn hilo_barrier_abort(b: *mut hilo_barrier) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `b` is NULL or a live barrier (API.md 5).
        status(unsafe { object(b, "barrier") }.map(|b| b.barrier.abort()))
    })
}

/// Returns the barrier to its empty, unbroken state. Threads waiting in it
/// now get `HILO_EBROKEN`; later waits start a new round. Returns
/// `HILO_OK`, or `HILO_EINVAL` when `b` is NULL.
#[no_mangle]
pub extern "C" fn hilo_barrier_reset(b: *mut hilo_barrier) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `b` is NULL or a live barrier (API.md 5).
        status(unsafe { object(b, "barrier") }.map(|b| b.barrier.reset()))
    })
}

/// Returns how many threads wait in the barrier for it to trip, or
/// `HILO_EINVAL` when `b` is NULL.
#[no_mangle]
pub extern "C" fn hilo_barrier_n_waiting(b: *const hilo_barrier) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `b` is NULL or a live barrier (API.md 5).
        count(unsafe { object(b, "barrier") }.map(|b| b.barrier.n_waiting()))
    })
}

/// Returns the number of parties the barrier was made for (as much as an
/// int can hold), or `HILO_EINVAL` when `b` is NULL.
#[no_mangle]
pub extern "C" fn hilo_barrier_parties(b: *const hilo_barrier) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `b` is NULL or a live barrier (API.md 5).
        count(unsafe { object(b, "barrier") }.map(|b| b.barrier.parties()))
    })
}

/// Returns 1 when the barrier is broken (aborted, or a wait timed out) and
/// not reset since, 0 when not, `HILO_EINVAL` when `b` is NULL.
#[no_mangle]
pub extern "C" fn hilo_barrier_broken(b: *const hilo_barrier) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `b` is NULL or a live barrier (API.md 5).
        answer(unsafe { object(b, "barrier") }.map(|b| b.barrier.broken()))
    })
}

// ---------------------------------------------------------------- Timer --

/// Makes a timer: an unstarted thread that, once started with `hilo_start`,
/// waits `interval` seconds and then calls `fn(arg)`, unless
/// `hilo_timer_cancel` came first. As in Python, an `interval` of 0 or less
/// calls it at once (this is not a timeout: negative does not mean
/// forever); +infinity waits until cancelled.
///
/// The handle written to `*out` is an ordinary thread handle: its default
/// name is "Thread-N", its daemon flag is inherited from the calling thread,
/// and `hilo_start`, `hilo_join`, `hilo_set_name`, `hilo_set_daemon`,
/// `hilo_release` all apply. `hilo_join` gives `fn`'s return value, or NULL
/// when it was cancelled.
///
/// Returns `HILO_OK`; `HILO_EINVAL` when `fn` or `out` is NULL or `interval`
/// is NaN (nothing is written); `HILO_EAGAIN` when too many thread records
/// exist.
#[no_mangle]
pub extern "C" fn hilo_timer_create(
    interval: f64,
    r#fn: hilo_fn,
    arg: *mut c_void,
    out: *mut hilo_thread_t,
) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        let Some(function) = r#fn else {
            return status(Err(null_argument("fn")));
        };
        if out.is_null() {
            return status(Err(null_argument("out")));
        }
        handle_out(out, sync::create_timer(interval, function, arg))
    })
}

/// Stops a timer: if its function has not begun to run, it never will, and
/// a started timer's thread ends at once. Cancelling before the start, or
/// after the function ran, or twice, is fine.
///
/// Returns `HILO_OK`; `HILO_ESRCH` for an unknown or released handle;
/// `HILO_EINVAL` for a thread not made by `hilo_timer_create` ("not a timer:
/// ...").
#[no_mangle]
pub extern "C" fn hilo_timer_cancel(t: hilo_thread_t) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, { status(sync::cancel_timer(t)) })
}

// ------------------------------------------------------ Thread-local ----

/// Makes a thread-local value: each thread sees its own pointer, NULL until
/// it sets one. When a thread that set a non-NULL value ends (a hilo thread,
/// or any other thread, such as one made by `pthread_create`), `dtor` (if
/// not NULL) is called on that thread with the value. It is not called for
/// the thread that calls `exit()` or returns from `main`. It runs as the OS
/// thread exits, after the thread's target has returned, so `hilo_join` on
/// that thread may return before it has run.
///
/// Returns NULL when the operating system has no thread-local key left
/// (`hilo_last_error()` says so). The caller owns the object and frees it
/// with `hilo_local_free`. Built on `pthread_key_create`, so the usual limit
/// of `PTHREAD_KEYS_MAX` (1024 on Linux, shared with the rest of the
/// process) applies.
#[no_mangle]
pub extern "C" fn hilo_local_new(
    dtor: Option<unsafe extern "C" fn(value: *mut c_void)>,
) -> *mut hilo_local {
    ffi_boundary!(std::ptr::null_mut(), {
        or_null(sync::Local::new(dtor).map(|local| into_c(hilo_local { local })))
    })
}

/// Frees a thread-local value. NULL is fine. Values that threads still have
/// set are not passed to the destructor (as with `pthread_key_delete`):
/// their owners must free them. Using `l` on any thread afterwards is
/// undefined behaviour.
#[no_mangle]
pub extern "C" fn hilo_local_free(l: *mut hilo_local) {
    ffi_boundary!((), {
        // SAFETY: `l` is NULL or from hilo_local_new, freed once (documented).
        unsafe { free(l) }
    })
}

/// Returns the calling thread's value, or NULL when this thread set none
/// (or set NULL). Also NULL when `l` is NULL, with `hilo_last_error()` set.
#[no_mangle]
pub extern "C" fn hilo_local_get(l: *const hilo_local) -> *mut c_void {
    ffi_boundary!(std::ptr::null_mut(), {
        // SAFETY: `l` is NULL or a live thread-local (API.md 5).
        or_null(unsafe { object(l, "local") }.map(|l| l.local.get()))
    })
}

/// Sets the calling thread's value; the previous value is replaced without
/// calling the destructor on it (the caller still owns it). NULL clears it.
///
/// Returns `HILO_OK`; `HILO_EINVAL` when `l` is NULL; `HILO_EAGAIN` when the
/// operating system has no memory for it.
#[no_mangle]
pub extern "C" fn hilo_local_set(l: *mut hilo_local, value: *mut c_void) -> c_int {
    ffi_boundary!(HILO_EINTERNAL, {
        // SAFETY: `l` is NULL or a live thread-local (API.md 5).
        status(unsafe { object(l, "local") }.and_then(|l| l.local.set(value)))
    })
}
