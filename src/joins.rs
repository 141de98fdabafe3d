//! The join graph: which thread is blocked joining which. A join that would
//! close a cycle (A joins B while B joins A, or longer) is refused with
//! `HILO_EDEADLK` at once instead of hanging. A join registers here only
//! while it blocks, and leaves no trace once it returns.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::futex::{ForkLock, Mutex, MutexGuard};

use crate::error::{Error, Kind, Result};
use crate::registry::{registry, Handle, Slot, RUNNING};
use crate::waits::{self, Edge};

/// Serialises cycle checks with the edges they add, so two joins that close
/// a cycle together cannot both miss it.
static GRAPH: Mutex<()> = Mutex::new(());

/// A blocking join in the graph; dropping it removes the edge.
pub struct Waiting {
    slot: &'static Slot,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        // No lock: removing an edge can only make a later check find fewer
        // cycles, and a check that still saw it ran while this join waited.
        self.slot.joining.store(0, Ordering::Release);
        waits::end(&self.slot.wait);
    }
}

/// Records that `me` is about to block joining `target`, or fails with
/// `HILO_EDEADLK` when `target` already waits, directly or through others,
/// for `me`. A caller hilo does not know (an unregistered foreign thread)
/// cannot be joined by anyone, so it cannot close a cycle: None.
pub fn begin(me: Handle, target: Handle) -> Result<Option<Waiting>> {
    if me == 0 {
        return Ok(None);
    }
    let Some(my_slot) = registry().slot(me) else {
        return Ok(None);
    };
    let _graph = GRAPH.lock();
    // Through joins and RLock waits (src/waits.rs).
    if let Some(chain) = waits::path_to(target, me) {
        return Err(cycle_error(me, target, chain));
    }
    my_slot.joining.store(target, Ordering::Release);
    waits::record(&my_slot.wait, waits::JOIN, target);
    Ok(Some(Waiting { slot: my_slot }))
}

/// The handle the running thread of `handle` is blocked joining, if any.
pub fn blocked_on(handle: Handle) -> Option<Handle> {
    let slot = registry().slot(handle)?;
    let word = slot.load();
    if !word.names(handle) || word.state() != RUNNING {
        return None;
    }
    match slot.joining.load(Ordering::Acquire) {
        0 => None,
        next => Some(next),
    }
}

/// Holds the graph's lock: cycle checks of RLock acquires (src/waits.rs)
/// take it too.
pub fn graph_lock() -> MutexGuard<'static, ()> {
    GRAPH.lock()
}

/// The graph's lock, which fork handling holds across `fork()`.
pub fn fork_lock() -> &'static dyn ForkLock {
    &GRAPH
}

/// In a forked child: no thread of the child is joining, so every edge goes.
pub fn after_fork_in_child() {
    registry().for_each(|_, slot, _| {
        slot.joining.store(0, Ordering::Relaxed);
        waits::after_fork_in_child(slot);
    });
}

/// A thread's name for messages, without waiting long on a busy record.
pub fn name_for_message(handle: Handle) -> String {
    let Some(slot) = registry().slot(handle) else {
        return format!("{handle:#x}");
    };
    match slot.record.try_lock_for(Duration::from_millis(20)) {
        Some(record) if slot.load().names(handle) => record.name.to_string_lossy().into_owned(),
        _ => format!("{handle:#x}"),
    }
}

/// The error for `me` joining `target` while `target` waits, through
/// `chain`, for `me`; the graph's lock is held, so the chain is as found.
fn cycle_error(me: Handle, target: Handle, chain: Vec<(Handle, Edge)>) -> Error {
    let mut cycle = vec![(me, Edge::Join)];
    cycle.extend(chain);
    let what = if cycle.iter().all(|&(_, edge)| edge == Edge::Join) {
        "joins"
    } else {
        "waits"
    };
    Error::new(
        Kind::Deadlock,
        format!(
            "cannot join {}: it would close a cycle of {what} ({})",
            name_for_message(target),
            waits::describe_cycle(&cycle)
        ),
    )
}
