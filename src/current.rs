//! Who is calling: the calling thread's handle and its cached name, kept in
//! thread-local cells that need no destructor (so a new thread pays no TLS
//! destructor registration and no allocation for them).

use std::cell::Cell;
use std::ffi::{c_char, CStr};
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::os;
use crate::registry::{registry, Handle, Slot};
use crate::threads;

struct Current {
    handle: Cell<Handle>,
    slot: Cell<*const Slot>,
    /// The `name_version` of the slot when `name` was cached.
    name_version: Cell<u32>,
    /// A strong reference to the cached name (`Arc::into_raw`), or None.
    name: Cell<Option<NonNull<CStr>>>,
}

thread_local! {
    static CURRENT: Current = const {
        Current {
            handle: Cell::new(0),
            slot: Cell::new(ptr::null()),
            name_version: Cell::new(0),
            name: Cell::new(None),
        }
    };
}

/// Marks the calling thread as the thread of `handle`, caching `name`, which
/// is the slot's name at `name_version` (both read under the slot's mutex).
pub fn enter(handle: Handle, slot: &'static Slot, name: Arc<CStr>, name_version: u32) {
    CURRENT.with(|current| {
        current.handle.set(handle);
        current.slot.set(slot);
        current.name_version.set(name_version);
        replace_name(current, name);
    });
}

/// Forgets the calling thread's identity and drops its cached name.
pub fn leave() {
    let _ = CURRENT.try_with(|current| {
        current.handle.set(0);
        current.slot.set(ptr::null());
        drop_name(current.name.take());
    });
}

fn replace_name(current: &Current, name: Arc<CStr>) {
    drop_name(
        current
            .name
            .replace(NonNull::new(Arc::into_raw(name).cast_mut())),
    );
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
        None => c"".as_ptr(),
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
    let (handle, slot) = threads::register_dummy();
    enter_registered(handle, slot)
}

/// Marks the calling thread, the initial one, as the main thread, so that
/// later calls know it from the thread-local without asking the kernel
/// (`gettid`, `getpid`) again.
fn enter_main() -> Handle {
    let handle = threads::main_handle();
    enter_registered(handle, registry().slot(handle).expect("main slot exists"))
}

fn enter_registered(handle: Handle, slot: &'static Slot) -> Handle {
    let record = slot.record.lock();
    let (name, version) = (
        record.name.clone(),
        slot.name_version.load(Ordering::Acquire),
    );
    drop(record);
    enter(handle, slot, name, version);
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
        registry()
            .slot(threads::main_handle())
            .expect("main slot exists")
    } else {
        return true;
    };
    // SAFETY: slots are never freed.
    unsafe { &*slot }.load().has(crate::registry::DAEMON)
}

/// The calling thread's name. Valid until the same thread calls this again
/// or ends. The common path is a thread-local read and one atomic load.
pub fn name() -> *const c_char {
    let fast = CURRENT.try_with(|current| {
        let slot = current.slot.get();
        // SAFETY: slots are never freed.
        if !slot.is_null()
            && unsafe { &*slot }.name_version.load(Ordering::Acquire) == current.name_version.get()
        {
            Some(cached_name(current))
        } else {
            None
        }
    });
    match fast {
        Ok(Some(name)) => name,
        Ok(None) => refresh_name(),
        // The thread's TLS is being torn down: no identity to report.
        Err(_) => c"".as_ptr(),
    }
}

fn refresh_name() -> *const c_char {
    let handle = handle();
    CURRENT.with(|current| {
        let slot = current.slot.get();
        // SAFETY: `handle()` set the slot; slots are never freed.
        let slot = unsafe { &*slot };
        let record = slot.record.lock();
        if slot.load().names(handle) {
            current
                .name_version
                .set(slot.name_version.load(Ordering::Acquire));
            replace_name(current, record.name.clone());
        }
        drop(record);
        cached_name(current)
    })
}
