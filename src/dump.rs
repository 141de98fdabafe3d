//! `hilo_dump`: a `jstack` for C. A table of every known thread, then each
//! thread with what it waits for (and how long) and its stack, then every
//! cycle of waits as a deadlock. It never waits long on a record another
//! thread holds.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::executor::{Future, Phase};
use crate::os;
use crate::registry::{
    registry, Handle, Slot, Word, DAEMON, DUMMY, FINISHED, MAIN, RELEASED, RUNNING, UNSTARTED,
};
use crate::sync::{Barrier, Condition, Event, Lock, RLock, Semaphore};
use crate::waits::{self, Edge};
use crate::{joins, stacks, timer, watch};

fn state_text(word: Word) -> String {
    let mut text = match word.state() {
        UNSTARTED => "unstarted",
        RUNNING => "running",
        FINISHED => "finished",
        _ => "free",
    }
    .to_string();
    for (flag, label) in [(MAIN, "main"), (DUMMY, "dummy"), (RELEASED, "released")] {
        if word.has(flag) {
            text.push_str(", ");
            text.push_str(label);
        }
    }
    text
}

/// How long a dump waits for a thread started a moment ago to publish its
/// TID.
const TID_PATIENCE: Duration = Duration::from_millis(50);

/// A record's native id. A thread started a moment ago publishes its TID as
/// the first thing it does; until then the dump waits for it (up to
/// `TID_PATIENCE`), as `hilo_native_id` does, rather than show a running
/// thread with native id 0 and its stack again under no name.
fn native_id(slot: &Slot, word: Word) -> i64 {
    let give_up = Instant::now() + TID_PATIENCE;
    loop {
        let tid = slot.native_id.load(Ordering::Acquire);
        if tid != 0 || word.state() != RUNNING || Instant::now() >= give_up {
            return tid;
        }
        std::thread::yield_now();
    }
}

/// The table as text.
pub fn table() -> String {
    let mut rows = Vec::new();
    registry().for_each(|handle, slot, word| {
        let joining = match joins::blocked_on(handle) {
            Some(target) => format!("{target:#x} ({})", joins::name_for_message(target)),
            None => "-".to_string(),
        };
        rows.push([
            format!("{handle:#x}"),
            joins::name_for_message(handle),
            if word.has(DAEMON) { "yes" } else { "no" }.to_string(),
            state_text(word),
            native_id(slot, word).to_string(),
            joining,
        ]);
    });
    let header = ["HANDLE", "NAME", "DAEMON", "STATE", "NATIVE_ID", "JOINING"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let pid = os::getpid();
    let mut out = format!("hilo thread dump: pid {pid}, {} threads\n", rows.len());
    let header = header.map(String::from);
    for row in std::iter::once(&header).chain(&rows) {
        let last = row.len() - 1;
        for (i, cell) in row.iter().enumerate() {
            if i == last {
                let _ = writeln!(out, "{cell}");
            } else {
                let _ = write!(out, "{cell:<width$}  ", width = widths[i]);
            }
        }
    }
    out
}

/// Writes the whole dump to `fd`.
pub fn dump(fd: i32) -> Result<()> {
    if !os::is_open_fd(fd) {
        return Err(Error::invalid(format!(
            "fd {fd} is not an open file descriptor"
        )));
    }
    os::write_all(fd, text_on_a_large_stack().as_bytes())
        .map_err(|err| Error::invalid(format!("cannot write the dump to fd {fd}: {err}")))
}

/// The name of the thread a dump runs on.
const DUMP_THREAD: &str = "hilo-dump";

/// `text()`, on a thread of its own with an 8 MiB stack: symbolization
/// (DWARF parsing) needs more stack than a thread hilo started with its
/// smallest size (32 KiB) has. On the calling thread if none can start.
fn text_on_a_large_stack() -> String {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(DUMP_THREAD.into())
            .stack_size(8 << 20)
            .spawn_scoped(scope, text)
            .ok()
            .and_then(|thread| thread.join().ok())
    })
    .unwrap_or_else(text)
}

/// What a wait's object looked like, read while its wait was pinned;
/// threads are named afterwards, outside the pin.
enum Seen {
    Join(Handle),
    Lock {
        locked: bool,
        holder: usize,
    },
    RLock {
        owner: u64,
        count: u64,
    },
    Condition {
        lock: usize,
    },
    Semaphore {
        value: u32,
    },
    Event {
        set: bool,
    },
    Barrier {
        arrivals: Option<(u32, u32)>,
    },
    Future {
        any: bool,
        phase: Phase,
        runner: Option<u32>,
        prefix: String,
    },
}

/// A wait in progress: what it waits on, and since when.
pub struct WaitNow {
    object: u64,
    seen: Seen,
    pub since: u64,
}

/// The wait `slot`'s thread is in now, if any.
pub fn wait_of(slot: &Slot) -> Option<WaitNow> {
    let cell = &slot.wait;
    let since = cell.since.load(Ordering::Relaxed);
    waits::pinned(cell, |kind, object| {
        let address = object as usize;
        /// The object of the pinned wait, of the type its kind says.
        fn at<'a, T>(address: usize) -> &'a T {
            // SAFETY: called only inside `pinned`, with the type the wait's
            // kind names: the object its thread is blocked on, alive for the
            // whole wait (waits::end waits for readers to leave).
            unsafe { &*(address as *const T) }
        }
        let seen = match kind {
            waits::JOIN => Seen::Join(object),
            waits::LOCK => {
                let lock = at::<Lock>(address);
                Seen::Lock {
                    locked: lock.locked(),
                    holder: lock.holder(),
                }
            }
            waits::RLOCK => {
                let rlock = at::<RLock>(address);
                Seen::RLock {
                    owner: rlock.owner_token(),
                    count: rlock.count(),
                }
            }
            waits::CONDITION => Seen::Condition {
                lock: at::<Condition>(address).lock_address(),
            },
            waits::SEMAPHORE => Seen::Semaphore {
                value: at::<Semaphore>(address).value(),
            },
            waits::EVENT => Seen::Event {
                set: at::<Event>(address).is_set(),
            },
            waits::FUTURE | waits::FUTURE_ANY => {
                let future = at::<Future>(address);
                Seen::Future {
                    any: kind == waits::FUTURE_ANY,
                    phase: future.phase(),
                    runner: future.runner(),
                    prefix: future
                        .prefix()
                        .unwrap_or_else(|| "an executor freed since".to_string()),
                }
            }
            _ => Seen::Barrier {
                arrivals: at::<Barrier>(address).arrivals(),
            },
        };
        WaitNow {
            object,
            seen,
            since,
        }
    })
}

fn named(handle: Handle) -> String {
    format!("\"{}\" {handle:#x}", joins::name_for_message(handle))
}

fn holder_text(token: u64) -> String {
    match waits::thread_of_token(token) {
        Some(handle) => named(handle),
        None => "a thread hilo does not know".to_string(),
    }
}

/// "lock 0x...: held by ..." for a wait.
pub fn describe(wait: &WaitNow) -> String {
    let at = wait.object;
    match wait.seen {
        Seen::Join(target) => format!("joining thread {}", named(target)),
        Seen::Lock { locked: false, .. } => format!("lock {at:#x} (just released)"),
        Seen::Lock { holder, .. } => format!(
            "lock {at:#x}, held by {} (its last acquirer)",
            match waits::thread_of_pointer(holder) {
                Some(handle) => named(handle),
                None => "a thread hilo does not know".to_string(),
            }
        ),
        Seen::RLock { owner: 0, .. } => format!("rlock {at:#x} (just released)"),
        Seen::RLock { owner, count } => {
            format!(
                "rlock {at:#x}, owned by {} (count {count})",
                holder_text(owner)
            )
        }
        Seen::Condition { lock } => {
            format!("condition {at:#x} to be notified (its lock {lock:#x})")
        }
        Seen::Semaphore { value } => format!("semaphore {at:#x} (value {value})"),
        Seen::Event { set } => format!(
            "event {at:#x} ({})",
            if set { "set, waking" } else { "not set" }
        ),
        Seen::Barrier { arrivals } => match arrivals {
            Some((waiting, parties)) => {
                format!("barrier {at:#x} ({waiting} of {parties} parties waiting)")
            }
            None => format!("barrier {at:#x}"),
        },
        Seen::Future {
            any,
            phase,
            runner,
            ref prefix,
        } => {
            let state = match phase {
                Phase::Pending => format!("queued in {prefix}"),
                Phase::Running => match runner.and_then(waits::thread_at_index) {
                    Some(worker) => format!("running in {}", named(worker)),
                    None => format!("running in {prefix}"),
                },
                Phase::Finished | Phase::Cancelled => "done, waking".to_string(),
            };
            if any {
                format!("the first of its futures to end, among them future {at:#x}, {state}")
            } else {
                format!("future {at:#x}, {state}")
            }
        }
    }
}

/// Every cycle of waits (joins, RLock owners, Lock last acquirers), each
/// once, starting at its lowest handle.
fn deadlocks() -> Vec<Vec<(Handle, Edge)>> {
    let mut cycles = Vec::new();
    registry().for_each(|start, _, word| {
        if word.state() != RUNNING {
            return;
        }
        let mut chain: Vec<(Handle, Edge)> = Vec::new();
        let mut at = start;
        while let Some((next, edge)) = waits::waits_for(at, true) {
            chain.push((at, edge));
            if next == start {
                if chain.iter().all(|&(h, _)| h >= start) {
                    cycles.push(chain);
                }
                return;
            }
            if chain.iter().any(|&(h, _)| h == next) || chain.len() > registry().capacity() {
                return;
            }
            at = next;
        }
    });
    cycles
}

/// The text of a dump: the table, each thread, the deadlocks.
pub fn text() -> String {
    let mut out = table();
    let now = waits::now_ns();
    // Every stack first (each thread stops for a moment), names afterwards.
    let mut threads = Vec::new();
    let mut known = Vec::new();
    registry().for_each(|handle, slot, word| {
        let tid = native_id(slot, word);
        let running = word.state() == RUNNING && tid != 0;
        if running {
            known.push(tid);
        }
        let stack = running.then(|| stacks::capture(tid));
        threads.push((Some((handle, slot, word)), tid, stack));
    });
    for tid in os::thread_ids() {
        if !known.contains(&tid) {
            // hilo's own threads: their stacks say nothing.
            if tid == os::gettid() {
                continue;
            }
            let stack = (tid != watch::thread_id()).then(|| stacks::capture(tid));
            threads.push((None, tid, stack));
        }
    }
    out.push('\n');
    for (record, tid, stack) in threads {
        match record {
            Some((handle, slot, word)) => {
                let mut state = state_text(word);
                if timer::is_timer(handle) {
                    state.push_str(", timer");
                }
                let daemon = if word.has(DAEMON) {
                    "daemon"
                } else {
                    "non-daemon"
                };
                let _ = writeln!(out, "{} native id {tid}, {daemon}, {state}", named(handle));
                if word.state() == RUNNING {
                    if let Some(wait) = wait_of(slot) {
                        let seconds = now.saturating_sub(wait.since) as f64 / 1e9;
                        let _ = writeln!(out, "    waiting {seconds:.3} s for {}", describe(&wait));
                    }
                }
            }
            None => {
                let what = if tid == watch::thread_id() {
                    "hilo's dump and watchdog thread"
                } else {
                    "not a hilo thread"
                };
                let _ = writeln!(out, "\"{}\" native id {tid}, {what}", os::thread_comm(tid));
            }
        }
        match stack {
            Some(Ok(frames)) => {
                let lines = stacks::symbolize(&frames);
                if lines.is_empty() {
                    out.push_str("    (no stack: the unwinder found no frames)\n");
                }
                for line in lines {
                    let _ = writeln!(out, "    {line}");
                }
            }
            Some(Err(why)) => {
                let _ = writeln!(out, "    (no stack: {why})");
            }
            None => {}
        }
        out.push('\n');
    }
    let cycles = deadlocks();
    match cycles.len() {
        0 => out.push_str("No deadlock found.\n"),
        1 => out.push_str("Found one deadlock:\n"),
        n => {
            let _ = writeln!(out, "Found {n} deadlocks:");
        }
    }
    for cycle in cycles {
        for (i, &(handle, edge)) in cycle.iter().enumerate() {
            let next = cycle[(i + 1) % cycle.len()].0;
            let what = match edge {
                Edge::Join => "joins".to_string(),
                Edge::RLock(at) => format!("waits for rlock {at:#x} owned by"),
                Edge::Lock(at) => format!("waits for lock {at:#x} held by"),
                Edge::Future(at) => format!("waits for future {at:#x} run by"),
            };
            let _ = writeln!(out, "    {} {what} {}", named(handle), named(next));
        }
        out.push('\n');
    }
    out.push_str("End of hilo thread dump.\n");
    out
}
