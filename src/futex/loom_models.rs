//! Loom models of src/futex.rs: every interleaving (up to a preemption
//! bound) of a few threads using `FutexMutex`, `Condvar` and the fork reset,
//! over the futex modelled in src/futex/shim.rs. Run by .ci/loom.sh, which
//! says what they cover and what they do not. A hang in a model (every
//! thread asleep) is loom's "deadlock" failure: a lost wake-up.

use super::shim::{last_outcome, set_early_returns, Outcome};
use super::*;

use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;

/// Preemptions explored per execution (LOOM_MAX_PREEMPTIONS overrides):
/// enough for the bugs these locks could have (a wake-up lost between two
/// steps of two threads), small enough that the whole run takes seconds.
const PREEMPTIONS: usize = 4;

fn check<F: Fn() + Sync + Send + 'static>(model: F) {
    check_capped(usize::MAX, model);
}

/// Runs `model` in loom at a preemption bound of `LOOM_MAX_PREEMPTIONS`
/// (or `PREEMPTIONS`), but at most `cap`, and prints how many executions
/// that took.
pub(super) fn check_capped<F: Fn() + Sync + Send + 'static>(cap: usize, model: F) {
    let mut builder = loom::model::Builder::new();
    let bound = builder.preemption_bound.unwrap_or(PREEMPTIONS).min(cap);
    builder.preemption_bound = Some(bound);
    let executions = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = std::sync::Arc::clone(&executions);
    builder.check(move || {
        counted.fetch_add(1, Ordering::Relaxed);
        model();
    });
    let name = std::thread::current().name().unwrap_or("?").to_owned();
    println!(
        "{name}: {} executions (preemption bound {bound})",
        executions.load(Ordering::Relaxed)
    );
}

/// A deadline no model reaches: a timed wait that returns early then stands
/// for one that timed out (the modelled futex lets it give up at any point).
fn far() -> Option<Instant> {
    Some(Instant::now() + Duration::from_secs(3600))
}

/// Creates the loom objects behind a lock's word before threads share it
/// (loom wants every access to happen after the creation).
fn touch<T>(mutex: &Mutex<T>) {
    let _ = mutex.is_locked();
}

fn touch_condvar(condvar: &Condvar) {
    condvar.sequence.load(Ordering::Relaxed);
    condvar.waiters.load(Ordering::Relaxed);
}

/// Adds one under the lock through a loom cell: loom fails the model if two
/// holders' accesses are not ordered by the lock's Acquire and Release.
fn add_one(counter: &Mutex<UnsafeCell<u32>>) {
    let guard = counter.lock();
    // SAFETY: the guard makes this the only access (what the model checks).
    guard.with_mut(|value| unsafe { *value += 1 });
}

fn total(counter: &Mutex<UnsafeCell<u32>>) -> u32 {
    let guard = counter.lock();
    // SAFETY: as in `add_one`.
    guard.with(|value| unsafe { *value })
}

fn counter() -> Arc<Mutex<UnsafeCell<u32>>> {
    let counter = Arc::new(Mutex::new(UnsafeCell::new(0)));
    touch(&counter);
    counter
}

#[test]
fn mutex_two_threads_twice_each_exclude_and_wake() {
    check(|| {
        let counter = counter();
        let other = {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                add_one(&counter);
                add_one(&counter);
            })
        };
        add_one(&counter);
        add_one(&counter);
        other.join().unwrap();
        assert_eq!(total(&counter), 4);
        assert!(!counter.is_locked());
    });
}

/// Three threads, each taking the lock `times` times: a sleeper woken by
/// one unlock can lose the race to a newcomer and must sleep again.
fn three_threads_exclude_and_wake(times: u32) {
    check(move || {
        let counter = counter();
        let others: Vec<_> = (0..2)
            .map(|_| {
                let counter = Arc::clone(&counter);
                thread::spawn(move || (0..times).for_each(|_| add_one(&counter)))
            })
            .collect();
        (0..times).for_each(|_| add_one(&counter));
        for other in others {
            other.join().unwrap();
        }
        assert_eq!(total(&counter), 3 * times);
        assert!(!counter.is_locked());
    });
}

#[test]
fn mutex_three_threads_exclude_and_wake() {
    three_threads_exclude_and_wake(1);
}

#[test]
fn mutex_three_threads_twice_each_exclude_and_wake() {
    three_threads_exclude_and_wake(2);
}

/// A timed locker that gives up (its deadline passed after it marked the
/// word CONTENDED, or its futex waits return early) neither takes the lock
/// nor strands a thread asleep on it.
#[test]
fn mutex_a_timed_locker_that_gives_up_strands_nobody() {
    check(|| {
        let counter = counter();
        let quitter = {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                // Already expired: one try, the spin, one CONTENDED swap.
                if let Some(guard) = counter.try_lock_until(Instant::now()) {
                    // SAFETY: the guard makes this the only access.
                    guard.with_mut(|value| unsafe { *value += 1 });
                }
            })
        };
        let retrier = {
            let counter = Arc::clone(&counter);
            thread::spawn(move || {
                set_early_returns(true);
                let guard = counter.try_lock_until(far().unwrap());
                assert!(guard.is_some(), "a far deadline never passes");
            })
        };
        add_one(&counter);
        quitter.join().unwrap();
        retrier.join().unwrap();
        assert!((1..=2).contains(&total(&counter)));
        assert!(!counter.is_locked());
    });
}

/// hilo_lock's use (src/sync/lock.rs): any thread may release. Two threads
/// race to release a lock that is held while its holder takes it again
/// (sleeping until a release): every hold is undone by exactly one
/// successful release or still held at the end, and the sleeper wakes.
#[test]
fn mutex_racing_releases_by_other_threads_undo_each_hold_once() {
    check(|| {
        let lock = Arc::new(FutexMutex::INIT);
        assert!(lock.try_lock());
        let releasers: Vec<_> = (0..2)
            .map(|_| {
                let lock = Arc::clone(&lock);
                thread::spawn(move || lock.release())
            })
            .collect();
        lock.lock();
        let released: u32 = releasers
            .into_iter()
            .map(|releaser| u32::from(releaser.join().unwrap()))
            .sum();
        assert_eq!(released + u32::from(lock.is_locked()), 2);
    });
}

/// The caller's pattern: change the state under the lock, notify (here
/// after unlocking, the harder case); a waiter checks the state under the
/// lock and waits in a loop.
fn notify_one_is_not_lost(early_returns: bool, notify_under_lock: bool) {
    check(move || {
        let shared = Arc::new((Mutex::new(false), Condvar::new()));
        touch(&shared.0);
        touch_condvar(&shared.1);
        let waiter = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                set_early_returns(early_returns);
                let (mutex, condvar) = &*shared;
                let mut ready = mutex.lock();
                while !*ready {
                    condvar.wait(&mut ready);
                }
            })
        };
        let (mutex, condvar) = &*shared;
        let mut ready = mutex.lock();
        *ready = true;
        if notify_under_lock {
            condvar.notify_one();
            drop(ready);
        } else {
            drop(ready);
            condvar.notify_one();
        }
        waiter.join().unwrap();
    });
}

#[test]
fn condvar_notify_one_after_unlock_is_not_lost() {
    notify_one_is_not_lost(false, false);
}

#[test]
fn condvar_notify_one_under_the_lock_is_not_lost() {
    notify_one_is_not_lost(false, true);
}

#[test]
fn condvar_notify_one_is_not_lost_with_spurious_returns() {
    notify_one_is_not_lost(true, false);
}

/// A timed waiter leaves (its futex wait returns early: a timeout), a live
/// waiter waits on. The one notify_one must reach the live waiter unless
/// the timed one was really woken by it (then the timed one had the
/// notification, and hands it on, as a caller that got it would act on it).
#[test]
fn condvar_notify_one_is_not_spent_on_a_departed_waiter() {
    check(|| {
        let shared = Arc::new((Mutex::new(false), Condvar::new()));
        touch(&shared.0);
        touch_condvar(&shared.1);
        let timed = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let (mutex, condvar) = &*shared;
                let mut ready = mutex.lock();
                if !*ready {
                    let _ = condvar.wait_until(&mut ready, far());
                    if last_outcome(&condvar.sequence) == Some(Outcome::Woken) {
                        drop(ready);
                        condvar.notify_one();
                    }
                }
            })
        };
        let live = {
            let shared = Arc::clone(&shared);
            thread::spawn(move || {
                let (mutex, condvar) = &*shared;
                let mut ready = mutex.lock();
                while !*ready {
                    condvar.wait(&mut ready);
                }
            })
        };
        let (mutex, condvar) = &*shared;
        *mutex.lock() = true;
        condvar.notify_one();
        timed.join().unwrap();
        live.join().unwrap();
    });
}

/// Two notify_one calls, each after adding one token under the lock, wake
/// two waiters that each take one (a semaphore's pattern, src/sync).
#[test]
fn condvar_two_notify_ones_wake_two_waiters() {
    check(|| {
        let shared = Arc::new((Mutex::new(0u32), Condvar::new()));
        touch(&shared.0);
        touch_condvar(&shared.1);
        let take = |shared: Arc<(Mutex<u32>, Condvar)>| {
            thread::spawn(move || {
                let (mutex, condvar) = &*shared;
                let mut tokens = mutex.lock();
                while *tokens == 0 {
                    condvar.wait(&mut tokens);
                }
                *tokens -= 1;
            })
        };
        let takers = [take(Arc::clone(&shared)), take(Arc::clone(&shared))];
        let give = || {
            let (mutex, condvar) = &*shared;
            *mutex.lock() += 1;
            condvar.notify_one();
        };
        give();
        give();
        for taker in takers {
            taker.join().unwrap();
        }
        assert_eq!(*shared.0.lock(), 0);
    });
}

#[test]
fn condvar_notify_all_wakes_every_waiter() {
    check(|| {
        let shared = Arc::new((Mutex::new(false), Condvar::new()));
        touch(&shared.0);
        touch_condvar(&shared.1);
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let shared = Arc::clone(&shared);
                thread::spawn(move || {
                    let (mutex, condvar) = &*shared;
                    let mut ready = mutex.lock();
                    while !*ready {
                        condvar.wait(&mut ready);
                    }
                })
            })
            .collect();
        let (mutex, condvar) = &*shared;
        *mutex.lock() = true;
        condvar.notify_all();
        for waiter in waiters {
            waiter.join().unwrap();
        }
    });
}

/// The forking thread holds a lock across fork() while another thread
/// sleeps on it: the parent's release wakes that thread.
#[test]
fn fork_release_in_parent_wakes_a_sleeper() {
    check(|| {
        let counter = counter();
        let other = {
            let counter = Arc::clone(&counter);
            thread::spawn(move || add_one(&counter))
        };
        counter.hold_across_fork();
        // fork() would be here.
        // SAFETY: held by `hold_across_fork` just above, released once.
        unsafe { counter.release_in_parent() };
        other.join().unwrap();
        assert_eq!(total(&counter), 1);
    });
}

/// A forked child's copy of a lock and a condition variable: whatever a
/// vanished thread left in the words (held, held with sleepers, counted
/// waiters; the child has none of their futex waiters), after the reset the
/// child's thread and a thread it starts hand over through them.
#[test]
fn fork_reset_in_child_from_any_state_leaves_them_usable() {
    for state in [UNLOCKED, LOCKED, CONTENDED] {
        for waiters in [0, 2] {
            check(move || {
                let shared = Arc::new((
                    Mutex::from_raw(
                        FutexMutex {
                            state: AtomicU32::new(state),
                        },
                        false,
                    ),
                    Condvar {
                        sequence: AtomicU32::new(7),
                        waiters: AtomicU32::new(waiters),
                    },
                ));
                let (mutex, condvar) = &*shared;
                // SAFETY: the model's one thread so far, no guard alive.
                unsafe {
                    mutex.reset_in_child();
                    condvar.reset_in_child();
                }
                touch_condvar(condvar);
                let started = {
                    let shared = Arc::clone(&shared);
                    thread::spawn(move || {
                        let (mutex, condvar) = &*shared;
                        *mutex.lock() = true;
                        condvar.notify_one();
                    })
                };
                let mut ready = mutex.lock();
                while !*ready {
                    condvar.wait(&mut ready);
                }
                drop(ready);
                started.join().unwrap();
                assert!(!mutex.is_locked());
            });
        }
    }
}

/// The models can fail: a child that skips the reset of a lock a vanished
/// thread held sleeps for good, which loom reports.
#[test]
#[should_panic]
fn fork_a_child_that_skips_the_reset_hangs() {
    check(|| {
        let mutex = Mutex::from_raw(
            FutexMutex {
                state: AtomicU32::new(LOCKED),
            },
            (),
        );
        drop(mutex.lock());
    });
}

/// A forked child, without any reset: an internal lock that a vanished
/// thread held (its word carries the generation before the fork) is taken
/// over by the child's threads, by one at a time, and hands over as usual
/// afterwards; a `hilo_lock`-style timed acquire (`lock_until`) leaves such
/// a lock held, as a pthread mutex would stay.
#[test]
fn fork_an_internal_lock_held_before_the_fork_is_taken_over_once() {
    check(|| {
        let stale = generation().wrapping_sub(1 << GENERATION_SHIFT) | LOCKED;
        let held = FutexMutex {
            state: AtomicU32::new(stale),
        };
        assert_eq!(held.lock_until(Some(Instant::now())), Ok(false));
        let counter = Arc::new(Mutex::from_raw(
            FutexMutex {
                state: AtomicU32::new(stale),
            },
            UnsafeCell::new(0),
        ));
        touch(&counter);
        let other = {
            let counter = Arc::clone(&counter);
            thread::spawn(move || add_one(&counter))
        };
        add_one(&counter);
        other.join().unwrap();
        assert_eq!(total(&counter), 2);
        assert!(!counter.is_locked());
    });
}
