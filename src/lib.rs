//! hilo: the thread model of Python's `threading` module for C.
//!
//! Layers, each using only those below it (the README's Layout section has
//! a line for each file):
//!
//! - `os` (every libc call), `interrupt` (`hilo_set_interruptible`) and
//!   `futex` (every internal lock);
//! - `error`, the core's error type, which knows nothing of C;
//! - `sync`: Event, Lock, RLock, Condition, Semaphore, Barrier, Local;
//! - `registry`: thread records, handles, state words, scans and waits;
//! - `current`: who is calling, and the main and dummy records;
//! - `joins` (the join graph), `waits` (what each thread is blocked on, and
//!   the wait graph) and `exit` (the exit wait);
//! - `threads`: the life of the threads hilo starts;
//! - `timer`, `executor` (the thread pool with futures), `fork` (the
//!   orchestrator of fork handling), `dump` (with `stacks`, other threads'
//!   stacks) and `watch` (dumps on a signal and from the watchdog);
//! - `ffi`: the C API, a thin layer that checks arguments, converts C's
//!   seconds into deadlines, maps errors to status codes and catches panics.
//!
//! The only calls upward are the two process hooks that `current::init`
//! installs: `atexit` (exit.rs) and `pthread_atfork` (fork.rs); and, from
//! `sync`, the slow paths' `waits::begin` (a thread about to block records
//! what it waits on) and `current::publish_token` (once per thread).
//! `include/hilo.h` is generated from `ffi` by cbindgen (see build.rs).
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

// Linux only today (glibc; musl untested). What a port needs is in os.rs
// (threads' kernel ids and names, /proc, keys, fork and exit hooks) and
// futex.rs (the futex word under every lock), and nowhere else.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "hilo supports Linux only today: it needs futex(2), prctl(PR_SET_NAME), \
     /proc/self/task and gettid. A port replaces src/os.rs and src/futex.rs \
     (see the README's Platforms section)."
);

mod blocks;
mod current;
mod dump;
mod error;
mod executor;
mod exit;
pub mod ffi;
mod fork;
mod futex;
mod interrupt;
mod joins;
mod os;
mod registry;
mod stacks;
mod sync;
mod threads;
mod timer;
mod waits;
mod watch;

pub use ffi::*;

/// The header that build.rs generated from these sources, for the test that
/// checks that the committed `include/hilo.h` is fresh.
#[doc(hidden)]
pub const GENERATED_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/hilo.h"));
