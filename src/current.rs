//! Who is calling: the calling thread's handle and its cached name, kept in
//! thread-local cells that need no destructor (so a new thread pays no TLS
//! destructor registration and no allocation for them); and the records of
//! callers hilo did not start: the main thread's, made on first use, and a
//! "dummy" record for each foreign thread that asks who it is.
//!
//! A thread keeps its identity through the destructors that run as it ends
//! (`hilo_local` values, other pthread keys, C++ `thread_local`s), so that a
//! destructor that asks who is calling gets the thread's own handle and name
//! and never registers a record that would outlive the thread. Where the
//! identity owns something that must go with the thread (a dummy's record,
//! the main thread's life, a long name's reference), it goes in the third
//! of pthread's four rounds of key destructors: one key of hilo's, set when
//! a thread needs it, puts itself back for the rounds before (`teardown`).
//! The fourth is left to tools that end a thread's own state there with the
//! same trick: ThreadSanitizer's runtime does, and instrumented code that
//! runs after it crashes.
//!
//! A hilo thread whose name fits `INLINE_NAME` owns nothing there: its name
//! is a copy in the thread-local itself, which goes with the thread's TLS,
//! so it sets no key and keeps its identity to its very end. That is the
//! common case and it matters: once a thread has set a key with a
//! destructor, glibc scans the thread's key slots at its end in every round
//! (`__nptl_deallocate_tsd`), and the three rounds of the teardown key were
//! about 1,600 instructions of a 5,200-instruction create+start+join+release
//! cycle (callgrind; docs/performance.md).
//!
//! The first use also installs the process hooks: the exit wait (`atexit`,
//! src/exit.rs) and fork handling (`pthread_atfork`, src/fork.rs), the only
//! calls from here up to those modules.

use std::cell::{Cell, UnsafeCell};
use std::ffi::{c_char, c_void, CStr};
use std::panic::catch_unwind;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Once, OnceLock};

use crate::os::{self, Key};
use crate::registry::{
    default_name, index_of, registry, Handle, Slot, Word, DAEMON, DUMMY, MAIN, RELEASED, RUNNING,
};
use crate::{exit, fork, watch};

static MAIN_HANDLE: AtomicU64 = AtomicU64::new(0);
static INIT: Once = Once::new();

/// The key whose destructor ends a thread's identity (`teardown`). None when
/// the system had no key left: threads then keep their identity to the end
/// and a dummy's record is not freed.
static TEARDOWN_KEY: OnceLock<Option<Key>> = OnceLock::new();

/// The round of key destructors in which an identity ends: the third of
/// pthread's `PTHREAD_DESTRUCTOR_ITERATIONS` (4 in glibc); see the top.
const TEARDOWN_ROUND: u8 = 3;

/// The longest name, in bytes with its NUL, that a thread's identity keeps
/// as a copy in its thread-local (`Current::inline`) rather than as a
/// reference to the record's name: "Thread-N", "Dummy-N", "MainThread" and
/// most names given; the default names need at most 27 bytes. A longer name
/// makes a hilo thread set the teardown key at its end, to drop the
/// reference. The thread-local is part of libhilo's static TLS block (see
/// docs/performance.md), so this is kept small.
const INLINE_NAME: usize = 32;

/// What ends with a thread's identity (`Current::ending`).
const ENDS_NOTHING: u8 = 0;
/// A hilo thread: its record is already finished.
const ENDS_HILO: u8 = 1;
/// A foreign thread: its dummy record is freed.
const ENDS_DUMMY: u8 = 2;
/// The main thread, ending with `pthread_exit`: its record finishes.
const ENDS_MAIN: u8 = 3;

/// Registers the main thread's record and the process hooks, once.
pub fn init() {
    INIT.call_once(|| {
        TEARDOWN_KEY.get_or_init(|| os::key_create(Some(teardown)).ok());
        let pid = os::getpid();
        let handle = registry()
            .insert(RUNNING | MAIN, |slot, record| {
                slot.rename(record, Arc::from(c"MainThread"));
                // The main thread's TID is the process id.
                slot.native_id.store(pid, Ordering::Relaxed);
            })
            .expect("the first slot is always available");
        MAIN_HANDLE.store(handle, Ordering::Release);
        exit::install();
        watch::from_environment();
        os::at_fork(
            fork::before_fork,
            fork::after_fork_in_parent,
            fork::after_fork_in_child,
        );
    });
}

/// The main thread's handle, registering it on first use.
pub fn main_handle() -> Handle {
    let handle = MAIN_HANDLE.load(Ordering::Acquire);
    if handle != 0 {
        return handle;
    }
    init();
    MAIN_HANDLE.load(Ordering::Acquire)
}

/// In a forked child: the forking thread (`me`, 0 when hilo never knew it)
/// becomes the main thread, with the kernel thread id `tid`, keeping its
/// name unless it was a dummy. The registry has already finished the other
/// records, the parent's main thread's included.
pub fn become_main_after_fork(me: Handle, tid: i64) {
    let found = registry().find(me).ok().filter(|_| me != 0);
    let handle = match found {
        Some((slot, word)) => {
            let mut record = slot.record.lock();
            if word.has(DUMMY) {
                slot.rename(&mut record, Arc::from(c"MainThread"));
            }
            slot.store(Word((word.0 | MAIN) & !(DUMMY | DAEMON | RELEASED)));
            slot.native_id.store(tid, Ordering::Release);
            // This thread's identity now ends as the main thread's does.
            arm_teardown(ENDS_MAIN);
            me
        }
        None => registry()
            .insert(RUNNING | MAIN, |slot, record| {
                slot.rename(record, Arc::from(c"MainThread"));
                slot.native_id.store(tid, Ordering::Relaxed);
            })
            .expect("a record for the child's main thread"),
    };
    MAIN_HANDLE.store(handle, Ordering::Release);
}

/// Registers the calling foreign thread as a daemon "dummy" record that
/// leaves the registry when the thread ends.
fn register_dummy() -> (Handle, &'static Slot) {
    init();
    let tid = os::gettid();
    let handle = registry()
        .insert(RUNNING | DAEMON | DUMMY, |slot, record| {
            slot.rename(record, default_name("Dummy"));
            slot.native_id.store(tid, Ordering::Relaxed);
        })
        .expect("registering a dummy thread");
    (handle, registry().slot(handle).expect("slot exists"))
}

/// From now on, the calling thread's identity ends (and with it `ending`'s
/// record) in the third round of its key destructors.
fn arm_teardown(ending: u8) {
    CURRENT.with(|current| current.ending.set(ending));
    set_teardown_key();
}

/// Sets the teardown key, so that `teardown` runs as the thread ends.
fn set_teardown_key() {
    if let Some(Some(key)) = TEARDOWN_KEY.get() {
        // SAFETY: a live key, never deleted; any non-NULL value will do.
        // Setting a value of a key below 32 allocates nothing; a failure
        // (no memory) only keeps the identity to the end.
        let _ = unsafe { os::key_set(*key, NonNull::<c_void>::dangling().as_ptr()) };
    }
}

/// `TEARDOWN_KEY`'s destructor, on the ending thread. Puts its value back
/// for the rounds before `TEARDOWN_ROUND`, so that it runs after the other
/// keys' destructors of those rounds; then ends the identity.
extern "C" fn teardown(_value: *mut c_void) {
    let _ = catch_unwind(|| {
        let (round, ending, handle) = CURRENT.with(|current| {
            current.rounds.set(current.rounds.get() + 1);
            (
                current.rounds.get(),
                current.ending.get(),
                current.handle.get(),
            )
        });
        if round < TEARDOWN_ROUND {
            arm_teardown(ending);
            return;
        }
        match ending {
            ENDS_DUMMY => {
                if let Ok((slot, _)) = registry().find(handle) {
                    let mut record = slot.record.lock();
                    if slot.load().names(handle) {
                        registry().remove(slot, &mut record, index_of(handle));
                    }
                }
            }
            ENDS_MAIN => registry().finish_main(handle),
            _ => {}
        }
        CURRENT.with(|current| {
            current.ending.set(ENDS_NOTHING);
            current.torn_down.set(true);
            set_cache(None, 0, ptr::null());
            drop_name(current.name.take());
            // SAFETY: the calling thread's own buffer; the cache no longer
            // points at it.
            unsafe { (*current.inline.get())[0] = 0 };
        });
    });
}

/// Called by a hilo thread at the end of its target, once its record is
/// finished: its identity stays until its last destructors have run. Only
/// a long name's reference needs the teardown key (`INLINE_NAME`); should
/// the thread take one later, in a destructor, `keep_name` sets the key then.
pub fn finish() {
    CURRENT.with(|current| {
        current.ending.set(ENDS_HILO);
        if current.name.get().is_some() {
            set_teardown_key();
        }
    });
}

struct Current {
    handle: Cell<Handle>,
    slot: Cell<*const Slot>,
    /// A strong reference to the cached name (`Arc::into_raw`) when it is
    /// longer than `INLINE_NAME`, else None and the name is `inline`. The
    /// C cache points at one of them while it is the slot's name.
    name: Cell<Option<NonNull<CStr>>>,
    /// A copy of a short cached name, NUL-terminated ("" when none): it
    /// lives as long as the thread's TLS, so it needs no teardown.
    inline: UnsafeCell<[u8; INLINE_NAME]>,
    /// What ends with this identity (`ENDS_*`), and how many rounds of key
    /// destructors have run.
    ending: Cell<u8>,
    rounds: Cell<u8>,
    /// The identity has ended: the handle stays (so `hilo_current` is never
    /// 0 and nothing new is registered), the name is gone.
    torn_down: Cell<bool>,
}

thread_local! {
    static CURRENT: Current = const {
        Current {
            handle: Cell::new(0),
            slot: Cell::new(ptr::null()),
            name: Cell::new(None),
            inline: UnsafeCell::new([0; INLINE_NAME]),
            ending: Cell::new(ENDS_NOTHING),
            rounds: Cell::new(0),
            torn_down: Cell::new(false),
        }
    };
}

// The fast path of `name()`: an initial-exec thread-local that C declares
// (src/current_cache.c; a Rust `thread_local!` in a cdylib costs a
// `__tls_get_addr` call through the PLT on each read). It points at
// `Current::name`'s characters while they are the slot's name.
extern "C" {
    /// The calling thread's cached name if its slot's `name_version` still
    /// is the cached one, else `slow()`.
    fn hilo_internal_current_name(slow: extern "C" fn() -> *const c_char) -> *const c_char;
    /// Sets the calling thread's cache: `name` is the name while the
    /// `name_version` at `version` is `cached_version`; a null `version`
    /// clears it.
    fn hilo_internal_set_cached_name(
        version: *const AtomicU32,
        cached_version: u32,
        name: *const c_char,
    );
}

/// Points the calling thread's name cache at `name`, which is the slot's
/// name at `version`; or clears it (`slot` None).
fn set_cache(slot: Option<&'static Slot>, version: u32, name: *const c_char) {
    let version_word = slot.map_or(ptr::null(), |slot| &slot.name_version as *const AtomicU32);
    // SAFETY: writes the calling thread's own cache; the word is a slot's,
    // never freed, and `name` stays valid while the cache holds it (the
    // callers hold it in `Current::name` and clear or replace the cache
    // before they drop it).
    unsafe { hilo_internal_set_cached_name(version_word, version, name) };
}

/// Keeps `name` as the calling thread's name (a copy, or a reference when
/// it is long), for `enter`. Called under the slot's mutex, where `name` is
/// the record's name, so that the new thread takes no reference of its own
/// to a short name.
pub fn keep_name(name: &Arc<CStr>) {
    CURRENT.with(|current| replace_name(current, name));
}

/// Marks the calling thread as the thread of `handle`, whose name (kept by
/// `keep_name`) is the slot's name at `name_version`.
pub fn enter(handle: Handle, slot: &'static Slot, name_version: u32) {
    CURRENT.with(|current| {
        current.handle.set(handle);
        current.slot.set(slot);
        set_cache(Some(slot), name_version, cached_name(current));
    });
    slot.thread_pointer
        .store(os::thread_pointer(), Ordering::Release);
    // A thread that drew its token before it had a record.
    let token = crate::sync::drawn_token();
    if token != 0 {
        slot.token.store(token, Ordering::Release);
    }
}

/// The calling thread's record, for a wait about to block (src/waits.rs):
/// a thread hilo did not create is registered as a dummy first, so that a
/// dump shows what it waits for. None once its identity has ended, and
/// once its record is freed (a released hilo thread in its destructors):
/// the slot may already hold another thread's record, whose wait cell
/// only that thread writes.
pub fn wait_slot() -> Option<&'static Slot> {
    handle();
    own_slot()
}

/// The calling thread's slot while it holds the thread's record.
fn own_slot() -> Option<&'static Slot> {
    let (handle, slot) = CURRENT
        .try_with(|current| {
            (!current.torn_down.get()).then(|| (current.handle.get(), current.slot.get()))
        })
        .ok()
        .flatten()?;
    // SAFETY: a non-null slot pointer came from the registry, whose slots
    // are never freed.
    let slot = unsafe { slot.as_ref() }?;
    // A record is freed only after its thread has finished, so a record
    // still here is this thread's for as long as the caller needs it, but
    // for a released thread's own destructors, where the slot may be
    // taken right after this check (a narrow window; no memory is at
    // stake, only which thread a dump shows waiting).
    slot.load().names(handle).then_some(slot)
}

/// The calling thread has just drawn `token` (`sync::thread_token`): its
/// record, if it has one, learns it.
pub fn publish_token(token: u64) {
    if let Some(slot) = own_slot() {
        slot.token.store(token, Ordering::Release);
    }
}

/// Makes `name` the thread's cached name: a copy in `inline` when it fits,
/// else a new reference. The caller sets the C cache afterwards (it may
/// point at `inline`, whose bytes change here: a name that
/// `hilo_current_name` gave is valid only until this thread's next call).
fn replace_name(current: &Current, name: &Arc<CStr>) {
    let bytes = name.to_bytes_with_nul();
    let long = if bytes.len() <= INLINE_NAME {
        // SAFETY: the calling thread's own buffer, not borrowed elsewhere;
        // the copy fits (checked above).
        unsafe { (&mut *current.inline.get())[..bytes.len()].copy_from_slice(bytes) };
        None
    } else {
        NonNull::new(Arc::into_raw(name.clone()).cast_mut())
    };
    let taken = long.is_some();
    drop_name(current.name.replace(long));
    if taken && current.ending.get() == ENDS_HILO {
        // A hilo thread past its target (in a destructor) took a reference
        // to a long name: it must be dropped as the thread ends.
        set_teardown_key();
    }
}

fn drop_name(name: Option<NonNull<CStr>>) {
    if let Some(name) = name {
        // SAFETY: the pointer came from `Arc::into_raw` in `replace_name`,
        // and the cell that held it owned that strong reference.
        drop(unsafe { Arc::from_raw(name.as_ptr().cast_const()) });
    }
}

fn cached_name(current: &Current) -> *const c_char {
    match current.name.get() {
        // SAFETY: the cell holds a strong reference while it is Some.
        Some(name) => unsafe { name.as_ref() }.as_ptr(),
        // NUL-terminated: zeroed at first, then a whole name with its NUL.
        None => current.inline.get().cast::<c_char>().cast_const(),
    }
}

/// The calling thread's handle if this thread has one in its thread-local
/// identity, else 0.
pub fn handle_if_registered() -> Handle {
    CURRENT
        .try_with(|current| current.handle.get())
        .unwrap_or(0)
}

/// The calling thread's handle if it is known without registering it: a hilo
/// thread, a registered main or dummy thread, or the initial thread.
pub fn handle_if_known() -> Handle {
    let handle = handle_if_registered();
    if handle != 0 {
        handle
    } else if os::is_initial_thread() {
        enter_main()
    } else {
        0
    }
}

/// The calling thread's handle, registering the main thread or a dummy on
/// first use.
pub fn handle() -> Handle {
    let handle = handle_if_registered();
    if handle != 0 {
        return handle;
    }
    register()
}

fn register() -> Handle {
    if os::is_initial_thread() {
        return enter_main();
    }
    let (handle, slot) = register_dummy();
    enter_registered(handle, slot);
    arm_teardown(ENDS_DUMMY);
    handle
}

/// Marks the calling thread, the initial one, as the main thread, so that
/// later calls know it from the thread-local without asking the kernel
/// (`gettid`, `getpid`) again.
fn enter_main() -> Handle {
    let handle = main_handle();
    enter_registered(handle, registry().slot(handle).expect("main slot exists"));
    // Its identity ends, and its joiners return, if it ends with
    // pthread_exit (an exit() runs no key destructors).
    arm_teardown(ENDS_MAIN);
    handle
}

fn enter_registered(handle: Handle, slot: &'static Slot) -> Handle {
    let record = slot.record.lock();
    keep_name(&record.name);
    let version = slot.name_version.load(Ordering::Acquire);
    drop(record);
    enter(handle, slot, version);
    handle
}

/// Whether a thread created now by the calling thread is a daemon: as the
/// calling thread, where a thread hilo did not create counts as a daemon.
pub fn is_daemon() -> bool {
    let slot = CURRENT
        .try_with(|current| current.slot.get())
        .unwrap_or(ptr::null());
    let slot = if !slot.is_null() {
        slot
    } else if os::is_initial_thread() {
        enter_main();
        registry().slot(main_handle()).expect("main slot exists")
    } else {
        return true;
    };
    // SAFETY: slots are never freed.
    unsafe { &*slot }.load().has(DAEMON)
}

/// The calling thread's name. Valid until the same thread calls this again
/// or ends. The common path is an initial-exec thread-local read and one
/// atomic load in C (src/current_cache.c); `slow` takes the other path,
/// where the cache is empty or stale, and must not unwind.
#[inline]
pub fn name(slow: extern "C" fn() -> *const c_char) -> *const c_char {
    // SAFETY: reads the calling thread's own cache; the name it returns is
    // held by `Current::name` until this thread renames or ends. `slow` is
    // an `extern "C"` function that does not unwind (the caller's promise).
    unsafe { hilo_internal_current_name(slow) }
}

/// `name()`'s other path: registers the calling thread if it is new,
/// caches its name and returns it.
pub fn refresh_name() -> *const c_char {
    let handle = handle();
    CURRENT.with(|current| {
        if current.torn_down.get() {
            // Past its last destructor round: nothing may be cached now.
            return c"".as_ptr();
        }
        let slot = current.slot.get();
        // SAFETY: `handle()` set the slot; slots are never freed.
        let slot: &'static Slot = unsafe { &*slot };
        let record = slot.record.lock();
        if slot.load().names(handle) {
            let version = slot.name_version.load(Ordering::Acquire);
            replace_name(current, &record.name);
            set_cache(Some(slot), version, cached_name(current));
        }
        drop(record);
        cached_name(current)
    })
}
