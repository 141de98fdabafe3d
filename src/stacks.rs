//! Other threads' stacks, for the dump: a real-time signal (`os::stack_signal`)
//! sent to one thread at a time runs a handler on that thread that only
//! walks its own stack into preallocated memory (`REQUEST`) and wakes the
//! dumping thread; symbolization happens afterwards, in the dumping thread.
//!
//! The unwinder is libgcc's `_Unwind_Backtrace` (through the `backtrace`
//! crate's `trace_unsynchronized`): it reads `.eh_frame`, which C compilers
//! emit by default, so it walks C code built without frame pointers, and it
//! steps through the signal frame into the interrupted code. It allocates
//! nothing; hilo's own Rust code already links libgcc_s, so unlike glibc's
//! `backtrace()` it needs no `dlopen` on first use (the first walk still
//! happens at install, in a normal thread, to bind its symbols). It finds
//! each frame's unwind table with glibc's lock-free `_dl_find_object`
//! (glibc 2.35 and libgcc 12 on); an older libgcc takes the loader's lock
//! through `dl_iterate_phdr`, which would hang a thread signalled while it
//! is inside `dlopen` (the dump itself gives up on it after 200 ms). The
//! symbolizer is the `backtrace` crate's gimli one: it reads the symbol
//! table (static functions included, no `-rdynamic` needed) and, with
//! `-g`, DWARF for files and lines; `dladdr` names the object file as a
//! last resort.

use std::sync::atomic::{AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::futex::{ForkLock, Mutex};
use crate::os;

const MAX_FRAMES: usize = 64;
/// `REQUEST.tid` once the asked thread's handler has taken the request.
const CLAIMED: i64 = -1;
/// How long a thread may take to answer (it may have the signal blocked).
const ANSWER_TIME: Duration = Duration::from_millis(200);

struct Request {
    /// The thread asked, CLAIMED, or 0.
    tid: AtomicI64,
    count: AtomicUsize,
    frames: [AtomicUsize; MAX_FRAMES],
    done: AtomicU32,
}

static REQUEST: Request = Request {
    tid: AtomicI64::new(0),
    count: AtomicUsize::new(0),
    frames: [const { AtomicUsize::new(0) }; MAX_FRAMES],
    done: AtomicU32::new(0),
};

/// The threads a signal of hilo's own (this handler's, or the dump
/// signal's) ran on lately, each with when (`stamp`), until that thread's
/// interrupted wait has seen it (`was_hilos_signal`): an interruptible
/// thread's wait (src/interrupt.rs) must not return `HILO_EINTR` because a
/// dump looked at it. One entry per thread: a single "last thread" was
/// overwritten when the dump went on to signal the next thread before the
/// first had woken from its wait, which then ended with `HILO_EINTR` (about
/// once in 200 runs of tests/c/dumps.c `interruptible`). An entry is
/// `tid << 32 | stamp`; 0 is free.
static SIGNALLED: [AtomicU64; SIGNALLED_LEN] = [const { AtomicU64::new(0) }; SIGNALLED_LEN];
const SIGNALLED_LEN: usize = 64;

/// Milliseconds of the coarse monotonic clock, wrapping at 32 bits (about
/// 49 days); compared only over the length of one wait.
pub fn stamp() -> u32 {
    (os::monotonic_coarse_ns() / 1_000_000) as u32
}

/// Called by hilo's signal handlers on the thread they run on
/// (async-signal-safe: atomics and `clock_gettime`). The thread's entry is
/// renewed, or a free one taken; with every entry taken (64 threads noted
/// and not yet interrupted in a wait), one is reused.
pub fn note_hilos_signal(tid: i64) {
    let tid = tid as u64 & 0xffff_ffff;
    let entry = tid << 32 | u64::from(stamp());
    for cell in &SIGNALLED {
        if cell.load(Ordering::SeqCst) >> 32 == tid {
            cell.store(entry, Ordering::SeqCst);
            return;
        }
    }
    for cell in &SIGNALLED {
        if cell
            .compare_exchange(0, entry, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
    SIGNALLED[tid as usize % SIGNALLED_LEN].store(entry, Ordering::SeqCst);
}

/// True when a signal of hilo's ran on the calling thread at or after
/// `since` (a `stamp` taken before its wait began): the signal that just
/// interrupted that wait was hilo's. Consumes the thread's entry.
pub fn was_hilos_signal(since: u32) -> bool {
    let me = os::gettid() as u64 & 0xffff_ffff;
    for cell in &SIGNALLED {
        let entry = cell.load(Ordering::SeqCst);
        if entry >> 32 == me
            && cell
                .compare_exchange(entry, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            // A note from before the wait (a dump while the thread ran) is
            // not this wait's.
            return (entry as u32).wrapping_sub(since) as i32 >= 0;
        }
    }
    false
}

/// One capture at a time; also guards installing the handler.
static CAPTURE: Mutex<()> = Mutex::new(());

/// The handler's state: not tried yet, installed, or refused.
static INSTALLED: AtomicU32 = AtomicU32::new(0);
const TRIED_OK: u32 = 1;
const TRIED_REFUSED: u32 = 2;

/// One symbolization at a time (the `backtrace` crate's cache of parsed
/// objects is process-wide), held across `fork()` so that a child never
/// finds that cache half-updated or its lock held by a vanished thread.
static SYMBOLIZE: Mutex<()> = Mutex::new(());

/// The symbolizer's lock, which fork handling holds across `fork()`.
pub fn fork_lock() -> &'static dyn ForkLock {
    &SYMBOLIZE
}

/// Walks the calling thread's stack into `REQUEST` (async-signal-safe: no
/// allocation, no lock).
fn walk_into_request() {
    let mut n = 0;
    // SAFETY: trace_unsynchronized is unsafe only because it takes no lock
    // against concurrent traces; each walk reads only its own thread's stack.
    unsafe {
        backtrace::trace_unsynchronized(|frame| {
            REQUEST.frames[n].store(frame.ip() as usize, Ordering::Relaxed);
            n += 1;
            n < MAX_FRAMES
        });
    }
    REQUEST.count.store(n, Ordering::Relaxed);
}

extern "C" fn on_stack_signal(_signo: libc::c_int) {
    let saved = os::errno();
    let me = os::gettid();
    if REQUEST
        .tid
        .compare_exchange(me, CLAIMED, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
    {
        walk_into_request();
        note_hilos_signal(me);
        REQUEST.done.store(1, Ordering::SeqCst);
        os::futex_wake(&REQUEST.done, 1);
    }
    os::set_errno(saved);
}

/// Installs the handler once (the caller holds `CAPTURE`); Err says why
/// stacks are unavailable.
fn installed() -> Result<(), String> {
    let signo = os::stack_signal();
    let refused = || Err(format!("signal {signo} already has a handler"));
    match INSTALLED.load(Ordering::Acquire) {
        TRIED_OK => return Ok(()),
        TRIED_REFUSED => return refused(),
        _ => {}
    }
    if !matches!(os::signal_handler(signo), Ok(None)) {
        INSTALLED.store(TRIED_REFUSED, Ordering::Release);
        return refused();
    }
    // Binds the unwinder's symbols here, not first in a handler.
    walk_into_request();
    if !os::set_signal_handler(signo, Some(on_stack_signal)) {
        INSTALLED.store(TRIED_REFUSED, Ordering::Release);
        return refused();
    }
    INSTALLED.store(TRIED_OK, Ordering::Release);
    Ok(())
}

/// The raw stack of thread `tid` of this process, innermost first, or why
/// not. The calling thread's own is walked directly.
pub fn capture(tid: i64) -> Result<Vec<usize>, String> {
    let _one = CAPTURE.lock();
    let me = os::gettid();
    if tid == me {
        walk_into_request();
        return Ok(taken());
    }
    installed()?;
    if let Some(call) = os::in_unrestarted_call(tid) {
        return Err(format!(
            "inside {call}(2), which a signal would end early: not interrupted"
        ));
    }
    REQUEST.done.store(0, Ordering::SeqCst);
    REQUEST.count.store(0, Ordering::SeqCst);
    REQUEST.tid.store(tid, Ordering::SeqCst);
    if !os::signal_thread(tid, os::stack_signal()) {
        REQUEST.tid.store(0, Ordering::SeqCst);
        return Err("the thread has ended".to_string());
    }
    let deadline = Instant::now() + ANSWER_TIME;
    while REQUEST.done.load(Ordering::SeqCst) == 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero()
            && REQUEST
                .tid
                .compare_exchange(tid, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            return Err(format!(
                "no answer within {} ms (signal {} blocked?)",
                ANSWER_TIME.as_millis(),
                os::stack_signal()
            ));
        }
        // Once claimed, the handler finishes its walk whatever the time.
        os::futex_wait(&REQUEST.done, 0, Some(left.max(Duration::from_millis(1))));
    }
    REQUEST.tid.store(0, Ordering::SeqCst);
    Ok(taken())
}

fn taken() -> Vec<usize> {
    let n = REQUEST.count.load(Ordering::SeqCst).min(MAX_FRAMES);
    REQUEST.frames[..n]
        .iter()
        .map(|frame| frame.load(Ordering::Relaxed))
        .collect()
}

/// The names of the code at `ip` (an inlined call gives one more each),
/// innermost first, each with `[object file]`.
fn names_at(ip: usize) -> Vec<String> {
    let mut names = Vec::new();
    // SAFETY: unsynchronized only because it takes no lock of its own; the
    // caller (`symbolize`) holds SYMBOLIZE for every call.
    unsafe {
        backtrace::resolve_unsynchronized(ip as *mut std::ffi::c_void, |symbol| {
            let place = match (symbol.filename(), symbol.lineno()) {
                (Some(file), Some(line)) => format!(
                    " ({}:{line})",
                    file.file_name().unwrap_or_default().to_string_lossy()
                ),
                _ => String::new(),
            };
            if let Some(name) = symbol.name() {
                names.push(format!("{name:#}{place}"));
            }
        })
    };
    let (object, exported) = os::object_of(ip);
    let object = object
        .map(|o| o.rsplit('/').next().unwrap_or_default().to_string())
        .unwrap_or_else(|| "?".to_string());
    if names.is_empty() {
        names.push(exported.unwrap_or_else(|| "??".to_string()));
    }
    names
        .into_iter()
        .map(|name| format!("{name} [{object}]"))
        .collect()
}

/// One line per frame, innermost first, from the interrupted code on: the
/// capture's own frames (and, for another thread, the signal trampoline
/// after them) are left out.
pub fn symbolize(frames: &[usize]) -> Vec<String> {
    let _one = SYMBOLIZE.lock();
    let mine = |ip: usize| {
        names_at(ip).iter().any(|n| {
            n.contains("hilo::stacks::")
                || n.contains("hilo::dump::")
                || n.contains("on_dump_signal")
        })
    };
    // The last frame of the capture: the handler, or the dump's own.
    let cut = frames.iter().rposition(|&ip| mine(ip.saturating_sub(1)));
    let handler = cut.is_some_and(|k| {
        names_at(frames[k].saturating_sub(1))
            .iter()
            .any(|n| n.contains("on_stack_signal") || n.contains("on_dump_signal"))
    });
    // After the handler comes the trampoline, then the interrupted code,
    // whose address is exact (a return address points after its call).
    let (start, exact) = match cut {
        Some(k) if handler => (k + 2, k + 2),
        Some(k) => (k + 1, usize::MAX),
        None => (0, usize::MAX),
    };
    let mut lines = Vec::new();
    for (i, &ip) in frames.iter().enumerate().skip(start) {
        if ip == 0 {
            continue;
        }
        let lookup = if i == exact { ip } else { ip.saturating_sub(1) };
        for name in names_at(lookup).into_iter().filter(|n| !plumbing(n)) {
            lines.push(format!("#{:<2} {ip:#014x} {name}", lines.len()));
        }
    }
    lines
}

/// Rust's own machinery inside hilo (closures, panic catching, the core
/// and std helpers), which says nothing about where a program is.
fn plumbing(name: &str) -> bool {
    [
        "core::",
        "<core::",
        "std::",
        "<std::",
        "alloc::",
        "__rust_try",
    ]
    .iter()
    .any(|prefix| name.starts_with(prefix))
        || name.contains("{{closure}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dump signals one thread after another: a note for the next
    /// thread must not erase the note of one that has not yet woken from
    /// its wait (with a single "last thread", that wait ended with
    /// HILO_EINTR). A note from before a wait began is not that wait's.
    #[test]
    fn a_note_for_another_thread_leaves_a_sleeping_threads_note() {
        let (tx, rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let sleeper = std::thread::spawn(move || {
            let since = stamp();
            tx.send(os::gettid()).unwrap();
            go_rx.recv().unwrap();
            let first = was_hilos_signal(since);
            // Consumed: a second interruption is not hilo's.
            let second = was_hilos_signal(since);
            (first, second)
        });
        let sleeper_tid = rx.recv().unwrap();
        note_hilos_signal(sleeper_tid);
        // The next threads the dump looks at, this one among them.
        note_hilos_signal(os::gettid());
        for other in 1..=3 {
            note_hilos_signal(i64::from(u32::MAX) - other);
        }
        go_tx.send(()).unwrap();
        assert_eq!(sleeper.join().unwrap(), (true, false));
        assert!(was_hilos_signal(stamp().wrapping_sub(1000)));
        // A note older than the wait's start does not count.
        note_hilos_signal(os::gettid());
        assert!(!was_hilos_signal(stamp().wrapping_add(1000)));
        // The made-up threads' notes go.
        for cell in &SIGNALLED {
            let entry = cell.load(Ordering::SeqCst);
            if entry >> 32 >= u64::from(u32::MAX) - 3 {
                let _ = cell.compare_exchange(entry, 0, Ordering::SeqCst, Ordering::SeqCst);
            }
        }
    }
}
