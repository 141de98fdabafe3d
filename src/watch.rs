//! Dumps nobody calls `hilo_dump` for: on a signal (`hilo_dump_on_signal`,
//! `HILO_DUMP_SIGNAL`) and from the watchdog (`hilo_watchdog`). One thread
//! of hilo's, "hilo-watch", started on first use, writes both: the signal
//! handler only bumps a futex word and wakes it (async-signal-safe), and
//! the watchdog sleeps until the first moment a wait in progress could
//! pass its limit (or one period when none is in progress): no polling at
//! a high rate, nothing at all while no watchdog is set.

use std::panic::catch_unwind;
use std::sync::atomic::{AtomicI32, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::futex::Mutex;
use crate::registry::{registry, Handle, RUNNING};
use crate::waits::{self, NONE};
use crate::{dump, os, stacks, timer};

/// Bumped to wake the thread (a signal, a new setting).
static WAKE: AtomicU32 = AtomicU32::new(0);
/// Signals not yet answered with a dump.
static PENDING: AtomicU32 = AtomicU32::new(0);
static SIGNAL: AtomicI32 = AtomicI32::new(0);
static SIGNAL_FD: AtomicI32 = AtomicI32::new(2);
/// The watchdog's limit in nanoseconds, 0 when off.
static LIMIT: AtomicU64 = AtomicU64::new(0);
static WATCH_FD: AtomicI32 = AtomicI32::new(2);
/// The kernel thread id of hilo's thread, once it runs.
static WATCH_TID: AtomicI64 = AtomicI64::new(0);
/// Serialises settings; true once the thread runs.
static SETTINGS: Mutex<bool> = Mutex::new(false);

extern "C" fn on_dump_signal(_signo: libc::c_int) {
    let saved = os::errno();
    stacks::note_hilos_signal(os::gettid());
    PENDING.fetch_add(1, Ordering::SeqCst);
    WAKE.fetch_add(1, Ordering::SeqCst);
    os::futex_wake(&WAKE, 1);
    os::set_errno(saved);
}

fn wake() {
    WAKE.fetch_add(1, Ordering::SeqCst);
    os::futex_wake(&WAKE, 1);
}

fn ensure_thread(running: &mut bool) -> Result<()> {
    if !*running {
        std::thread::Builder::new()
            .name("hilo-watch".into())
            .spawn(watch)
            .map_err(|err| {
                Error::new(
                    crate::error::Kind::Again,
                    format!("cannot start hilo's dump thread: {err}"),
                )
            })?;
        *running = true;
    }
    Ok(())
}

fn check_fd(fd: i32) -> Result<()> {
    if os::is_open_fd(fd) {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "fd {fd} is not an open file descriptor"
        )))
    }
}

/// `hilo_dump_on_signal`.
pub fn dump_on_signal(signo: i32, fd: i32) -> Result<()> {
    let mut running = SETTINGS.lock();
    let old = SIGNAL.load(Ordering::SeqCst);
    if signo == 0 {
        if old != 0 {
            os::set_signal_handler(old, None);
            SIGNAL.store(0, Ordering::SeqCst);
        }
        return Ok(());
    }
    let refused = [
        libc::SIGKILL,
        libc::SIGSTOP,
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGFPE,
        libc::SIGILL,
        libc::SIGABRT,
        libc::SIGTRAP,
        libc::SIGSYS,
        os::stack_signal(),
    ];
    if refused.contains(&signo) {
        return Err(Error::invalid(format!(
            "signal {signo} cannot carry dumps (it is a fault, cannot be caught, or is hilo's stack signal)"
        )));
    }
    let handler = os::signal_handler(signo)
        .map_err(|()| Error::invalid(format!("{signo} is not a signal number")))?;
    if handler.is_some_and(|h| h != on_dump_signal as *const () as usize) {
        return Err(Error::state(format!(
            "signal {signo} already has a handler of the program's; hilo leaves it alone"
        )));
    }
    check_fd(fd)?;
    ensure_thread(&mut running)?;
    SIGNAL_FD.store(fd, Ordering::SeqCst);
    if !os::set_signal_handler(signo, Some(on_dump_signal)) {
        return Err(Error::invalid(format!(
            "cannot install a handler for signal {signo}"
        )));
    }
    if old != 0 && old != signo {
        os::set_signal_handler(old, None);
    }
    SIGNAL.store(signo, Ordering::SeqCst);
    Ok(())
}

/// `hilo_watchdog`: `seconds` 0 or less turns it off.
pub fn watchdog(seconds: f64, fd: i32) -> Result<()> {
    if seconds.is_nan() {
        return Err(Error::invalid("seconds must not be NaN"));
    }
    let mut running = SETTINGS.lock();
    if seconds <= 0.0 {
        LIMIT.store(0, Ordering::SeqCst);
        wake();
        return Ok(());
    }
    check_fd(fd)?;
    ensure_thread(&mut running)?;
    WATCH_FD.store(fd, Ordering::SeqCst);
    LIMIT.store(((seconds * 1e9) as u64).max(1), Ordering::SeqCst);
    wake();
    Ok(())
}

/// In a forked child: hilo's thread is not there. It starts again when a
/// signal or a watchdog is set (inherited from the parent), so that
/// `kill -QUIT` works on the child too.
pub fn after_fork_in_child() {
    let mut running = SETTINGS.lock();
    *running = false;
    WATCH_TID.store(0, Ordering::Relaxed);
    if SIGNAL.load(Ordering::SeqCst) != 0 || LIMIT.load(Ordering::SeqCst) != 0 {
        let _ = ensure_thread(&mut running);
    }
}

/// `HILO_DUMP_SIGNAL`, read once when hilo initialises: dumps to stderr on
/// that signal. A bad value is said on stderr and ignored.
pub fn from_environment() {
    let Ok(name) = std::env::var("HILO_DUMP_SIGNAL") else {
        return;
    };
    let result = match os::signal_number(&name) {
        Some(signo) => dump_on_signal(signo, 2),
        None => Err(Error::invalid("not a signal name such as QUIT or USR2")),
    };
    if let Err(err) = result {
        let _ = os::write_all(
            2,
            format!("hilo: HILO_DUMP_SIGNAL={name} ignored: {}\n", err.message).as_bytes(),
        );
    }
}

/// The kernel thread id of hilo's dump thread, 0 when it does not run.
pub fn thread_id() -> i64 {
    WATCH_TID.load(Ordering::Relaxed)
}

/// The waits in progress: (thread, wait number, start), timers left out
/// (a timer waiting for its delay is not stuck).
fn waits_now() -> Vec<(Handle, u64, u64)> {
    let mut out = Vec::new();
    registry().for_each(|handle, slot, word| {
        let cell = &slot.wait;
        if word.state() == RUNNING && cell.kind.load(Ordering::Acquire) != NONE {
            out.push((
                handle,
                cell.seq.load(Ordering::Relaxed),
                cell.since.load(Ordering::Relaxed),
            ));
        }
    });
    out.retain(|&(handle, _, _)| !timer::is_timer(handle));
    out
}

/// The thread: dumps for signals, and one dump per stall.
fn watch() {
    WATCH_TID.store(os::gettid(), Ordering::Relaxed);
    // Waits a dump has shown: each stalls the watchdog once at most.
    let mut reported: Vec<(Handle, u64)> = Vec::new();
    loop {
        let seen = WAKE.load(Ordering::SeqCst);
        while PENDING.swap(0, Ordering::SeqCst) > 0 {
            let _ = catch_unwind(|| dump::dump(SIGNAL_FD.load(Ordering::SeqCst)));
        }
        let limit = LIMIT.load(Ordering::SeqCst);
        let mut sleep = None;
        if limit > 0 {
            let now = waits::now_ns();
            let current = waits_now();
            reported.retain(|r| current.iter().any(|&(h, seq, _)| (h, seq) == *r));
            let fresh = |reported: &[(Handle, u64)]| {
                current
                    .iter()
                    .filter(|&&(h, seq, _)| !reported.contains(&(h, seq)))
                    .map(|&(_, _, since)| since)
                    .collect::<Vec<u64>>()
            };
            if fresh(&reported)
                .iter()
                .any(|&since| now.saturating_sub(since) >= limit)
            {
                let _ = catch_unwind(|| dump::dump(WATCH_FD.load(Ordering::SeqCst)));
                reported.extend(current.iter().map(|&(h, seq, _)| (h, seq)));
            }
            let next = fresh(&reported)
                .iter()
                .map(|&since| (since + limit).saturating_sub(now))
                .min()
                .unwrap_or(limit);
            sleep = Some(Duration::from_nanos(next.max(1_000_000)));
        }
        os::futex_wait(&WAKE, seen, sleep);
    }
}
