//! hilo: the thread model of Python's `threading` module for C.
//!
//! The thread manager (`registry`, `threads`, `current`, `exit`) is plain
//! Rust; `os` holds the libc calls it needs; `ffi` is the C API, a thin layer
//! that checks arguments, maps errors to status codes and catches panics.
//! `include/hilo.h` is generated from `ffi` by cbindgen (see build.rs).

mod current;
mod dump;
mod error;
mod exit;
pub mod ffi;
mod fork;
mod futex;
mod joins;
mod os;
mod registry;
mod sync;
mod threads;
mod timeout;

pub use ffi::*;

/// The header that build.rs generated from these sources, for the test that
/// checks that the committed `include/hilo.h` is fresh.
#[doc(hidden)]
pub const GENERATED_HEADER: &str = include_str!(concat!(env!("OUT_DIR"), "/hilo.h"));
