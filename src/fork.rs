//! Fork safety. After `fork()` the child has one thread, the one that forked:
//! it becomes the child's main thread (also when it was not the parent's main
//! thread, as in CPython); every other record reports not alive and joins at
//! once; every internal lock is usable; new threads start and join.
//!
//! The global locks (timer map, allocator, join graph, exit flag) are held
//! across the fork by the forking thread, so the child sees their data
//! whole. A slot's lock may be held by a thread that does not exist in the
//! child: the child handler releases it. A slot's critical sections only
//! swap a few fields, so what the child finds there is usable.
//!
//! Every lock of hilo is a futex word (futex.rs): the child handler touches
//! nothing process-wide that a vanished thread could have left locked, and
//! the sync objects (src/sync) keep working in the child. Those keep the
//! state the fork found, as pthread mutexes do: a Lock held by a thread that
//! is not in the child stays held until the child releases it.

use std::panic::catch_unwind;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::futex::{Condvar, Mutex};
use crate::registry::{registry, Reap, DAEMON, DUMMY, FINISHED, MAIN, RELEASED, RUNNING};
use crate::sync::timer;
use crate::{current, exit, joins, os, registry, threads};

/// The forking thread's handle, noted before the fork (in the child,
/// `gettid() == getpid()` no longer tells the parent's main thread apart).
static FORKING: AtomicU64 = AtomicU64::new(0);

/// Registers the handlers, once (from the thread manager's init).
pub fn install() {
    os::at_fork(before_fork, after_fork_in_parent, after_fork_in_child);
}

extern "C" fn before_fork() {
    let _ = catch_unwind(|| {
        FORKING.store(current::handle_if_known(), Ordering::Relaxed);
        // Always in this order, and no code path holds one of these while
        // taking one earlier in the list.
        timer::lock_for_fork();
        registry().lock_for_fork();
        joins::lock_for_fork();
        exit::lock_for_fork();
    });
}

extern "C" fn after_fork_in_parent() {
    // SAFETY: `before_fork` took each of these locks, and this runs once
    // after it.
    let _ = catch_unwind(|| unsafe {
        exit::unlock_after_fork();
        joins::unlock_after_fork();
        registry().unlock_after_fork();
        timer::unlock_after_fork();
    });
}

/// Makes a lock of hilo's usable in a forked child, whatever state the
/// parent's threads left it in: held by a thread that does not exist here,
/// or with sleepers that do not exist here. One word to write; nothing
/// process-wide to touch (see futex.rs for why that matters).
///
/// # Safety
/// Only in a forked child, while it has one thread, and with no guard of
/// this mutex alive in that thread.
pub(crate) unsafe fn reset_mutex<T>(mutex: &Mutex<T>) {
    // SAFETY: `raw` only exposes the lock; the caller's promise is the one
    // `reset_after_fork` asks for.
    unsafe { mutex.raw().reset_after_fork() };
}

/// Forgets a condition variable's waiters, which do not exist in a forked
/// child.
///
/// # Safety
/// As for `reset_mutex`.
pub(crate) unsafe fn reset_condvar(condvar: &Condvar) {
    // SAFETY: as the caller guarantees.
    unsafe { condvar.reset_after_fork() };
}

extern "C" fn after_fork_in_child() {
    let _ = catch_unwind(|| {
        // SAFETY: the child has one thread, this one, and it holds no guard
        // of these locks (`before_fork` forgot its guards).
        unsafe {
            exit::reset_after_fork();
            joins::reset_after_fork();
            registry().reset_after_fork();
            timer::reset_after_fork();
        }
        joins::clear_all();
        let me = FORKING.load(Ordering::Relaxed);
        let reg = registry();
        reg.for_each(|handle, slot, word| {
            if handle == me {
                return;
            }
            let mut record = slot.record.lock();
            // The threads of other records do not exist here: their pthreads
            // can be neither joined nor detached.
            record.reap = Reap::Done;
            if word.state() == RUNNING {
                if word.has(RELEASED) || word.has(DUMMY) {
                    reg.remove(slot, &mut record, registry::index_of(handle));
                } else {
                    slot.set_flag(MAIN, false);
                    slot.set_state(FINISHED);
                }
            }
        });
        threads::become_main_after_fork(me, os::gettid());
    });
}

/// Keeps the word's flags for a forking thread that becomes the main thread.
pub(crate) fn main_flags(word_flags: u64) -> u64 {
    (word_flags | MAIN) & !(DUMMY | DAEMON | RELEASED)
}
