//! What every thread is blocked on: each hilo wait (join, Lock, RLock,
//! Condition, Semaphore, Event, Barrier, a future's result or `hilo_wait`)
//! writes its kind, object and start
//! into the waiting thread's record (`Slot::wait`) on its slow path only,
//! where the thread is about to sleep anyway, and clears it on return. The
//! dump and the watchdog read those cells; the wait graph (a thread waits
//! for the thread it joins, an RLock's owner, a Lock's last acquirer, the
//! worker running the future it waits for) is
//! walked here, both to refuse a join or an RLock acquire that would close
//! a cycle (joins.rs's graph lock serialises those checks) and to report
//! every cycle in a dump.
//!
//! The sync objects call `begin` from their slow paths: the one call from
//! `sync` upward, made only when a thread is about to block.

use std::sync::atomic::Ordering;

use crate::current;
use crate::error::{Error, Kind, Result};
use crate::executor::Future;
use crate::registry::{index_of, registry, Handle, Slot, WaitCell, RUNNING};
use crate::sync::{Barrier, Condition, Event, Lock, RLock, Semaphore};
use crate::{joins, os};

pub(crate) const NONE: u32 = 0;
pub(crate) const JOIN: u32 = 1;
pub(crate) const LOCK: u32 = 2;
pub(crate) const RLOCK: u32 = 3;
pub(crate) const CONDITION: u32 = 4;
pub(crate) const SEMAPHORE: u32 = 5;
pub(crate) const EVENT: u32 = 6;
pub(crate) const BARRIER: u32 = 7;
/// `hilo_future_result`, and `hilo_wait` for all: the object is the future.
pub(crate) const FUTURE: u32 = 8;
/// `hilo_wait` for the first to end: the object is one of its futures.
pub(crate) const FUTURE_ANY: u32 = 9;

/// The object a sync wait blocks on.
pub enum On<'a> {
    Lock(&'a Lock),
    RLock(&'a RLock),
    Condition(&'a Condition),
    Semaphore(&'a Semaphore),
    Event(&'a Event),
    Barrier(&'a Barrier),
    Future(&'a Future),
    /// The first of several futures to end; one of them.
    FutureAny(&'a Future),
}

impl On<'_> {
    fn kind_and_address(&self) -> (u32, u64) {
        fn address<T>(object: &T) -> u64 {
            object as *const T as usize as u64
        }
        match self {
            On::Lock(o) => (LOCK, address(*o)),
            On::RLock(o) => (RLOCK, address(*o)),
            On::Condition(o) => (CONDITION, address(*o)),
            On::Semaphore(o) => (SEMAPHORE, address(*o)),
            On::Event(o) => (EVENT, address(*o)),
            On::Barrier(o) => (BARRIER, address(*o)),
            On::Future(o) => (FUTURE, address(*o)),
            On::FutureAny(o) => (FUTURE_ANY, address(*o)),
        }
    }
}

/// A wait in progress; dropping it clears the thread's cell.
pub struct Waiting {
    cell: &'static WaitCell,
}

impl Drop for Waiting {
    fn drop(&mut self) {
        end(self.cell);
    }
}

/// Nanoseconds of the monotonic clock, to the kernel's tick (a few ms):
/// how long a wait has lasted, for dumps and the watchdog, which speak in
/// tenths of seconds. The coarse clock is a read of the vDSO's page, about
/// a fifth of the cost of the precise one (10 against 48 ns on the AMD EPYC
/// VM), and every blocking wait reads it once.
pub fn now_ns() -> u64 {
    os::monotonic_coarse_ns()
}

/// Writes a wait into `cell` (its own thread only).
pub fn record(cell: &WaitCell, kind: u32, object: u64) {
    cell.seq.fetch_add(1, Ordering::Relaxed);
    cell.object.store(object, Ordering::Relaxed);
    cell.since.store(now_ns(), Ordering::Relaxed);
    cell.kind.store(kind, Ordering::SeqCst);
}

/// Clears `cell`, once no reader still dereferences its object (a reader
/// holds it for a few loads, so this spins at most that long).
pub fn end(cell: &WaitCell) {
    cell.kind.store(NONE, Ordering::SeqCst);
    let mut spins = 0u32;
    while cell.readers.load(Ordering::SeqCst) != 0 {
        // A reader that lost its CPU: let it run.
        spins += 1;
        if spins < 100 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
}

/// Records that the calling thread is about to block on `on`. None when the
/// thread has no record (it is ending), so nothing is recorded.
pub fn begin(on: On<'_>) -> Option<Waiting> {
    let slot = current::wait_slot()?;
    let (kind, object) = on.kind_and_address();
    record(&slot.wait, kind, object);
    Some(Waiting { cell: &slot.wait })
}

/// As `begin` for a blocking RLock acquire, refused with `HILO_EDEADLK`
/// when the RLock's owner already waits, through joins and RLock acquires,
/// for the calling thread: such a cycle can never end.
pub fn begin_rlock(rlock: &RLock) -> Result<Option<Waiting>> {
    let Some(slot) = current::wait_slot() else {
        return Ok(None);
    };
    let me = current::handle_if_registered();
    let _graph = joins::graph_lock();
    let address = rlock as *const RLock as usize as u64;
    if let Some(owner) = thread_of_token(rlock.owner_token()) {
        if let Some(chain) = path_to(owner, me) {
            let mut cycle = vec![(me, Edge::RLock(address))];
            cycle.extend(chain);
            return Err(Error::new(
                Kind::Deadlock,
                format!(
                    "cannot acquire rlock {address:#x}: it would close a cycle of waits ({})",
                    describe_cycle(&cycle)
                ),
            ));
        }
    }
    record(&slot.wait, RLOCK, address);
    Ok(Some(Waiting { cell: &slot.wait }))
}

/// An edge of the wait graph, from a waiting thread to the thread it waits
/// for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    Join,
    RLock(u64),
    Lock(u64),
    /// Waits for a future that the next thread runs.
    Future(u64),
}

/// The running thread whose token is `token`, if hilo knows it.
pub fn thread_of_token(token: u64) -> Option<Handle> {
    if token == 0 {
        return None;
    }
    let mut found = None;
    registry().for_each(|handle, slot, word| {
        if found.is_none() && word.state() == RUNNING && slot.token.load(Ordering::Acquire) == token
        {
            found = Some(handle);
        }
    });
    found
}

/// The running thread whose registry index is `index`, if any.
pub fn thread_at_index(index: u32) -> Option<Handle> {
    let mut found = None;
    registry().for_each(|handle, _, word| {
        if found.is_none() && word.state() == RUNNING && index_of(handle) == index {
            found = Some(handle);
        }
    });
    found
}

/// The running thread whose thread pointer is `pointer`, if hilo knows it.
pub fn thread_of_pointer(pointer: usize) -> Option<Handle> {
    let mut found = None;
    registry().for_each(|handle, slot, word| {
        if pointer != 0
            && found.is_none()
            && word.state() == RUNNING
            && slot.thread_pointer.load(Ordering::Acquire) == pointer
        {
            found = Some(handle);
        }
    });
    found
}

/// Runs `read(kind, object)` on `cell`'s wait while it cannot end (see
/// `end`); None when the thread is not waiting.
pub fn pinned<R>(cell: &WaitCell, read: impl FnOnce(u32, u64) -> R) -> Option<R> {
    // Not waiting: nothing to pin. A wait that begins right after this load
    // is one that began after the question was asked (the cycle checks
    // record theirs under the graph's lock, which their callers hold).
    if cell.kind.load(Ordering::SeqCst) == NONE {
        return None;
    }
    cell.readers.fetch_add(1, Ordering::SeqCst);
    let kind = cell.kind.load(Ordering::SeqCst);
    let result = (kind != NONE).then(|| read(kind, cell.object.load(Ordering::Relaxed)));
    cell.readers.fetch_sub(1, Ordering::SeqCst);
    result
}

/// The thread `handle` waits for and how, if it waits for one: the thread
/// it joins, the owner of the RLock it waits for, and with `locks` the last
/// acquirer of a locked Lock it waits for and the worker running the future
/// it waits for (dumps only: a future's runner changes without the graph's
/// lock, so joins and RLock acquires are not refused on its account).
pub fn waits_for(handle: Handle, locks: bool) -> Option<(Handle, Edge)> {
    let slot = registry().slot(handle)?;
    let word = slot.load();
    if !word.names(handle) || word.state() != RUNNING {
        return None;
    }
    match slot.joining.load(Ordering::Acquire) {
        0 => {}
        target => return Some((target, Edge::Join)),
    }
    pinned(&slot.wait, |kind, object| match kind {
        RLOCK => {
            // SAFETY: a pinned RLOCK wait's object is the RLock its thread
            // is blocked on, alive for the whole wait (see `end`).
            let rlock = unsafe { &*(object as usize as *const RLock) };
            thread_of_token(rlock.owner_token()).map(|owner| (owner, Edge::RLock(object)))
        }
        LOCK if locks => {
            // SAFETY: as above, for the Lock.
            let lock = unsafe { &*(object as usize as *const Lock) };
            if !lock.locked() {
                return None;
            }
            thread_of_pointer(lock.holder()).map(|holder| (holder, Edge::Lock(object)))
        }
        FUTURE if locks => {
            // SAFETY: as above, for the future, which the waiter holds a
            // reference to for the whole wait.
            let future = unsafe { &*(object as usize as *const Future) };
            let runner = thread_at_index(future.runner()?)?;
            Some((runner, Edge::Future(object)))
        }
        _ => None,
    })
    .flatten()
}

/// The chain of waits (joins and RLock waits) from `from` to `to`, if
/// `from` waits for `to` through it: each entry is a thread and the edge it
/// waits by. The caller holds the graph's lock.
pub fn path_to(from: Handle, to: Handle) -> Option<Vec<(Handle, Edge)>> {
    let mut chain = Vec::new();
    let mut at = from;
    // The refused cycles never form, so the walk ends; the bound guards
    // against a broken invariant.
    for _ in 0..=registry().capacity() {
        if at == to {
            return Some(chain);
        }
        let (next, edge) = waits_for(at, false)?;
        chain.push((at, edge));
        at = next;
    }
    None
}

/// "a joins b, b waits for a's rlock" for a cycle of (thread, edge) pairs,
/// each thread waiting for the next and the last for the first.
pub fn describe_cycle(cycle: &[(Handle, Edge)]) -> String {
    let names: Vec<String> = cycle
        .iter()
        .map(|&(h, _)| joins::name_for_message(h))
        .collect();
    let mut parts = Vec::new();
    for (i, &(_, edge)) in cycle.iter().enumerate() {
        let (a, b) = (&names[i], &names[(i + 1) % names.len()]);
        parts.push(match edge {
            Edge::Join => format!("{a} joins {b}"),
            Edge::RLock(_) => format!("{a} waits for {b}'s rlock"),
            Edge::Lock(address) => format!("{a} waits for lock {address:#x} held by {b}"),
            Edge::Future(address) => format!("{a} waits for future {address:#x} run by {b}"),
        });
    }
    parts.join(", ")
}

/// In a forked child: no thread of the child waits.
pub fn after_fork_in_child(slot: &Slot) {
    slot.wait.kind.store(NONE, Ordering::Relaxed);
    slot.wait.readers.store(0, Ordering::Relaxed);
}
