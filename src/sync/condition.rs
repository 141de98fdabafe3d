//! Condition (Python's `threading.Condition`): waiters queue in the order
//! they began to wait, and `notify(n)` wakes the first n, as CPython does
//! with one lock per waiter.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::futex::{Condvar, Mutex};
use crate::interrupt;

use super::lock::Saved;
use super::{Lock, RLock, Wait};
use crate::error::{Error, Result};
use crate::waits::{self, On};

/// The lock a Condition is bound to. Shared, so the caller's lock object may
/// go away before the condition does.
pub enum CondLock {
    Lock(Arc<Lock>),
    RLock(Arc<RLock>),
}

enum SavedLock {
    Lock,
    RLock(Saved),
}

impl CondLock {
    fn acquire(&self, wait: Wait) -> Result<bool> {
        match self {
            CondLock::Lock(lock) => lock.acquire(wait),
            CondLock::RLock(rlock) => rlock.acquire(wait),
        }
    }

    fn release(&self) -> Result<()> {
        match self {
            CondLock::Lock(lock) => lock.release(),
            CondLock::RLock(rlock) => rlock.release(),
        }
    }

    /// Python's `_is_owned`: a Lock counts as owned when anyone holds it.
    fn is_owned(&self) -> bool {
        match self {
            CondLock::Lock(lock) => lock.locked(),
            CondLock::RLock(rlock) => rlock.is_owned(),
        }
    }

    fn release_save(&self) -> Result<SavedLock> {
        match self {
            CondLock::Lock(lock) => lock.release().map(|()| SavedLock::Lock),
            CondLock::RLock(rlock) => Ok(SavedLock::RLock(rlock.release_save())),
        }
    }

    fn acquire_restore(&self, saved: SavedLock) {
        match (self, saved) {
            (CondLock::Lock(lock), _) => {
                // Not interruptible: a wait returns with the lock held,
                // whatever ended it (an RLock's `acquire_restore` is not).
                let _ = interrupt::uninterrupted(|| lock.acquire(Wait::Until(None)));
            }
            (CondLock::RLock(rlock), SavedLock::RLock(saved)) => rlock.acquire_restore(saved),
            (CondLock::RLock(_), SavedLock::Lock) => unreachable!("saved from the same lock"),
        }
    }
}

/// One waiting thread. `notified` changes only under the queue's mutex,
/// which `wake` is used with.
struct Waiter {
    notified: AtomicBool,
    wake: Condvar,
}

pub struct Condition {
    lock: CondLock,
    /// The waiters, first to wait first.
    waiters: Mutex<VecDeque<Arc<Waiter>>>,
}

impl Condition {
    pub fn new(lock: CondLock) -> Condition {
        Condition {
            lock,
            waiters: Mutex::new(VecDeque::new()),
        }
    }

    pub fn acquire(&self, wait: Wait) -> Result<bool> {
        self.lock.acquire(wait)
    }

    pub fn release(&self) -> Result<()> {
        self.lock.release()
    }

    /// Releases the lock, waits for a notify or `deadline` (None: forever),
    /// and takes the lock again. True when notified. `HILO_EINTR`, with the
    /// lock taken again and this waiter off the queue, when a signal handler
    /// interrupted the wait of an interruptible thread before a notify came
    /// (a notify that came first wins, so none is lost).
    pub fn wait(&self, deadline: Option<Instant>) -> Result<bool> {
        if !self.lock.is_owned() {
            return Err(Error::state("cannot wait on un-acquired lock"));
        }
        let me = Arc::new(Waiter {
            notified: AtomicBool::new(false),
            wake: Condvar::new(),
        });
        // Queued before the lock is released, so no notify can miss it.
        self.waiters.lock().push_back(Arc::clone(&me));
        let saved = match self.lock.release_save() {
            Ok(saved) => saved,
            Err(err) => {
                // Another thread released the (unowned) Lock meanwhile.
                self.forget(&me);
                return Err(err);
            }
        };
        let waiting = waits::begin(On::Condition(self));
        let notified = {
            let mut waiters = self.waiters.lock();
            loop {
                if me.notified.load(Ordering::Relaxed) {
                    break Ok(true);
                }
                let woken = me.wake.wait_until(&mut waiters, deadline);
                if woken != Ok(true) && !me.notified.load(Ordering::Relaxed) {
                    // Timed out or interrupted and still queued: leave the
                    // queue, so no notify is spent on this waiter.
                    waiters.retain(|waiter| !Arc::ptr_eq(waiter, &me));
                    break woken;
                }
            }
        };
        drop(waiting);
        self.lock.acquire_restore(saved);
        Ok(notified?)
    }

    /// Python's `wait_for`: waits until `predicate` (called with the lock
    /// held) is true or `deadline` passes, the deadline fixed once. True
    /// when it is true; false when still false at the deadline, after one
    /// last call. `HILO_EINTR` from a wait leaves with the lock held.
    pub fn wait_for(
        &self,
        mut predicate: impl FnMut() -> bool,
        deadline: Option<Instant>,
    ) -> Result<bool> {
        if !self.lock.is_owned() {
            return Err(Error::state("cannot wait on un-acquired lock"));
        }
        loop {
            if predicate() {
                return Ok(true);
            }
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Ok(false);
            }
            self.wait(deadline)?;
        }
    }

    fn forget(&self, me: &Arc<Waiter>) {
        self.waiters
            .lock()
            .retain(|waiter| !Arc::ptr_eq(waiter, me));
    }

    /// Wakes up to `n` waiters, those that began to wait first.
    pub fn notify(&self, n: usize) -> Result<()> {
        if !self.lock.is_owned() {
            return Err(Error::state("cannot notify on un-acquired lock"));
        }
        let mut waiters = self.waiters.lock();
        let n = n.min(waiters.len());
        if n == 0 {
            return Ok(());
        }
        // Marked under the queue's lock, woken after it is released, so
        // that a woken waiter does not find the lock held.
        let woken: Vec<Arc<Waiter>> = waiters
            .drain(..n)
            .inspect(|waiter| waiter.notified.store(true, Ordering::Relaxed))
            .collect();
        drop(waiters);
        for waiter in woken {
            waiter.wake.notify_one();
        }
        Ok(())
    }

    /// The address of its lock (for dumps).
    pub fn lock_address(&self) -> usize {
        match &self.lock {
            CondLock::Lock(lock) => Arc::as_ptr(lock) as usize,
            CondLock::RLock(rlock) => Arc::as_ptr(rlock) as usize,
        }
    }

    pub fn notify_all(&self) -> Result<()> {
        self.notify(usize::MAX)
    }
}
