//! The life of the threads hilo starts: create, start, the trampoline every
//! hilo thread runs, join, release, and the per-thread settings (name,
//! daemon, stack size). The records live in the registry; the main and
//! dummy records, which hilo does not start, in `current`.

use std::ffi::{c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::error::{Error, Kind, Result};
use crate::registry::{
    copy_name, index_of, registry, wait_for_exit, Handle, Reap, Record, Slot, Target, DAEMON,
    DUMMY, FINISHED, MAIN, RELEASED, RUNNING, UNSTARTED,
};
use crate::sync::local;
use crate::{current, joins, os};

static STACK_SIZE: AtomicUsize = AtomicUsize::new(0);

/// The smallest stack size `hilo_set_stack_size` accepts (as Python's).
pub(crate) const MIN_STACK_SIZE: usize = 32 * 1024;

/// `hilo_create`: a new unstarted thread record.
pub fn create(target: Target, arg: *mut c_void, name: Option<&CStr>) -> Result<Handle> {
    current::init();
    let daemon = if current::is_daemon() { DAEMON } else { 0 };
    let name = match name {
        Some(name) if !name.is_empty() => Some(copy_name(name)?),
        _ => None,
    };
    registry().insert(UNSTARTED | daemon, |slot, record| {
        match name {
            Some(name) => slot.rename(record, name),
            None => slot.rename_default(record, "Thread"),
        }
        record.target = Some(target);
        record.arg = arg;
        record.result = std::ptr::null_mut();
        record.reap = Reap::Done;
        record.stack_size = 0;
    })
}

/// `hilo_start`.
pub fn start(handle: Handle) -> Result<()> {
    let (slot, _) = registry().find(handle)?;
    let record = slot.lock_for(handle)?;
    if slot.load().state() != UNSTARTED {
        return Err(Error::state("threads can only be started once"));
    }
    // Alive from here on; the thread itself publishes its TID and OS name.
    slot.set_state(RUNNING);
    // After the process's last exit wait, a thread would die unseen with the
    // process: refuse it. SeqCst against `Registry::close`: either this sees
    // the registry closed, or that wait's last scan sees this thread running.
    std::sync::atomic::fence(Ordering::SeqCst);
    if registry().is_closed() {
        slot.set_state(UNSTARTED);
        slot.ended.notify_all();
        return Err(Error::state(
            "can't create new thread at interpreter shutdown",
        ));
    }
    let own_stack = record.stack_size;
    drop(record);
    let stack = match own_stack {
        0 => STACK_SIZE.load(Ordering::Relaxed),
        own => own,
    };
    let stack = match stack {
        0 => 0,
        size => size.next_multiple_of(os::page_size()),
    };
    match os::spawn(trampoline, handle as *mut c_void, stack) {
        Ok(thread) => {
            // The thread stores it too, but a join that comes before the
            // thread runs needs it to join the way pthread_join does.
            let mut record = slot.record.lock();
            if slot.load().names(handle) {
                record.pthread = thread;
            }
            Ok(())
        }
        Err(errno) => {
            let mut record = slot.record.lock();
            // The record cannot have finished or been freed: it never ran.
            slot.set_state(UNSTARTED);
            if slot.load().has(RELEASED) {
                registry().remove(slot, &mut record, index_of(handle));
            } else {
                // Wake joiners that began waiting meanwhile; they now see an
                // unstarted thread.
                slot.ended.notify_all();
            }
            Err(Error::new(
                Kind::Again,
                format!(
                    "can't start new thread: {}",
                    std::io::Error::from_raw_os_error(errno)
                ),
            ))
        }
    }
}

/// Marks the end of a hilo thread in its record, whether the target returned
/// or unwound (`pthread_exit`, cancellation).
struct EndOfThread {
    slot: &'static Slot,
    handle: Handle,
    /// The target's return value once it has returned.
    returned: Option<*mut c_void>,
}

impl Drop for EndOfThread {
    fn drop(&mut self) {
        // Runs on the normal path and during forced unwinding; it must not
        // unwind itself.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // The thread's hilo_local values first, while it is still alive
            // and itself: a join that returns finds them destroyed.
            local::run_destructors();
            let mut record = self.slot.record.lock();
            // No join waits inside pthread_join while a thread runs, so
            // nobody reaps this one yet: it detaches itself below, or stays
            // joinable after pthread_exit.
            //
            // Joins counted on this thread's exit word may still make futex
            // calls on it after this thread has exited, so its descriptor
            // must outlive them: the last of them detaches the thread, and
            // completes a release (`Slot::leave_exit_word`).
            let pinned = record.exit_word_joiners > 0;
            match self.returned {
                Some(value) => {
                    record.result = value;
                    record.detach_when_unpinned = pinned;
                }
                // pthread_exit: only pthread_join knows the value, so the
                // thread stays joinable for a joiner to reap.
                None => record.reap = Reap::Pending,
            }
            self.slot.set_state(FINISHED);
            // The kernel's wake at this thread's exit wakes one sleeper of
            // its word; joiners on other CPUs, or more than one, are woken
            // now.
            let wake_exit_word = record.must_wake_exit_word_joiners();
            let removed = self.slot.load().has(RELEASED) && !pinned;
            if removed {
                self.slot.free_released(self.handle, &mut record);
            }
            let detach_self = self.returned.is_some() && !pinned;
            drop(record);
            if wake_exit_word {
                Record::wake_exit_word_joiners(os::pthread_self());
            }
            // Joiners are woken after the mutex is released (the Condvar
            // allows it: they counted themselves under it), or each would
            // wake only to block on the mutex this thread still held: two
            // more futex calls and a sleep per join (docs/performance.md).
            // Should the slot be reused meanwhile, the wake is a spurious
            // one for its waiters, who check their condition again.
            if !removed {
                self.slot.ended.notify_all();
            }
            // The identity stays for the destructors that pthread runs
            // after this (other keys', C++ thread_locals') and goes with them.
            current::finish();
            if detach_self {
                os::detach_self();
            }
        }));
    }
}

/// Gives the calling (new) thread's OS name the record's name before its
/// target runs; `os_name` is the record's name at `version`, as the kernel
/// shows it, and the thread has kept that name (`current::keep_name`).
/// Returns the version of the name that the OS name now shows, which the
/// thread has kept.
///
/// `prctl` runs outside the slot's mutex. A `hilo_set_name` that comes after
/// the thread published its TID bumps `name_version` before it writes the
/// OS name itself. So if the version is unchanged after our `prctl`, any
/// later rename writes after it and wins; if it changed, we read the new
/// name under the mutex (after that rename finished) and name ourselves
/// again.
fn name_self(slot: &Slot, mut os_name: [u8; 16], mut version: u32) -> u32 {
    loop {
        os::set_own_os_name(&os_name);
        if slot.name_version.load(Ordering::SeqCst) == version {
            return version;
        }
        let record = slot.record.lock();
        current::keep_name(&record.name);
        os_name = os::os_name(record.name.to_bytes());
        version = slot.name_version.load(Ordering::SeqCst);
    }
}

extern "C-unwind" fn trampoline(arg: *mut c_void) -> *mut c_void {
    let handle = arg as Handle;
    let started = catch_unwind(|| {
        let slot = registry()
            .slot(handle)
            .expect("a started thread has a slot");
        // System calls stay out of the critical section, so that a joiner
        // that locks the record right after hilo_start does not have to
        // spin, yield or sleep behind them.
        let tid = os::own_tid();
        let mut record = slot.record.lock();
        record.pthread = os::pthread_self();
        slot.native_id.store(tid, Ordering::Release);
        // The name is copied (or, when long, referenced) here, under the
        // mutex, rather than cloned out and copied later.
        current::keep_name(&record.name);
        let os_name = os::os_name(record.name.to_bytes());
        let version = slot.name_version.load(Ordering::SeqCst);
        let (target, target_arg) = (record.target, record.arg);
        drop(record);
        let version = name_self(slot, os_name, version);
        current::enter(handle, slot, version);
        (slot, target, target_arg)
    });
    let Ok((slot, Some(target), target_arg)) = started else {
        // Cannot happen; never unwind into the C caller.
        return std::ptr::null_mut();
    };
    let mut end = EndOfThread {
        slot,
        handle,
        returned: None,
    };
    // SAFETY: the target is the C function given to hilo_create with its
    // argument, called once, as pthread_create would call it.
    let value = unsafe { target(target_arg) };
    end.returned = Some(value);
    drop(end);
    value
}

/// `hilo_join`: `deadline` None waits forever.
pub fn join(handle: Handle, deadline: Option<Instant>) -> Result<*mut c_void> {
    let (slot, word) = registry().find(handle)?;
    let me = current::handle_if_known();
    if handle == me {
        return Err(Error::new(Kind::Deadlock, "cannot join current thread"));
    }
    if word.has(DUMMY) {
        return Err(Error::state("cannot join a dummy thread"));
    }
    if word.state() == UNSTARTED {
        return Err(Error::state("cannot join thread before it is started"));
    }
    // A join that may block is an edge of the join graph while it waits.
    let will_wait = word.state() == RUNNING && deadline.is_none_or(|d| d > Instant::now());
    let _waiting = if will_wait {
        joins::begin(me, handle)?
    } else {
        None
    };
    let record = slot.lock_for(handle)?;
    if slot.load().state() == UNSTARTED {
        return Err(Error::state("cannot join thread before it is started"));
    }
    // Every join waits on the record, none inside pthread_join while the
    // thread runs: the thread may never end (it called exit(), which a join
    // of it must see), and a join with a timeout must keep to it.
    let (mut record, stopped) = slot.wait_while_running(handle, record, deadline);
    if !stopped? {
        return Err(Error::timed_out());
    }
    loop {
        // Released meanwhile: the record may stay a while (a join counted
        // on the exit word frees it), but the handle is gone.
        let word = slot.load();
        if !word.valid_for(handle) {
            return Err(Error::no_such_thread());
        }
        if word.state() == UNSTARTED {
            // The OS refused the start while we waited.
            return Err(Error::state("cannot join thread before it is started"));
        }
        match record.reap {
            Reap::Done => return Ok(record.result),
            Reap::InProgress => {
                // Another joiner is inside pthread_join: wait for it, as
                // long as this join may.
                let woken = slot.ended.wait_until(&mut record, deadline);
                if woken != Ok(true) && record.reap != Reap::Done {
                    woken?;
                    return Err(Error::timed_out());
                }
            }
            Reap::Pending => {
                record.reap = Reap::InProgress;
                let thread = record.pthread;
                drop(record);
                // SAFETY: the thread is joinable: it ended with pthread_exit
                // and nobody joined or detached it. Reap::InProgress makes
                // this the only join or detach of it.
                let exited = unsafe { wait_for_exit(thread, deadline) };
                record = slot.record.lock();
                // Joins still counted on the exit word must be done with it
                // before pthread_join frees the descriptor it lives in.
                let value = if exited && slot.wait_exit_word_left(&mut record, deadline) {
                    drop(record);
                    // SAFETY: as above; it has exited, so this does not sleep.
                    let value = unsafe { os::join_until(thread, deadline) };
                    record = slot.record.lock();
                    value
                } else {
                    None
                };
                let Some(value) = value else {
                    // Still in its last steps (other keys' destructors) at
                    // the deadline: joinable as before, by whoever comes.
                    record.reap = Reap::Pending;
                    slot.ended.notify_all();
                    // A release made meanwhile was left to this join (or,
                    // while joins are counted on the exit word, is left to
                    // the last of them).
                    if slot.load().has(RELEASED) && record.exit_word_joiners == 0 {
                        slot.free_released(handle, &mut record);
                    }
                    return Err(Error::timed_out());
                };
                record.result = value;
                record.reap = Reap::Done;
                slot.ended.notify_all();
                if slot.load().has(RELEASED) {
                    registry().remove(slot, &mut record, index_of(handle));
                    return Err(Error::no_such_thread());
                }
            }
        }
    }
}

pub fn is_alive(handle: Handle) -> Result<bool> {
    let (_, word) = registry().find(handle)?;
    Ok(word.state() == RUNNING)
}

pub fn is_daemon(handle: Handle) -> Result<bool> {
    let (_, word) = registry().find(handle)?;
    Ok(word.has(DAEMON))
}

pub fn set_daemon(handle: Handle, daemon: bool) -> Result<()> {
    let (slot, _) = registry().find(handle)?;
    let _record = slot.lock_for(handle)?;
    if slot.load().state() != UNSTARTED {
        return Err(Error::state("cannot set daemon status of active thread"));
    }
    slot.set_flag(DAEMON, daemon);
    Ok(())
}

pub fn release(handle: Handle) -> Result<()> {
    let (slot, word) = registry().find(handle)?;
    if word.has(MAIN) {
        return Err(Error::state("cannot release the main thread"));
    }
    if word.has(DUMMY) {
        return Err(Error::state(
            "cannot release a dummy thread (a thread hilo did not create)",
        ));
    }
    let mut record = slot.lock_for(handle)?;
    slot.set_flag(RELEASED, true);
    match (slot.load().state(), record.reap) {
        // Still running: the thread frees the record at its end. A joiner
        // inside pthread_join frees it when done; joins counted on the exit
        // word, the last of them (`Slot::leave_exit_word`).
        (RUNNING, _) | (_, Reap::InProgress) => {}
        _ if record.exit_word_joiners > 0 => {}
        (state, _) => {
            debug_assert!(state == UNSTARTED || state == FINISHED);
            slot.free_released(handle, &mut record);
        }
    }
    Ok(())
}

pub fn set_name(handle: Handle, name: &CStr) -> Result<()> {
    let (slot, _) = registry().find(handle)?;
    // Copied before the record is locked: the copy may be large.
    let name = copy_name(name)?;
    let mut record = slot.lock_for(handle)?;
    slot.rename(&mut record, name.clone());
    // A running thread whose TID is known has named itself already and must
    // be renamed; one that has not reached its trampoline will read the new
    // name there. The lock keeps the thread from ending meanwhile.
    let tid = slot.native_id.load(Ordering::Acquire);
    if slot.load().state() == RUNNING && tid != 0 {
        os::set_thread_name(tid, &name);
    }
    Ok(())
}

/// The full name, as bytes without the NUL.
pub fn name(handle: Handle) -> Result<Arc<CStr>> {
    let (slot, _) = registry().find(handle)?;
    let record = slot.lock_for(handle)?;
    Ok(record.name.clone())
}

pub fn native_id(handle: Handle) -> Result<i64> {
    loop {
        let (slot, word) = registry().find(handle)?;
        let tid = slot.native_id.load(Ordering::Acquire);
        match word.state() {
            UNSTARTED => return Ok(0),
            // Started, but the new thread has not yet published its TID,
            // which is the first thing it does.
            RUNNING if tid == 0 => std::thread::yield_now(),
            _ => return Ok(tid),
        }
    }
}

/// Handles of the threads alive now (started, not finished, not released),
/// including the main thread and registered dummies.
pub fn alive() -> Vec<Handle> {
    current::init();
    registry().alive()
}

pub fn active_count() -> usize {
    current::init();
    registry().active_count()
}

/// `HILO_EINVAL` unless `bytes` is 0 or a stack size a thread can be
/// started with.
fn check_stack_size(bytes: usize) -> Result<()> {
    // Sizes no address space can hold are refused here; large ones that this
    // machine cannot map fail at start with HILO_EAGAIN.
    let representable = bytes
        .checked_next_multiple_of(os::page_size())
        .is_some_and(|rounded| rounded <= isize::MAX as usize);
    if bytes != 0 && (bytes < MIN_STACK_SIZE || !representable || !os::stack_size_accepted(bytes)) {
        return Err(Error::invalid(format!(
            "size not valid: {bytes} bytes (0 for the default, or at least {MIN_STACK_SIZE})"
        )));
    }
    Ok(())
}

pub fn set_stack_size(bytes: usize) -> Result<()> {
    check_stack_size(bytes)?;
    STACK_SIZE.store(bytes, Ordering::Relaxed);
    Ok(())
}

/// `hilo_set_thread_stack_size`: one unstarted thread's stack size (0: the
/// process-wide setting at its start).
pub fn set_thread_stack_size(handle: Handle, bytes: usize) -> Result<()> {
    let (slot, _) = registry().find(handle)?;
    check_stack_size(bytes)?;
    let mut record = slot.lock_for(handle)?;
    if slot.load().state() != UNSTARTED {
        return Err(Error::state("cannot set stack size of active thread"));
    }
    record.stack_size = bytes;
    Ok(())
}

pub fn stack_size() -> usize {
    STACK_SIZE.load(Ordering::Relaxed)
}
