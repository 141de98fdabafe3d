//! Every lock and condition variable of hilo, the thread manager's and the
//! sync objects' (src/sync): a mutex and a condition variable on one Linux
//! futex word each, used through `parking_lot::lock_api`'s guards.
//!
//! Why not parking_lot's own: its waiters queue in one process-wide hash
//! table whose buckets have locks of their own. A thread that holds a
//! bucket's lock at the instant another thread calls `fork()` leaves it held
//! for good in the child, and the child then hangs at its first wait or
//! wake that hashes to that bucket: inside hilo's fork handler, in its
//! first `hilo_join`, or at its first contended `hilo_lock` or event wait
//! (CI caught one such hang). A futex word carries all of its lock's state,
//! and the kernel keeps the waiters, so nothing is shared between locks; a
//! forked child makes one of hilo's own locks usable again by writing one
//! word (`reset_after_fork`).

use std::time::{Duration, Instant};

use parking_lot::lock_api::{GuardNoSend, RawMutex, RawMutexTimed};

use crate::interrupt::{self, Interrupted};

// The word, the futex calls and the spin hint: std's and src/os.rs's, or
// loom's in the loom models (src/futex/shim.rs).
mod shim;
use shim::{AtomicU32, Ordering};
#[cfg(all(test, loom))]
mod loom_exit_word;
#[cfg(all(test, loom))]
mod loom_models;

const UNLOCKED: u32 = 0;
const LOCKED: u32 = 1;
/// Locked, and a thread may sleep on the word: unlocking must wake one.
const CONTENDED: u32 = 2;
/// The low bits of a word hold UNLOCKED, LOCKED or CONTENDED; the bits above
/// them, in a held lock, the fork generation in which it was taken.
const STATE_BITS: u32 = 0b11;
const GENERATION_SHIFT: u32 = 2;

/// How many forks lie between the process's first ancestor and this one
/// (wrapping), shifted into a lock word's generation bits. Bumped first
/// thing in a forked child. A held lock whose word carries an older
/// generation was taken by a thread that is not in this process: hilo's
/// internal locks (`Mutex<T>`) take it over, so that no hilo call in a child
/// blocks on one left behind by a thread that vanished in the fork (the sync
/// objects' internal locks included). A `hilo_lock` (`lock_until`) does not:
/// it stays held, as a pthread mutex does.
static GENERATION: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

fn generation() -> u32 {
    GENERATION.load(std::sync::atomic::Ordering::Relaxed) << GENERATION_SHIFT
}

/// In a forked child, before any other thread exists there: every lock
/// held now was taken before the fork.
pub fn new_fork_generation() {
    GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// How many times a locker re-reads a held lock before it sleeps (glibc's
/// adaptive mutex spins up to 100 times too). Once in the loom models.
const SPINS: u32 = if cfg!(all(test, loom)) { 1 } else { 100 };

/// The deadline has passed.
pub(crate) struct Expired;

/// How long a sleep until `deadline` may last: None for no deadline.
pub(crate) fn time_left(deadline: Option<Instant>) -> Result<Option<Duration>, Expired> {
    let Some(deadline) = deadline else {
        return Ok(None);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(Expired)
    } else {
        Ok(Some(left))
    }
}

/// A mutex in one word (Drepper's "Futexes Are Tricky", mutex 2): one CAS
/// to lock and one swap to unlock when uncontended, a system call only when
/// a thread sleeps or must be woken.
pub struct FutexMutex {
    state: AtomicU32,
}

pub type Mutex<T> = parking_lot::lock_api::Mutex<FutexMutex, T>;
pub type MutexGuard<'a, T> = parking_lot::lock_api::MutexGuard<'a, FutexMutex, T>;

impl FutexMutex {
    /// Spins a little, then sleeps until the lock is taken or `deadline`
    /// passes. True when taken. With `take_over`, a lock held since before
    /// the last fork (see `GENERATION`) counts as free. With `interruptible`,
    /// `Interrupted` when a signal handler ran during a sleep of an
    /// interruptible thread and the lock is still held by another.
    #[cold]
    fn lock_slow(
        &self,
        deadline: Option<Instant>,
        take_over: bool,
        interruptible: bool,
    ) -> Result<bool, Interrupted> {
        let generation = generation();
        for _ in 0..SPINS {
            if self.state.load(Ordering::Relaxed) == UNLOCKED
                && self
                    .state
                    .compare_exchange(
                        UNLOCKED,
                        generation | LOCKED,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    )
                    .is_ok()
            {
                return Ok(true);
            }
            shim::spin_loop();
        }
        // From here on the lock is taken as CONTENDED: this thread cannot
        // tell whether others sleep, so its unlock must wake one.
        let mut interrupted = Ok(());
        loop {
            let old = self.state.swap(generation | CONTENDED, Ordering::Acquire);
            if old == UNLOCKED || (take_over && old & !STATE_BITS != generation) {
                return Ok(true);
            }
            interrupted?;
            let Ok(timeout) = time_left(deadline) else {
                return Ok(false);
            };
            let sleep = |timeout| shim::futex_wait(&self.state, generation | CONTENDED, timeout);
            if interruptible {
                interrupted = interrupt::sleep(timeout, sleep);
            } else {
                sleep(timeout);
            }
        }
    }

    /// Takes it, waiting at most until `deadline` (None: no limit). True
    /// when taken. A lock held by a thread that vanished in a fork stays
    /// held (this is `hilo_lock`'s acquire). Interruptible
    /// (src/interrupt.rs).
    #[inline]
    pub fn lock_until(&self, deadline: Option<Instant>) -> Result<bool, Interrupted> {
        if self.try_lock() {
            return Ok(true);
        }
        self.lock_slow(deadline, false, true)
    }

    /// Unlocks it, whichever thread locked it (hilo_lock is not owned).
    /// False, changing nothing, when it was not locked.
    #[inline]
    pub fn release(&self) -> bool {
        match self.state.swap(UNLOCKED, Ordering::Release) {
            UNLOCKED => false,
            old if old & STATE_BITS == CONTENDED => {
                shim::futex_wake(&self.state, 1);
                true
            }
            _ => true,
        }
    }

    /// In a forked child: unlocks it whoever held it (the holder does not
    /// exist in the child, and neither do the sleepers).
    ///
    /// # Safety
    /// Only in a forked child while it has one thread, with no guard of this
    /// lock alive in that thread.
    pub unsafe fn reset_in_child(&self) {
        self.state.store(UNLOCKED, Ordering::Relaxed);
    }
}

/// What fork handling (src/fork.rs) does to one of hilo's internal locks.
/// A lock that guards process-wide data is held by the forking thread across
/// `fork()`, so that the child sees that data whole, then released in the
/// parent and made usable again in the child. A lock that only guards a few
/// fields (a record's) is just made usable in the child, whatever a thread
/// that does not exist there left it in. One word to write either way:
/// nothing process-wide to touch (see the top of this file).
pub trait ForkLock: Sync {
    /// Takes the lock and keeps it past the end of this call.
    fn hold_across_fork(&self);

    /// Releases the lock `hold_across_fork` took, in the parent.
    ///
    /// # Safety
    /// Only after `hold_across_fork`, once.
    unsafe fn release_in_parent(&self);

    /// Unlocks it in a forked child, whoever held it.
    ///
    /// # Safety
    /// Only in a forked child while it has one thread, with no guard of this
    /// lock alive in that thread.
    unsafe fn reset_in_child(&self);
}

impl<T: ?Sized + Send> ForkLock for Mutex<T> {
    fn hold_across_fork(&self) {
        std::mem::forget(self.lock());
    }

    unsafe fn release_in_parent(&self) {
        // SAFETY: `hold_across_fork` left the lock held for us (the caller's
        // promise).
        unsafe { self.force_unlock() };
    }

    unsafe fn reset_in_child(&self) {
        // SAFETY: the caller's promise is the one `FutexMutex::reset_in_child`
        // asks for; `raw` only exposes the lock.
        unsafe { self.raw().reset_in_child() };
    }
}

// SAFETY: `lock`/`try_lock` return only once this thread moved the word
// from UNLOCKED to LOCKED or CONTENDED (with Acquire), or from a lock held
// since before the last fork, whose holder is not in this process, and
// `unlock` makes it UNLOCKED again (with Release), so at most one holder
// exists at a time.
unsafe impl RawMutex for FutexMutex {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: Self = FutexMutex {
        state: AtomicU32::new(UNLOCKED),
    };
    type GuardMarker = GuardNoSend;

    #[inline]
    fn lock(&self) {
        if !self.try_lock() {
            // hilo's internal locks: one that a thread which vanished in a
            // fork held is taken over; no signal interrupts them.
            let _ = self.lock_slow(None, true, false);
        }
    }

    #[inline]
    fn try_lock(&self) -> bool {
        self.state
            .compare_exchange(
                UNLOCKED,
                generation() | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    #[inline]
    unsafe fn unlock(&self) {
        self.release();
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) != UNLOCKED
    }
}

// SAFETY: as for `RawMutex`; the timed forms only add giving up.
unsafe impl RawMutexTimed for FutexMutex {
    type Duration = Duration;
    type Instant = Instant;

    fn try_lock_for(&self, timeout: Duration) -> bool {
        self.try_lock_until_opt(Instant::now().checked_add(timeout))
    }

    fn try_lock_until(&self, deadline: Instant) -> bool {
        self.try_lock_until_opt(Some(deadline))
    }
}

impl FutexMutex {
    /// The timed lock of hilo's internal code: not interruptible.
    fn try_lock_until_opt(&self, deadline: Option<Instant>) -> bool {
        self.try_lock() || self.lock_slow(deadline, false, false) == Ok(true)
    }
}

/// A condition variable on a sequence word: a waiter notes the sequence,
/// unlocks, and sleeps while it is unchanged; a notify bumps it and wakes.
/// Waiters are counted so that a notify nobody waits for costs no system
/// call. Wake-ups can be spurious: every caller waits in a loop on its
/// condition.
pub struct Condvar {
    sequence: AtomicU32,
    waiters: AtomicU32,
}

impl Condvar {
    pub const fn new() -> Condvar {
        Condvar {
            sequence: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Unlocks `guard`'s mutex, sleeps until notified (or spuriously), and
    /// locks it again. Not interruptible (hilo's internal waits).
    pub fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
        let _ = self.sleep(guard, None, false);
    }

    /// As `wait`, giving up at `deadline` (None: no limit). False when it
    /// gave up because the deadline has passed, true otherwise (notified, or
    /// spuriously): every wait of hilo answers true for "woken". A wait of
    /// the C API: `Interrupted`, with the mutex locked again, when the
    /// thread is interruptible and a signal handler ran during the sleep
    /// (src/interrupt.rs); the caller checks its condition before it gives up.
    pub fn wait_until<T>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
    ) -> Result<bool, Interrupted> {
        self.sleep(guard, deadline, true)
    }

    fn sleep<T>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Instant>,
        interruptible: bool,
    ) -> Result<bool, Interrupted> {
        let Ok(timeout) = time_left(deadline) else {
            return Ok(false);
        };
        // Counted before the lock is released: a notifier that changes the
        // condition under the lock then sees this waiter.
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let seen = self.sequence.load(Ordering::SeqCst);
        // SAFETY: `guard` proves this thread holds the mutex; it is unlocked
        // here and locked again below before `guard` is usable again.
        let raw = unsafe { MutexGuard::mutex(guard).raw() };
        // SAFETY: as above: this thread holds it.
        unsafe { raw.unlock() };
        let sleep = |timeout| shim::futex_wait(&self.sequence, seen, timeout);
        let interrupted = if interruptible {
            interrupt::sleep(timeout, sleep)
        } else {
            sleep(timeout);
            Ok(())
        };
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        raw.lock();
        interrupted?;
        Ok(deadline.is_none_or(|deadline| Instant::now() < deadline))
    }

    /// Wakes one waiter, if any.
    pub fn notify_one(&self) {
        self.notify(1);
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.notify(i32::MAX);
    }

    /// Wakes up to `count` waiters. The caller changed the condition under
    /// the mutex (and may have released it since): a waiter counted itself
    /// under that mutex, so either it is counted here or it saw the change
    /// and does not wait. Nobody waiting costs one load.
    fn notify(&self, count: i32) {
        if self.waiters.load(Ordering::SeqCst) != 0 {
            self.sequence.fetch_add(1, Ordering::SeqCst);
            shim::futex_wake(&self.sequence, count);
        }
    }

    /// In a forked child: forgets waiters that do not exist there.
    ///
    /// # Safety
    /// As for `FutexMutex::reset_in_child`.
    pub unsafe fn reset_in_child(&self) {
        self.waiters.store(0, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn the_mutex_excludes_under_contention() {
        let counter = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        let mut value = counter.lock();
                        // A read and a write apart: a second holder would
                        // lose updates.
                        let seen = *value;
                        std::hint::black_box(&seen);
                        *value = seen + 1;
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*counter.lock(), 80_000);
        assert!(!counter.is_locked());
    }

    #[test]
    fn a_timed_lock_gives_up_on_a_held_lock_and_takes_a_free_one() {
        let mutex = Mutex::new(());
        let guard = mutex.lock();
        assert!(mutex.try_lock().is_none());
        assert!(mutex.try_lock_for(Duration::from_millis(20)).is_none());
        drop(guard);
        assert!(mutex.try_lock_for(Duration::from_millis(20)).is_some());
    }

    #[test]
    fn notify_all_wakes_every_waiter() {
        let shared = Arc::new((Mutex::new((false, 0u32)), Condvar::new()));
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || {
                    let (mutex, condvar) = &*shared;
                    let mut state = mutex.lock();
                    state.1 += 1;
                    while !state.0 {
                        condvar.wait(&mut state);
                    }
                })
            })
            .collect();
        let (mutex, condvar) = &*shared;
        loop {
            let mut state = mutex.lock();
            if state.1 == 3 {
                state.0 = true;
                condvar.notify_all();
                break;
            }
            drop(state);
            std::thread::yield_now();
        }
        for waiter in waiters {
            waiter.join().unwrap();
        }
    }

    #[test]
    fn a_timed_wait_reports_its_timeout_and_holds_the_lock_again() {
        let mutex = Mutex::new(());
        let condvar = Condvar::new();
        let mut guard = mutex.lock();
        let deadline = Instant::now() + Duration::from_millis(20);
        while condvar.wait_until(&mut guard, Some(deadline)).unwrap() {}
        assert!(Instant::now() >= deadline);
        assert!(mutex.is_locked());
        drop(guard);
        assert!(!mutex.is_locked());
    }

    #[test]
    fn a_lock_held_across_fork_is_released_once_in_the_parent() {
        let mutex = Mutex::new(());
        mutex.hold_across_fork();
        assert!(mutex.try_lock().is_none());
        // SAFETY: held by `hold_across_fork` just above, released once.
        unsafe { mutex.release_in_parent() };
        assert!(mutex.try_lock().is_some());
    }

    #[test]
    fn a_reset_lock_is_free_and_a_reset_condvar_has_no_waiters() {
        let mutex = Mutex::new(());
        let condvar = Condvar::new();
        mutex.hold_across_fork();
        condvar.waiters.store(5, Ordering::Relaxed);
        // SAFETY: no guard of `mutex` is alive (the one taken was forgotten).
        unsafe {
            mutex.reset_in_child();
            condvar.reset_in_child();
        }
        assert!(mutex.try_lock().is_some());
        assert_eq!(condvar.waiters.load(Ordering::Relaxed), 0);
    }
}
