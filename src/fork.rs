//! Fork safety. After `fork()` the child has one thread, the one that forked:
//! it becomes the child's main thread (also when it was not the parent's main
//! thread, as in CPython); every other record reports not alive and joins at
//! once; every internal lock is usable; new threads start and join.
//!
//! This file is the orchestrator: it states the lock order once and calls
//! each module's fix-up of the state it owns. What a lock does across a fork
//! is `futex::ForkLock`. The process-wide locks (symbolizer, timer map,
//! allocator, join graph, exit flag) are held across the fork by the forking thread, so the
//! child sees their data whole. A slot's lock may be held by a thread that
//! does not exist in the child: the registry's fix-up releases it. A slot's
//! critical sections only swap a few fields, and free what they replace
//! only after the swap (`Slot::rename`), so what the child finds there is
//! usable.
//!
//! Every lock of hilo is a futex word (futex.rs): the child handler touches
//! nothing process-wide that a vanished thread could have left locked, and
//! the sync objects (src/sync) keep working in the child. Those keep the
//! state the fork found, as pthread mutexes do: a Lock held by a thread that
//! is not in the child stays held until the child releases it.

use std::panic::catch_unwind;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::futex::{self, ForkLock};
use crate::registry::registry;
use crate::sync::local;
use crate::{blocks, current, executor, exit, joins, os, stacks, timer, watch};

/// The forking thread's handle, noted before the fork (in the child,
/// `gettid() == getpid()` no longer tells the parent's main thread apart).
static FORKING: AtomicU64 = AtomicU64::new(0);

/// The process-wide locks, in the one order in which they are taken: no
/// code path holds one of these while taking one earlier in the list.
fn locks() -> [&'static dyn ForkLock; 7] {
    [
        // Held while nothing else is (src/stacks.rs): first.
        stacks::fork_lock(),
        timer::fork_lock(),
        local::fork_lock(),
        registry().allocator_lock(),
        joins::fork_lock(),
        executor::fork_lock(),
        // Taken with an executor's arena lock held, or none.
        blocks::fork_lock(),
    ]
}

/// `pthread_atfork`'s prepare handler (installed by `current::init`).
pub extern "C" fn before_fork() {
    let _ = catch_unwind(|| {
        // Outside the locks: a new thread publishes its id under its slot's
        // lock only. Bounded, in case a start is stuck in the OS.
        registry().await_native_ids(Instant::now() + Duration::from_millis(200));
        for lock in locks() {
            lock.hold_across_fork();
        }
        // Only now, holding the locks: a second thread forking at the same
        // time waits above until this fork is done, and cannot overwrite
        // this thread's identity before the child reads it.
        FORKING.store(current::handle_if_known(), Ordering::Relaxed);
    });
}

/// `pthread_atfork`'s parent handler.
pub extern "C" fn after_fork_in_parent() {
    let _ = catch_unwind(|| {
        for lock in locks().into_iter().rev() {
            // SAFETY: `before_fork` took each of these locks, and this runs
            // once after it.
            unsafe { lock.release_in_parent() };
        }
    });
}

/// `pthread_atfork`'s child handler.
pub extern "C" fn after_fork_in_child() {
    let _ = catch_unwind(|| {
        // First: every lock held now was taken before the fork.
        futex::new_fork_generation();
        executor::after_fork_in_child();
        let me = FORKING.load(Ordering::Relaxed);
        // SAFETY: the child has one thread, this one, and it holds no guard
        // of any of hilo's locks (`before_fork` forgot its guards).
        unsafe {
            for lock in locks() {
                lock.reset_in_child();
            }
            registry().after_fork_in_child(me);
        }
        joins::after_fork_in_child();
        exit::after_fork_in_child();
        current::become_main_after_fork(me, os::gettid());
        watch::after_fork_in_child();
    });
}
