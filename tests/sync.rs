//! The sync objects through the exported C functions: Event, Lock, RLock,
//! Condition, Semaphore, Barrier, Timer and thread-local values, with the
//! exact status and `hilo_last_error` text of every misuse. Timeouts in the
//! multi-thread cases are upper bounds for "should wake", never the thing
//! being measured.

mod common;

use std::collections::BTreeSet;
use std::ffi::{c_void, CStr};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use common::{assert_fails, gettid, last_error, wait_until_blocked};
use hilo::*;

/// Generous upper bound for anything that should happen soon.
const SOON: f64 = 10.0;

/// A C object pointer that the test shares with its threads.
struct Shared<T>(*mut T);
impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Shared<T> {}
// SAFETY: hilo's objects are thread-safe; the tests free them only after
// every thread that uses them has been joined.
unsafe impl<T> Send for Shared<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Shared<T> {}
impl<T> Shared<T> {
    fn get(self) -> *mut T {
        self.0
    }
}

/// Spawns `f` on a scoped thread and returns its handle with its kernel
/// thread id, for `wait_until_blocked`.
fn spawn_with_tid<'s, T: Send + 's>(
    s: &'s thread::Scope<'s, '_>,
    f: impl FnOnce() -> T + Send + 's,
) -> (thread::ScopedJoinHandle<'s, T>, i64) {
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = s.spawn(move || {
        tx.send(gettid()).unwrap();
        f()
    });
    (handle, rx.recv().expect("the thread sends its id"))
}

/// Starts `n` threads each running `wait` (a wait with a long timeout),
/// observes each one blocked, runs `wake`, and returns what the waits that
/// ended within `SOON` of it returned. A wait the wake-up missed is not
/// among them: it ends only at its own timeout, which some objects report as
/// success (an Event found set, a notified Condition waiter), so only the
/// bound tells a lost wake-up. Its thread is left running: the caller fails
/// without freeing the object it waits on.
fn returned_within_soon(
    n: usize,
    wait: impl Fn() -> i32 + Send + Sync + 'static,
    wake: impl FnOnce(),
) -> Vec<i32> {
    let wait = std::sync::Arc::new(wait);
    let (tx, rx) = std::sync::mpsc::channel();
    for _ in 0..n {
        let (wait, tx) = (wait.clone(), tx.clone());
        let (tid_tx, tid_rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            tid_tx.send(gettid()).unwrap();
            let _ = tx.send(wait());
        });
        wait_until_blocked(tid_rx.recv().unwrap(), "a waiter blocked in its wait");
    }
    wake();
    let deadline = Instant::now() + Duration::from_secs_f64(SOON);
    let mut returned = Vec::new();
    while returned.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(value) => returned.push(value),
            Err(_) => break,
        }
    }
    returned
}

/// Polls `done` until it holds, panicking after `SOON` seconds.
#[track_caller]
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs_f64(SOON);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        thread::sleep(Duration::from_millis(1));
    }
}

// ----------------------------------------------------------------- Event --

#[test]
fn event_set_clear_wait() {
    common::limited(120, "its waits and joins to end", || {
        let e = hilo_event_new();
        assert!(!e.is_null());
        assert_eq!(hilo_event_is_set(e), 0);
        assert_eq!(hilo_event_wait(e, 0.0), 0);
        let start = Instant::now();
        assert_eq!(hilo_event_wait(e, 0.03), 0);
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert_eq!(hilo_event_set(e), HILO_OK);
        assert_eq!(hilo_event_is_set(e), 1);
        assert_eq!(hilo_event_wait(e, 0.0), 1);
        assert_eq!(hilo_event_wait(e, HILO_FOREVER), 1);
        assert_eq!(hilo_event_set(e), HILO_OK);
        assert_eq!(hilo_event_clear(e), HILO_OK);
        assert_eq!(hilo_event_is_set(e), 0);
        assert_fails(
            hilo_event_wait(e, f64::NAN),
            HILO_EINVAL,
            "timeout must be a number, not NaN",
        );
        hilo_event_free(e);
        hilo_event_free(ptr::null_mut());
    })
}

#[test]
fn event_null_is_einval() {
    common::limited(120, "its waits and joins to end", || {
        let null = ptr::null_mut();
        assert_fails(hilo_event_set(null), HILO_EINVAL, "event must not be NULL");
        assert_fails(
            hilo_event_clear(null),
            HILO_EINVAL,
            "event must not be NULL",
        );
        assert_fails(
            hilo_event_is_set(null),
            HILO_EINVAL,
            "event must not be NULL",
        );
        assert_fails(
            hilo_event_wait(null, 0.0),
            HILO_EINVAL,
            "event must not be NULL",
        );
    })
}

#[test]
fn event_set_wakes_every_waiter() {
    common::limited(120, "its waits and joins to end", || {
        let e = Shared(hilo_event_new());
        thread::scope(|s| {
            let waiters: Vec<_> = (0..5)
                .map(|_| spawn_with_tid(s, move || hilo_event_wait(e.get(), SOON)))
                .collect();
            for (_, tid) in &waiters {
                wait_until_blocked(*tid, "a waiter blocked in hilo_event_wait");
            }
            assert_eq!(hilo_event_set(e.get()), HILO_OK);
            for (i, (waiter, _)) in waiters.into_iter().enumerate() {
                assert_eq!(waiter.join().unwrap(), 1, "waiter {i} was not woken by set");
            }
        });
        hilo_event_free(e.get());
    })
}

/// `set` wakes every blocked waiter at once: each returns 1 well before its
/// own (long) timeout, at which it would find the flag set anyway.
#[test]
fn event_set_wakes_every_blocked_waiter_at_once() {
    common::limited(120, "its waits and joins to end", || {
        let e = Shared(hilo_event_new());
        let returned = returned_within_soon(
            5,
            move || hilo_event_wait(e.get(), 60.0),
            || assert_eq!(hilo_event_set(e.get()), HILO_OK),
        );
        assert_eq!(
            returned,
            vec![1; 5],
            "hilo_event_set woke {} of 5 blocked waiters within {SOON}s",
            returned.len()
        );
        hilo_event_free(e.get());
    })
}

/// `clear` makes a set event unset: a wait then blocks until the next set.
#[test]
fn event_clear_makes_waits_block_again() {
    common::limited(120, "its waits and joins to end", || {
        let e = Shared(hilo_event_new());
        assert_eq!(hilo_event_set(e.get()), HILO_OK);
        assert_eq!(hilo_event_clear(e.get()), HILO_OK);
        assert_eq!(
            hilo_event_wait(e.get(), 0.0),
            0,
            "cleared: no wait succeeds"
        );
        let returned = returned_within_soon(
            2,
            move || hilo_event_wait(e.get(), 60.0),
            || assert_eq!(hilo_event_set(e.get()), HILO_OK),
        );
        assert_eq!(returned, vec![1; 2]);
        hilo_event_free(e.get());
    })
}

/// `notify(n)` and `notify_all` wake blocked Condition waiters at once: a
/// notified waiter that is never woken would return 1 only at its own
/// (long) timeout.
#[test]
fn cond_notify_wakes_blocked_waiters_at_once() {
    common::limited(120, "its waits and joins to end", || {
        let c = Shared(hilo_cond_new());
        let waiting = std::sync::Arc::new(AtomicUsize::new(0));
        let wait = {
            let waiting = waiting.clone();
            move || {
                assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
                waiting.fetch_add(1, Ordering::SeqCst);
                let woken = hilo_cond_wait(c.get(), 60.0);
                assert_eq!(hilo_cond_release(c.get()), HILO_OK);
                woken
            }
        };
        let notify = |n: usize, queued: usize| {
            let waiting = waiting.clone();
            move || {
                assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
                // Counted under the lock, which each gave up in its
                // wait: every one is queued.
                assert_eq!(waiting.load(Ordering::SeqCst), queued);
                if n == usize::MAX {
                    assert_eq!(hilo_cond_notify_all(c.get()), HILO_OK);
                } else {
                    assert_eq!(hilo_cond_notify(c.get(), n), HILO_OK);
                }
                assert_eq!(hilo_cond_release(c.get()), HILO_OK);
            }
        };
        let returned = returned_within_soon(3, wait.clone(), notify(3, 3));
        assert_eq!(returned, vec![1; 3], "notify(3) to 3 blocked waiters");
        let returned = returned_within_soon(4, wait, notify(usize::MAX, 7));
        assert_eq!(returned, vec![1; 4], "notify_all to 4 blocked waiters");
        assert_eq!(waiting.load(Ordering::SeqCst), 7);
        hilo_cond_free(c.get());
    })
}

// ------------------------------------------------------------------ Lock --

#[test]
fn lock_acquire_release_locked() {
    common::limited(120, "its waits and joins to end", || {
        let l = hilo_lock_new();
        assert_eq!(hilo_lock_locked(l), 0);
        assert_eq!(hilo_lock_acquire(l, true, HILO_FOREVER), 1);
        assert_eq!(hilo_lock_locked(l), 1);
        assert_eq!(hilo_lock_acquire(l, false, HILO_FOREVER), 0);
        assert_eq!(hilo_lock_acquire(l, true, 0.0), 0);
        let start = Instant::now();
        assert_eq!(hilo_lock_acquire(l, true, 0.03), 0);
        assert!(start.elapsed() >= Duration::from_millis(30));
        assert_eq!(hilo_lock_release(l), HILO_OK);
        assert_eq!(hilo_lock_locked(l), 0);
        assert_fails(hilo_lock_release(l), HILO_ESTATE, "release unlocked lock");
        assert_eq!(hilo_lock_acquire(l, false, -1.0), 1);
        assert_eq!(hilo_lock_release(l), HILO_OK);
        hilo_lock_free(l);
        hilo_lock_free(ptr::null_mut());
    })
}

#[test]
fn lock_argument_errors() {
    common::limited(120, "its waits and joins to end", || {
        let l = hilo_lock_new();
        let non_blocking = "can't specify a timeout for a non-blocking call";
        assert_fails(hilo_lock_acquire(l, false, 0.0), HILO_EINVAL, non_blocking);
        assert_fails(hilo_lock_acquire(l, false, 1.5), HILO_EINVAL, non_blocking);
        assert_fails(
            hilo_lock_acquire(l, true, f64::NAN),
            HILO_EINVAL,
            "timeout must be a number, not NaN",
        );
        assert_eq!(hilo_lock_locked(l), 0, "a failed call acquires nothing");
        let null = ptr::null_mut();
        assert_fails(
            hilo_lock_acquire(null, true, -1.0),
            HILO_EINVAL,
            "lock must not be NULL",
        );
        assert_fails(
            hilo_lock_release(null),
            HILO_EINVAL,
            "lock must not be NULL",
        );
        assert_fails(hilo_lock_locked(null), HILO_EINVAL, "lock must not be NULL");
        hilo_lock_free(l);
    })
}

#[test]
fn lock_is_released_by_another_thread_and_wakes_a_waiter() {
    common::limited(120, "its waits and joins to end", || {
        let l = Shared(hilo_lock_new());
        assert_eq!(hilo_lock_acquire(l.get(), true, -1.0), 1);
        thread::scope(|s| {
            let (waiter, tid) = spawn_with_tid(s, move || hilo_lock_acquire(l.get(), true, SOON));
            wait_until_blocked(tid, "the waiter blocked in hilo_lock_acquire");
            // Not owned: a thread that did not acquire it may release it.
            s.spawn(move || assert_eq!(hilo_lock_release(l.get()), HILO_OK))
                .join()
                .unwrap();
            assert_eq!(waiter.join().unwrap(), 1);
        });
        assert_eq!(hilo_lock_locked(l.get()), 1);
        assert_eq!(hilo_lock_release(l.get()), HILO_OK);
        hilo_lock_free(l.get());
    })
}

#[test]
fn lock_racing_releases_unlock_once() {
    common::limited(120, "its waits and joins to end", || {
        let l = Shared(hilo_lock_new());
        for _ in 0..100 {
            assert_eq!(hilo_lock_acquire(l.get(), true, -1.0), 1);
            let ok = AtomicUsize::new(0);
            thread::scope(|s| {
                for _ in 0..4 {
                    let ok = &ok;
                    s.spawn(move || match hilo_lock_release(l.get()) {
                        HILO_OK => {
                            ok.fetch_add(1, Ordering::SeqCst);
                        }
                        status => assert_fails(status, HILO_ESTATE, "release unlocked lock"),
                    });
                }
            });
            assert_eq!(ok.load(Ordering::SeqCst), 1);
            assert_eq!(hilo_lock_locked(l.get()), 0);
        }
        hilo_lock_free(l.get());
    })
}

#[test]
fn lock_excludes() {
    common::limited(120, "its waits and joins to end", || {
        let l = Shared(hilo_lock_new());
        // Load and store, not an atomic add: only the lock keeps updates.
        let counter = AtomicU64::new(0);
        thread::scope(|s| {
            for _ in 0..4 {
                let counter = &counter;
                s.spawn(move || {
                    for _ in 0..5_000 {
                        assert_eq!(hilo_lock_acquire(l.get(), true, -1.0), 1);
                        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
                        assert_eq!(hilo_lock_release(l.get()), HILO_OK);
                    }
                });
            }
        });
        assert_eq!(counter.load(Ordering::Relaxed), 20_000);
        hilo_lock_free(l.get());
    })
}

/// Many threads on one lock, taking it every way there is (forever, with a
/// timeout, by polling without blocking) and now and then holding it a while,
/// so that waiters spin, park and are woken: no update of a plain load-and-store counter is lost.
#[test]
fn lock_contended_by_many_threads_loses_no_update() {
    common::limited(120, "its waits and joins to end", || {
        const THREADS: u64 = 8;
        const ROUNDS: u64 = 20_000;
        let l = Shared(hilo_lock_new());
        let counter = AtomicU64::new(0);
        thread::scope(|s| {
            for t in 0..THREADS {
                let counter = &counter;
                s.spawn(move || {
                    for i in 0..ROUNDS {
                        match (t + i) % 3 {
                            0 => assert_eq!(hilo_lock_acquire(l.get(), true, HILO_FOREVER), 1),
                            1 => assert_eq!(hilo_lock_acquire(l.get(), true, SOON), 1),
                            _ => {
                                while hilo_lock_acquire(l.get(), false, HILO_FOREVER) == 0 {
                                    thread::yield_now();
                                }
                            }
                        }
                        let seen = counter.load(Ordering::Relaxed);
                        if i % 256 == 0 {
                            // Hold it long enough that the others park.
                            thread::sleep(Duration::from_micros(100));
                        }
                        counter.store(seen + 1, Ordering::Relaxed);
                        assert_eq!(hilo_lock_release(l.get()), HILO_OK);
                    }
                });
            }
        });
        assert_eq!(counter.load(Ordering::Relaxed), THREADS * ROUNDS);
        assert_eq!(hilo_lock_locked(l.get()), 0);
        hilo_lock_free(l.get());
    })
}

/// Timed acquires of a held lock time out, each after its timeout, while the
/// holder keeps it; afterwards the lock still works: its release unlocks it
/// and a waiter that arrives later is woken by the next release.
#[test]
fn lock_timed_acquires_time_out_while_held() {
    common::limited(120, "its waits and joins to end", || {
        let l = Shared(hilo_lock_new());
        assert_eq!(hilo_lock_acquire(l.get(), true, HILO_FOREVER), 1);
        thread::scope(|s| {
            let waiters: Vec<_> = (0..4)
                .map(|i| {
                    s.spawn(move || {
                        let timeout = 0.02 * f64::from(i + 1);
                        let start = Instant::now();
                        assert_eq!(hilo_lock_acquire(l.get(), true, timeout), 0);
                        assert!(start.elapsed() >= Duration::from_secs_f64(timeout));
                    })
                })
                .collect();
            for waiter in waiters {
                waiter.join().unwrap();
            }
        });
        assert_eq!(hilo_lock_locked(l.get()), 1, "time-outs take nothing");
        assert_eq!(hilo_lock_release(l.get()), HILO_OK);
        assert_eq!(hilo_lock_locked(l.get()), 0);
        assert_fails(
            hilo_lock_release(l.get()),
            HILO_ESTATE,
            "release unlocked lock",
        );

        // One waiter times out while another waits on: the release still wakes
        // the one left.
        assert_eq!(hilo_lock_acquire(l.get(), true, HILO_FOREVER), 1);
        thread::scope(|s| {
            let (patient, tid) = spawn_with_tid(s, move || hilo_lock_acquire(l.get(), true, SOON));
            wait_until_blocked(tid, "the patient waiter blocked in hilo_lock_acquire");
            let hasty = s.spawn(move || hilo_lock_acquire(l.get(), true, 0.05));
            assert_eq!(hasty.join().unwrap(), 0);
            assert_eq!(hilo_lock_release(l.get()), HILO_OK);
            assert_eq!(patient.join().unwrap(), 1);
        });
        assert_eq!(hilo_lock_release(l.get()), HILO_OK);
        assert_eq!(hilo_lock_locked(l.get()), 0);
        hilo_lock_free(l.get());
    })
}

/// Releases race on a locked lock that has a thread parked on it: exactly
/// one succeeds, the others answer HILO_ESTATE, and the parked thread gets
/// the lock.
#[test]
fn lock_racing_releases_with_a_waiter_unlock_once() {
    common::limited(120, "its waits and joins to end", || {
        const RELEASERS: usize = 4;
        let l = Shared(hilo_lock_new());
        for _ in 0..50 {
            assert_eq!(hilo_lock_acquire(l.get(), true, HILO_FOREVER), 1);
            let ok = AtomicUsize::new(0);
            let go = std::sync::Barrier::new(RELEASERS);
            thread::scope(|s| {
                let (waiter, tid) =
                    spawn_with_tid(s, move || hilo_lock_acquire(l.get(), true, SOON));
                wait_until_blocked(tid, "the waiter parked in hilo_lock_acquire");
                for _ in 0..RELEASERS {
                    let (ok, go) = (&ok, &go);
                    s.spawn(move || {
                        go.wait();
                        match hilo_lock_release(l.get()) {
                            HILO_OK => {
                                ok.fetch_add(1, Ordering::SeqCst);
                            }
                            status => assert_fails(status, HILO_ESTATE, "release unlocked lock"),
                        }
                    });
                }
                assert_eq!(waiter.join().unwrap(), 1);
            });
            // The waiter may have taken the lock before a late release ran: then
            // that release unlocked the waiter's acquire, which is also one.
            let unlocked = ok.load(Ordering::SeqCst);
            assert!((1..=2).contains(&unlocked), "{unlocked} releases succeeded");
            if unlocked == 1 {
                assert_eq!(hilo_lock_release(l.get()), HILO_OK);
            }
            assert_eq!(hilo_lock_locked(l.get()), 0);
        }
        hilo_lock_free(l.get());
    })
}

/// Two locks used as signals, as Python code uses a Lock: every acquire is
/// undone by a release from the other thread, thousands of times, with the
/// acquiring thread usually parked when the release comes.
#[test]
fn lock_acquired_by_one_thread_released_by_another() {
    common::limited(120, "its waits and joins to end", || {
        const ROUNDS: usize = 5_000;
        let (a, b) = (Shared(hilo_lock_new()), Shared(hilo_lock_new()));
        assert_eq!(hilo_lock_acquire(a.get(), true, HILO_FOREVER), 1);
        assert_eq!(hilo_lock_acquire(b.get(), true, HILO_FOREVER), 1);
        thread::scope(|s| {
            s.spawn(move || {
                for _ in 0..ROUNDS {
                    assert_eq!(hilo_lock_acquire(a.get(), true, SOON), 1);
                    assert_eq!(hilo_lock_release(b.get()), HILO_OK);
                }
            });
            s.spawn(move || {
                for _ in 0..ROUNDS {
                    assert_eq!(hilo_lock_release(a.get()), HILO_OK);
                    assert_eq!(hilo_lock_acquire(b.get(), true, SOON), 1);
                }
            });
        });
        assert_eq!(hilo_lock_locked(a.get()), 1);
        assert_eq!(hilo_lock_locked(b.get()), 1);
        for l in [a, b] {
            assert_eq!(hilo_lock_release(l.get()), HILO_OK);
            assert_fails(
                hilo_lock_release(l.get()),
                HILO_ESTATE,
                "release unlocked lock",
            );
            hilo_lock_free(l.get());
        }
    })
}

// ----------------------------------------------------------------- RLock --

#[test]
fn rlock_is_reentrant_and_owned() {
    common::limited(120, "its waits and joins to end", || {
        let r = Shared(hilo_rlock_new());
        assert_eq!(hilo_rlock_locked(r.get()), 0);
        assert_fails(
            hilo_rlock_release(r.get()),
            HILO_ESTATE,
            "cannot release un-acquired lock",
        );
        assert_eq!(hilo_rlock_acquire(r.get(), true, -1.0), 1);
        assert_eq!(hilo_rlock_acquire(r.get(), false, -1.0), 1);
        assert_eq!(hilo_rlock_acquire(r.get(), true, 0.0), 1);
        assert_eq!(hilo_rlock_locked(r.get()), 1);
        thread::scope(|s| {
            s.spawn(move || {
                assert_eq!(hilo_rlock_acquire(r.get(), false, -1.0), 0);
                assert_eq!(hilo_rlock_acquire(r.get(), true, 0.01), 0);
                assert_fails(
                    hilo_rlock_release(r.get()),
                    HILO_ESTATE,
                    "cannot release un-acquired lock",
                );
                assert_eq!(hilo_rlock_locked(r.get()), 1);
            })
            .join()
            .unwrap();
        });
        // Held three times: released three times.
        for _ in 0..3 {
            assert_eq!(hilo_rlock_locked(r.get()), 1);
            assert_eq!(hilo_rlock_release(r.get()), HILO_OK);
        }
        assert_eq!(hilo_rlock_locked(r.get()), 0);
        assert_fails(
            hilo_rlock_release(r.get()),
            HILO_ESTATE,
            "cannot release un-acquired lock",
        );
        thread::scope(|s| {
            s.spawn(move || {
                assert_eq!(hilo_rlock_acquire(r.get(), false, -1.0), 1);
                assert_eq!(hilo_rlock_release(r.get()), HILO_OK);
            });
        });
        hilo_rlock_free(r.get());
    })
}

#[test]
fn rlock_argument_errors() {
    common::limited(120, "its waits and joins to end", || {
        let r = hilo_rlock_new();
        assert_eq!(hilo_rlock_acquire(r, true, -1.0), 1);
        // Checked before the re-entrant path, as in Python.
        assert_fails(
            hilo_rlock_acquire(r, false, 0.0),
            HILO_EINVAL,
            "can't specify a timeout for a non-blocking call",
        );
        assert_eq!(hilo_rlock_release(r), HILO_OK);
        assert_eq!(
            hilo_rlock_locked(r),
            0,
            "the failed acquire counted nothing"
        );
        let null = ptr::null_mut();
        assert_fails(
            hilo_rlock_acquire(null, true, -1.0),
            HILO_EINVAL,
            "rlock must not be NULL",
        );
        assert_fails(
            hilo_rlock_release(null),
            HILO_EINVAL,
            "rlock must not be NULL",
        );
        assert_fails(
            hilo_rlock_locked(null),
            HILO_EINVAL,
            "rlock must not be NULL",
        );
        hilo_rlock_free(r);
        hilo_rlock_free(ptr::null_mut());
    })
}

// ------------------------------------------------------------- Condition --

#[test]
fn cond_needs_its_lock() {
    common::limited(120, "its waits and joins to end", || {
        let c = hilo_cond_new();
        assert_fails(
            hilo_cond_wait(c, 0.0),
            HILO_ESTATE,
            "cannot wait on un-acquired lock",
        );
        assert_fails(
            hilo_cond_notify(c, 1),
            HILO_ESTATE,
            "cannot notify on un-acquired lock",
        );
        assert_fails(
            hilo_cond_notify_all(c),
            HILO_ESTATE,
            "cannot notify on un-acquired lock",
        );
        assert_fails(
            hilo_cond_release(c),
            HILO_ESTATE,
            "cannot release un-acquired lock",
        );
        assert_eq!(hilo_cond_acquire(c, true, -1.0), 1);
        assert_eq!(hilo_cond_notify(c, 0), HILO_OK);
        assert_eq!(hilo_cond_notify(c, 3), HILO_OK);
        assert_eq!(hilo_cond_notify_all(c), HILO_OK);
        assert_fails(
            hilo_cond_wait(c, f64::NAN),
            HILO_EINVAL,
            "timeout must be a number, not NaN",
        );
        assert_fails(
            hilo_cond_acquire(c, false, 0.0),
            HILO_EINVAL,
            "can't specify a timeout for a non-blocking call",
        );
        // A wait that times out returns 0 holding the lock as before.
        assert_eq!(hilo_cond_acquire(c, true, -1.0), 1);
        assert_eq!(hilo_cond_wait(c, 0.0), 0);
        assert_eq!(hilo_cond_wait(c, 0.01), 0);
        assert_eq!(hilo_cond_release(c), HILO_OK);
        release_frees(c);
        hilo_cond_free(ptr::null_mut());

        let null = ptr::null_mut();
        let text = "condition must not be NULL";
        assert_fails(hilo_cond_acquire(null, true, -1.0), HILO_EINVAL, text);
        assert_fails(hilo_cond_release(null), HILO_EINVAL, text);
        assert_fails(hilo_cond_wait(null, 0.0), HILO_EINVAL, text);
        assert_fails(hilo_cond_notify(null, 1), HILO_EINVAL, text);
        assert_fails(hilo_cond_notify_all(null), HILO_EINVAL, text);
        assert!(hilo_cond_new_with_lock(null.cast()).is_null());
        assert_eq!(last_error(), "lock must not be NULL");
        assert!(hilo_cond_new_with_rlock(null.cast()).is_null());
        assert_eq!(last_error(), "rlock must not be NULL");
    })
}

/// State for the `hilo_cond_wait_for` tests: a flag the predicate reads
/// and how often it was called.
struct Gate {
    open: AtomicBool,
    calls: AtomicUsize,
}

unsafe extern "C" fn gate_is_open(arg: *mut c_void) -> bool {
    // SAFETY: every test passes a pointer to a Gate that outlives the call.
    let gate = unsafe { &*arg.cast::<Gate>() };
    gate.calls.fetch_add(1, Ordering::SeqCst);
    gate.open.load(Ordering::SeqCst)
}

fn gate(open: bool) -> Gate {
    Gate {
        open: AtomicBool::new(open),
        calls: AtomicUsize::new(0),
    }
}

/// `hilo_cond_wait_for`'s statuses and texts, and when it calls the
/// predicate: first, and once more at the timeout (Python's `wait_for`).
#[test]
fn cond_wait_for_statuses_and_predicate_calls() {
    common::limited(120, "its waits and joins to end", || {
        let c = hilo_cond_new();
        let closed = gate(false);
        let arg = ptr::from_ref(&closed).cast_mut().cast::<c_void>();
        // Not holding the lock: refused before the predicate runs.
        assert_fails(
            hilo_cond_wait_for(c, Some(gate_is_open), arg, 0.0),
            HILO_ESTATE,
            "cannot wait on un-acquired lock",
        );
        assert_eq!(closed.calls.load(Ordering::SeqCst), 0);
        assert_fails(
            hilo_cond_wait_for(c, None, arg, 0.0),
            HILO_EINVAL,
            "predicate must not be NULL",
        );
        assert_fails(
            hilo_cond_wait_for(ptr::null_mut(), Some(gate_is_open), arg, 0.0),
            HILO_EINVAL,
            "condition must not be NULL",
        );
        assert_eq!(hilo_cond_acquire(c, true, -1.0), 1);
        assert_fails(
            hilo_cond_wait_for(c, Some(gate_is_open), arg, f64::NAN),
            HILO_EINVAL,
            "timeout must be a number, not NaN",
        );
        assert_eq!(closed.calls.load(Ordering::SeqCst), 0);
        // Timeout 0: one call, no wait.
        assert_eq!(hilo_cond_wait_for(c, Some(gate_is_open), arg, 0.0), 0);
        assert_eq!(closed.calls.load(Ordering::SeqCst), 1);
        // A short timeout: the first call, and a last one at the timeout.
        assert_eq!(hilo_cond_wait_for(c, Some(gate_is_open), arg, 0.02), 0);
        assert_eq!(closed.calls.load(Ordering::SeqCst), 3);
        // True at once: 1, one call, for any timeout.
        let open = gate(true);
        let open_arg = ptr::from_ref(&open).cast_mut().cast::<c_void>();
        assert_eq!(hilo_cond_wait_for(c, Some(gate_is_open), open_arg, -1.0), 1);
        assert_eq!(hilo_cond_wait_for(c, Some(gate_is_open), open_arg, 0.0), 1);
        assert_eq!(open.calls.load(Ordering::SeqCst), 2);
        // The lock is held as before (acquired once): one release frees it.
        release_frees(c);
    })
}

/// Releases `c`'s lock, which must then be free (a second release is
/// refused), and frees `c`.
fn release_frees(c: *mut hilo_cond) {
    assert_eq!(hilo_cond_release(c), HILO_OK);
    assert_fails(
        hilo_cond_release(c),
        HILO_ESTATE,
        "cannot release un-acquired lock",
    );
    hilo_cond_free(c);
}

/// Notifies that do not open the gate (a stream of them, until the waiter
/// returns) neither end `hilo_cond_wait_for` nor stretch its deadline: it
/// returns 0 at its timeout. A deadline recomputed per wake-up would never
/// come, and the limit would fail the test. Then a notify after opening the
/// gate ends an untimed wait with 1.
#[test]
fn cond_wait_for_keeps_one_deadline_through_wake_ups() {
    common::limited(120, "its waits and joins to end", || {
        let c = Shared(hilo_cond_new());
        let closed = gate(false);
        let done = AtomicBool::new(false);
        thread::scope(|s| {
            s.spawn(|| {
                while !done.load(Ordering::SeqCst) {
                    assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
                    assert_eq!(hilo_cond_notify_all(c.get()), HILO_OK);
                    assert_eq!(hilo_cond_release(c.get()), HILO_OK);
                    thread::sleep(Duration::from_micros(200));
                }
            });
            let arg = ptr::from_ref(&closed).cast_mut().cast::<c_void>();
            assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
            let started = Instant::now();
            let rc = hilo_cond_wait_for(c.get(), Some(gate_is_open), arg, 0.3);
            let took = started.elapsed();
            done.store(true, Ordering::SeqCst);
            assert_eq!(rc, 0);
            assert!(took >= Duration::from_millis(300), "{took:?}");
            assert_eq!(hilo_cond_release(c.get()), HILO_OK);
        });
        assert!(closed.calls.load(Ordering::SeqCst) >= 2);

        let later = gate(false);
        thread::scope(|s| {
            let later = &later;
            assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
            s.spawn(move || {
                assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
                later.open.store(true, Ordering::SeqCst);
                assert_eq!(hilo_cond_notify(c.get(), 1), HILO_OK);
                assert_eq!(hilo_cond_release(c.get()), HILO_OK);
            });
            let arg = ptr::from_ref(later).cast_mut().cast::<c_void>();
            assert_eq!(
                hilo_cond_wait_for(c.get(), Some(gate_is_open), arg, -1.0),
                1
            );
            assert_eq!(hilo_cond_release(c.get()), HILO_OK);
        });
        hilo_cond_free(c.get());
    })
}

#[test]
fn cond_wait_releases_a_reentrant_lock_fully() {
    common::limited(120, "its waits and joins to end", || {
        let r = Shared(hilo_rlock_new());
        let c = Shared(hilo_cond_new_with_rlock(r.get()));
        assert_eq!(hilo_rlock_acquire(r.get(), true, -1.0), 1);
        assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
        let ready = AtomicBool::new(false);
        thread::scope(|s| {
            let ready = &ready;
            s.spawn(move || {
                // Gets the lock only while the owner waits.
                assert_eq!(hilo_rlock_acquire(r.get(), true, SOON), 1);
                ready.store(true, Ordering::SeqCst);
                assert_eq!(hilo_cond_notify(c.get(), 1), HILO_OK);
                assert_eq!(hilo_rlock_release(r.get()), HILO_OK);
            });
            while !ready.load(Ordering::SeqCst) {
                assert_eq!(hilo_cond_wait(c.get(), SOON), 1);
            }
        });
        // Held twice again after the wait.
        assert_eq!(hilo_rlock_release(r.get()), HILO_OK);
        assert_eq!(hilo_rlock_locked(r.get()), 1);
        assert_eq!(hilo_cond_release(c.get()), HILO_OK);
        assert_eq!(hilo_rlock_locked(r.get()), 0);
        hilo_cond_free(c.get());
        hilo_rlock_free(r.get());
    })
}

#[test]
fn cond_on_a_plain_lock() {
    common::limited(120, "its waits and joins to end", || {
        let l = Shared(hilo_lock_new());
        let c = Shared(hilo_cond_new_with_lock(l.get()));
        // Python's rule for a Lock: owned means locked, by any thread.
        assert_fails(
            hilo_cond_notify(c.get(), 1),
            HILO_ESTATE,
            "cannot notify on un-acquired lock",
        );
        assert_fails(
            hilo_cond_release(c.get()),
            HILO_ESTATE,
            "release unlocked lock",
        );
        assert_eq!(hilo_lock_acquire(l.get(), true, -1.0), 1);
        assert_eq!(hilo_lock_locked(l.get()), 1);
        let ready = AtomicBool::new(false);
        thread::scope(|s| {
            let ready = &ready;
            s.spawn(move || {
                assert_eq!(hilo_cond_acquire(c.get(), true, SOON), 1);
                ready.store(true, Ordering::SeqCst);
                assert_eq!(hilo_cond_notify_all(c.get()), HILO_OK);
                assert_eq!(hilo_lock_release(l.get()), HILO_OK);
            });
            while !ready.load(Ordering::SeqCst) {
                assert_eq!(hilo_cond_wait(c.get(), SOON), 1);
            }
        });
        assert_eq!(hilo_lock_locked(l.get()), 1);
        // The condition keeps the lock alive after the caller frees its handle.
        hilo_lock_free(l.get());
        assert_eq!(hilo_cond_release(c.get()), HILO_OK);
        assert_eq!(hilo_cond_acquire(c.get(), false, -1.0), 1);
        assert_eq!(hilo_cond_release(c.get()), HILO_OK);
        hilo_cond_free(c.get());
    })
}

#[test]
fn cond_notify_wakes_in_the_order_of_waiting() {
    common::limited(120, "its waits and joins to end", || {
        const WAITERS: usize = 6;
        let c = Shared(hilo_cond_new());
        let woken = Mutex::new(Vec::new());
        let queued: Vec<AtomicBool> = (0..WAITERS).map(|_| AtomicBool::new(false)).collect();
        let woken_now = || woken.lock().unwrap().clone();
        thread::scope(|s| {
            for i in 0..WAITERS {
                let (woken, queued) = (&woken, &queued);
                s.spawn(move || {
                    assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
                    queued[i].store(true, Ordering::SeqCst);
                    assert_eq!(hilo_cond_wait(c.get(), SOON), 1);
                    woken.lock().unwrap().push(i);
                    assert_eq!(hilo_cond_release(c.get()), HILO_OK);
                });
                // Holding the lock after waiter i announced itself under it
                // means it has released it in its wait: it is queued.
                eventually("the waiter is queued", || {
                    assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
                    let is_queued = queued[i].load(Ordering::SeqCst);
                    assert_eq!(hilo_cond_release(c.get()), HILO_OK);
                    is_queued
                });
            }
            let notify = |n: usize| {
                assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
                assert_eq!(hilo_cond_notify(c.get(), n), HILO_OK);
                assert_eq!(hilo_cond_release(c.get()), HILO_OK);
            };
            notify(2);
            eventually("two woke", || woken_now().len() == 2);
            assert_eq!(
                woken_now().into_iter().collect::<BTreeSet<_>>(),
                BTreeSet::from([0, 1])
            );
            notify(1);
            eventually("three woke", || woken_now().len() == 3);
            assert_eq!(woken_now()[2], 2);
            notify(2);
            eventually("five woke", || woken_now().len() == 5);
            assert_eq!(
                woken_now()[3..].iter().collect::<BTreeSet<_>>(),
                BTreeSet::from([&3, &4])
            );
            assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
            assert_eq!(hilo_cond_notify_all(c.get()), HILO_OK);
            assert_eq!(hilo_cond_release(c.get()), HILO_OK);
        });
        assert_eq!(woken_now().len(), WAITERS);
        hilo_cond_free(c.get());
    })
}

/// Waiters that timed out leave the condition's queue: a later notify(1)
/// goes to the waiter still waiting, not to a stale entry of one that gave
/// up (which would spend the notify and leave the live waiter asleep until
/// its own timeout, then report a time-out).
#[test]
fn cond_notify_after_timed_out_waiters_wakes_the_live_one() {
    common::limited(120, "its waits and joins to end", || {
        let c = Shared(hilo_cond_new());
        // Three waiters time out: this thread, and two others that then end.
        assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
        assert_eq!(
            hilo_cond_wait(c.get(), 0.02),
            0,
            "nobody notifies: a time-out"
        );
        assert_eq!(hilo_cond_release(c.get()), HILO_OK);
        thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(move || {
                    assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
                    assert_eq!(hilo_cond_wait(c.get(), 0.02), 0);
                    assert_eq!(hilo_cond_release(c.get()), HILO_OK);
                });
            }
        });
        for round in 0..3 {
            let queued = AtomicBool::new(false);
            let woken = thread::scope(|s| {
                let queued = &queued;
                let (live, tid) = spawn_with_tid(s, move || {
                    assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
                    queued.store(true, Ordering::SeqCst);
                    // A long timeout: woken, it returns 1 at once; missed, it
                    // returns 0 after 30 s.
                    let woken = hilo_cond_wait(c.get(), 30.0);
                    assert_eq!(hilo_cond_release(c.get()), HILO_OK);
                    woken
                });
                // It announced itself under the lock and holds it no longer: it
                // is in its wait, asleep.
                eventually("the live waiter is in its wait", || {
                    assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
                    let is_queued = queued.load(Ordering::SeqCst);
                    assert_eq!(hilo_cond_release(c.get()), HILO_OK);
                    is_queued
                });
                wait_until_blocked(tid, "the live waiter asleep in hilo_cond_wait");
                assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
                assert_eq!(hilo_cond_notify(c.get(), 1), HILO_OK);
                assert_eq!(hilo_cond_release(c.get()), HILO_OK);
                live.join().unwrap()
            });
            assert_eq!(
            woken, 1,
            "round {round}: notify(1) did not wake the one live waiter (spent on a waiter that had timed out?)"
        );
            // Another waiter times out before the next round.
            assert_eq!(hilo_cond_acquire(c.get(), true, -1.0), 1);
            assert_eq!(hilo_cond_wait(c.get(), 0.01), 0);
            assert_eq!(hilo_cond_release(c.get()), HILO_OK);
        }
        hilo_cond_free(c.get());
    })
}

// ------------------------------------------------------------- Semaphore --

#[test]
fn semaphore_counts() {
    common::limited(120, "its waits and joins to end", || {
        let s = hilo_sem_new(2);
        assert_eq!(hilo_sem_value(s), 2);
        assert_eq!(hilo_sem_acquire(s, false, -1.0), 1);
        assert_eq!(hilo_sem_acquire(s, true, 0.0), 1);
        assert_eq!(hilo_sem_acquire(s, false, -1.0), 0);
        assert_eq!(hilo_sem_acquire(s, true, 0.01), 0);
        assert_eq!(hilo_sem_value(s), 0);
        assert_eq!(hilo_sem_release(s, 3), HILO_OK);
        assert_eq!(
            hilo_sem_value(s),
            3,
            "an unbounded semaphore goes past its start"
        );
        assert_fails(hilo_sem_release(s, 0), HILO_EINVAL, "n must be one or more");
        assert_fails(
            hilo_sem_acquire(s, false, 2.0),
            HILO_EINVAL,
            "can't specify a timeout for a non-blocking call",
        );
        assert_fails(
            hilo_sem_acquire(s, true, f64::NAN),
            HILO_EINVAL,
            "timeout must be a number, not NaN",
        );
        assert_eq!(hilo_sem_value(s), 3);
        hilo_sem_free(s);

        let full = hilo_sem_new(u32::MAX);
        assert_fails(
            hilo_sem_release(full, 1),
            HILO_ESTATE,
            "Semaphore value would overflow: 4294967295 + 1 > 4294967295",
        );
        assert_eq!(hilo_sem_value(full), i64::from(u32::MAX));
        hilo_sem_free(full);
        hilo_sem_free(ptr::null_mut());

        let null = ptr::null_mut();
        let text = "semaphore must not be NULL";
        assert_fails(hilo_sem_acquire(null, true, -1.0), HILO_EINVAL, text);
        assert_fails(hilo_sem_release(null, 1), HILO_EINVAL, text);
        assert_fails(hilo_sem_value(null) as i32, HILO_EINVAL, text);
    })
}

#[test]
fn bounded_semaphore_over_release_leaves_the_value() {
    common::limited(120, "its waits and joins to end", || {
        let s = hilo_sem_new_bounded(2);
        let too_many = "Semaphore released too many times";
        assert_fails(hilo_sem_release(s, 1), HILO_ESTATE, too_many);
        assert_eq!(hilo_sem_value(s), 2);
        assert_eq!(hilo_sem_acquire(s, true, -1.0), 1);
        assert_fails(hilo_sem_release(s, 2), HILO_ESTATE, too_many);
        assert_eq!(hilo_sem_value(s), 1);
        assert_eq!(hilo_sem_release(s, 1), HILO_OK);
        assert_eq!(hilo_sem_value(s), 2);
        hilo_sem_free(s);

        // Ten threads race to release five units: five win, the value is 5.
        let s = Shared(hilo_sem_new_bounded(5));
        for _ in 0..5 {
            assert_eq!(hilo_sem_acquire(s.get(), false, -1.0), 1);
        }
        let ok = AtomicUsize::new(0);
        thread::scope(|scope| {
            for _ in 0..10 {
                let ok = &ok;
                scope.spawn(move || match hilo_sem_release(s.get(), 1) {
                    HILO_OK => {
                        ok.fetch_add(1, Ordering::SeqCst);
                    }
                    status => assert_fails(status, HILO_ESTATE, too_many),
                });
            }
        });
        assert_eq!(ok.load(Ordering::SeqCst), 5);
        assert_eq!(hilo_sem_value(s.get()), 5);
        hilo_sem_free(s.get());
    })
}

/// `waiters` threads block in `hilo_sem_acquire` on a semaphore of 0 (each
/// observed asleep in the kernel, so that none can take a unit without
/// being woken), then `releases` calls of `hilo_sem_release(s, n)` run.
/// Returns how many acquired within `SOON` of the releases and the value
/// then left. (A waiter that times out still takes a free unit, so the
/// waiters' own timeout cannot tell a missed wake-up: a waiter not woken is
/// seen here as not having acquired within the bound, and is then let go
/// with a unit of its own, so that the test reports instead of hanging.)
fn release_to_blocked_waiters(waiters: usize, n: u32, releases: usize) -> (usize, i64) {
    let s = Shared(hilo_sem_new(0));
    let acquired = AtomicUsize::new(0);
    let result = thread::scope(|scope| {
        let threads: Vec<_> = (0..waiters)
            .map(|_| {
                let acquired = &acquired;
                spawn_with_tid(scope, move || {
                    let got = hilo_sem_acquire(s.get(), true, 60.0);
                    acquired.fetch_add(1, Ordering::SeqCst);
                    got
                })
            })
            .collect();
        for (_, tid) in &threads {
            wait_until_blocked(*tid, "a waiter blocked in hilo_sem_acquire");
        }
        for _ in 0..releases {
            assert_eq!(hilo_sem_release(s.get(), n), HILO_OK);
        }
        let expected = waiters.min(n as usize * releases);
        let deadline = Instant::now() + Duration::from_secs_f64(SOON);
        while acquired.load(Ordering::SeqCst) < expected && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        // Those that should stay blocked have had a moment to (wrongly) wake.
        thread::sleep(Duration::from_millis(20));
        let prompt = acquired.load(Ordering::SeqCst);
        let value = hilo_sem_value(s.get());
        // Let every waiter still blocked go, one unit (and one wake) each.
        for _ in prompt..waiters {
            assert_eq!(hilo_sem_release(s.get(), 1), HILO_OK);
        }
        for (t, _) in threads {
            assert_eq!(t.join().unwrap(), 1);
        }
        (prompt, value)
    });
    hilo_sem_free(s.get());
    result
}

#[test]
fn semaphore_release_n_wakes_n_waiters() {
    common::limited(120, "its waits and joins to end", || {
        let (acquired, value) = release_to_blocked_waiters(3, 3, 1);
        assert_eq!(
            acquired, 3,
            "one release(3) with 3 blocked waiters: all 3 must acquire within {SOON}s"
        );
        assert_eq!(value, 0);
    })
}

/// One `release(n)` for n blocked waiters wakes every one of them, not only
/// the first; a release of more than are waiting leaves the rest as value;
/// a release of fewer wakes exactly that many.
#[test]
fn semaphore_one_release_of_n_wakes_every_blocked_waiter() {
    common::limited(120, "its waits and joins to end", || {
        let (acquired, value) = release_to_blocked_waiters(5, 5, 1);
        assert_eq!(
            acquired, 5,
            "one release(5) with 5 blocked waiters: all 5 must acquire within {SOON}s"
        );
        assert_eq!(value, 0);

        let (acquired, value) = release_to_blocked_waiters(2, 5, 1);
        assert_eq!(
            acquired, 2,
            "release(5) with 2 blocked waiters: both acquire"
        );
        assert_eq!(value, 3, "and the other 3 units stay");

        let (acquired, value) = release_to_blocked_waiters(4, 2, 2);
        assert_eq!(
            acquired, 4,
            "two release(2) with 4 blocked waiters: all 4 acquire"
        );
        assert_eq!(value, 0);

        let (acquired, value) = release_to_blocked_waiters(3, 2, 1);
        assert_eq!(
            acquired, 2,
            "release(2) with 3 blocked waiters: exactly 2 acquire"
        );
        assert_eq!(value, 0);
    })
}

/// Runs a wait whose timeout is `SOON` and checks that it ended before the
/// timeout: a wait that ran its whole timeout missed its wake-up, even when
/// it then found its condition true (a timed-out semaphore acquire still
/// takes a free unit; a notified condition waiter still reports 1).
#[track_caller]
fn woken_before_soon<T>(what: &str, wait: impl FnOnce() -> T) -> T {
    let started = Instant::now();
    let result = wait();
    assert!(
        started.elapsed() < Duration::from_secs_f64(SOON),
        "{what}: waited its whole timeout, so a wake-up was lost"
    );
    result
}

/// Four threads take a semaphore of 2 thousands of times: never more than 2
/// inside, and no wake-up is lost.
#[test]
fn semaphore_under_contention_admits_its_value_and_loses_no_wakeup() {
    common::limited(120, "its waits and joins to end", || {
        let s = Shared(hilo_sem_new_bounded(2));
        let inside = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let waited = AtomicUsize::new(0);
        let start = std::sync::Barrier::new(4);
        thread::scope(|scope| {
            for id in 0..4 {
                let (inside, most, waited, start) = (&inside, &most, &waited, &start);
                scope.spawn(move || {
                    start.wait();
                    for round in 0..3_000 {
                        if hilo_sem_value(s.get()) == 0 {
                            waited.fetch_add(1, Ordering::Relaxed);
                        }
                        // Timed, so that a lost wake-up fails instead of hanging;
                        // some without blocking, which may find no unit.
                        if (id + round) % 5 == 0 {
                            if hilo_sem_acquire(s.get(), false, -1.0) == 0 {
                                continue;
                            }
                        } else {
                            let got = woken_before_soon("sem acquire", || {
                                hilo_sem_acquire(s.get(), true, SOON)
                            });
                            assert_eq!(got, 1);
                        }
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        // Hold the unit a moment, so that the others find none.
                        thread::yield_now();
                        inside.fetch_sub(1, Ordering::SeqCst);
                        assert_eq!(hilo_sem_release(s.get(), 1), HILO_OK);
                    }
                });
            }
        });
        assert!(most.load(Ordering::SeqCst) <= 2);
        // The case under test happened: threads found the semaphore empty.
        assert!(waited.load(Ordering::Relaxed) > 0);
        assert_eq!(hilo_sem_value(s.get()), 2);
        hilo_sem_free(s.get());
    })
}

/// Releases a condition's lock when its thread panics while holding it, so
/// that a failed check ends the test instead of leaving the other threads
/// waiting for that lock for ever.
struct ReleaseOnPanic(Shared<hilo_cond>);
impl Drop for ReleaseOnPanic {
    fn drop(&mut self) {
        if thread::panicking() {
            hilo_cond_release(self.0.get());
        }
    }
}

/// A queue on a Condition: two producers, two consumers, notify(1) per
/// item. Every item arrives exactly once, and no wake-up is lost.
#[test]
fn cond_producers_and_consumers_lose_no_item() {
    common::limited(120, "its waits and joins to end", || {
        const ITEMS: u64 = 4_000;
        let c = Shared(hilo_cond_new());
        let queue = Mutex::new(Vec::<u64>::new());
        let taken = AtomicU64::new(0);
        let sum = AtomicU64::new(0);
        let waits = AtomicU64::new(0);
        let start = std::sync::Barrier::new(4);
        thread::scope(|scope| {
            for _ in 0..2 {
                let (queue, taken, sum, waits, start) = (&queue, &taken, &sum, &waits, &start);
                scope.spawn(move || {
                    start.wait();
                    loop {
                        assert_eq!(hilo_cond_acquire(c.get(), true, SOON), 1);
                        let held = ReleaseOnPanic(c);
                        let item = loop {
                            if let Some(item) = queue.lock().unwrap().pop() {
                                break Some(item);
                            }
                            if taken.load(Ordering::SeqCst) == ITEMS {
                                break None;
                            }
                            waits.fetch_add(1, Ordering::Relaxed);
                            let woken =
                                woken_before_soon("cond wait", || hilo_cond_wait(c.get(), SOON));
                            assert_eq!(woken, 1);
                        };
                        let Some(item) = item else {
                            drop(held);
                            assert_eq!(hilo_cond_release(c.get()), HILO_OK);
                            break;
                        };
                        if taken.fetch_add(1, Ordering::SeqCst) + 1 == ITEMS {
                            // The last item: wake the other consumer to see it.
                            assert_eq!(hilo_cond_notify_all(c.get()), HILO_OK);
                        }
                        sum.fetch_add(item, Ordering::SeqCst);
                        drop(held);
                        assert_eq!(hilo_cond_release(c.get()), HILO_OK);
                    }
                });
            }
            for producer in 0..2u64 {
                let (queue, start) = (&queue, &start);
                scope.spawn(move || {
                    start.wait();
                    for i in 0..ITEMS / 2 {
                        assert_eq!(hilo_cond_acquire(c.get(), true, SOON), 1);
                        queue.lock().unwrap().push(producer * ITEMS + i);
                        assert_eq!(hilo_cond_notify(c.get(), 1), HILO_OK);
                        assert_eq!(hilo_cond_release(c.get()), HILO_OK);
                        // Let the consumers drain the queue and wait again.
                        thread::yield_now();
                    }
                });
            }
        });
        let expected: u64 = (0..2u64)
            .flat_map(|p| (0..ITEMS / 2).map(move |i| p * ITEMS + i))
            .sum();
        assert_eq!(taken.load(Ordering::SeqCst), ITEMS);
        assert_eq!(sum.load(Ordering::SeqCst), expected);
        // The case under test happened: consumers waited on an empty queue.
        assert!(waits.load(Ordering::Relaxed) > 0);
        hilo_cond_free(c.get());
    })
}

// --------------------------------------------------------------- Barrier --

static ACTIONS: AtomicUsize = AtomicUsize::new(0);
static ACTION_THREAD: Mutex<Option<thread::ThreadId>> = Mutex::new(None);

unsafe extern "C-unwind" fn count_action(_: *mut c_void) -> *mut c_void {
    ACTIONS.fetch_add(1, Ordering::SeqCst);
    *ACTION_THREAD.lock().unwrap() = Some(thread::current().id());
    ptr::null_mut()
}

unsafe extern "C-unwind" fn abort_action(slot: *mut c_void) -> *mut c_void {
    // SAFETY: the test passes a live AtomicPtr holding the barrier.
    let barrier = unsafe { &*slot.cast::<AtomicPtr<hilo_barrier>>() }.load(Ordering::SeqCst);
    assert_eq!(hilo_barrier_abort(barrier), HILO_OK);
    ptr::null_mut()
}

const BROKEN: &str = "the barrier is broken";
const RESET: &str = "the barrier was reset while this thread waited";
const TIMED_OUT: &str = "barrier wait timed out; the barrier is now broken";

#[test]
fn barrier_new_rejects() {
    common::limited(120, "its waits and joins to end", || {
        assert!(hilo_barrier_new(0, None, ptr::null_mut(), -1.0).is_null());
        assert_eq!(last_error(), "parties must be >= 1");
        assert!(hilo_barrier_new(2, None, ptr::null_mut(), f64::NAN).is_null());
        assert_eq!(last_error(), "timeout must be a number, not NaN");
        hilo_barrier_free(ptr::null_mut());
        let null = ptr::null_mut();
        let text = "barrier must not be NULL";
        assert_fails(hilo_barrier_wait(null, -1.0), HILO_EINVAL, text);
        assert_fails(hilo_barrier_abort(null), HILO_EINVAL, text);
        assert_fails(hilo_barrier_reset(null), HILO_EINVAL, text);
        assert_fails(hilo_barrier_n_waiting(null), HILO_EINVAL, text);
        assert_fails(hilo_barrier_parties(null), HILO_EINVAL, text);
        assert_fails(hilo_barrier_broken(null), HILO_EINVAL, text);
        let b = hilo_barrier_new(2, None, ptr::null_mut(), -1.0);
        assert_fails(
            hilo_barrier_wait(b, f64::NAN),
            HILO_EINVAL,
            "timeout must be a number, not NaN",
        );
        assert_eq!(hilo_barrier_n_waiting(b), 0);
        assert_eq!(hilo_barrier_broken(b), 0);
        hilo_barrier_free(b);
    })
}

#[test]
fn barrier_rounds_give_every_index_and_run_the_action_once() {
    common::limited(120, "its waits and joins to end", || {
        const PARTIES: u32 = 4;
        let b = Shared(hilo_barrier_new(
            PARTIES,
            Some(count_action),
            ptr::null_mut(),
            -1.0,
        ));
        assert_eq!(hilo_barrier_parties(b.get()), PARTIES as i32);
        let before = ACTIONS.load(Ordering::SeqCst);
        for round in 1..=3 {
            let results: Vec<(i32, thread::ThreadId)> = thread::scope(|s| {
                let threads: Vec<_> = (0..PARTIES)
                    .map(|_| {
                        s.spawn(move || (hilo_barrier_wait(b.get(), SOON), thread::current().id()))
                    })
                    .collect();
                threads.into_iter().map(|t| t.join().unwrap()).collect()
            });
            let indices: BTreeSet<i32> = results.iter().map(|(index, _)| *index).collect();
            assert_eq!(indices, (0..PARTIES as i32).collect());
            assert_eq!(ACTIONS.load(Ordering::SeqCst), before + round);
            // The last to arrive ran the action.
            let last = results
                .iter()
                .find(|(index, _)| *index == PARTIES as i32 - 1);
            assert_eq!(*ACTION_THREAD.lock().unwrap(), last.map(|(_, id)| *id));
            assert_eq!(hilo_barrier_n_waiting(b.get()), 0);
            assert_eq!(hilo_barrier_broken(b.get()), 0);
        }
        hilo_barrier_free(b.get());

        let one = hilo_barrier_new(1, None, ptr::null_mut(), -1.0);
        assert_eq!(hilo_barrier_wait(one, -1.0), 0);
        assert_eq!(hilo_barrier_wait(one, 0.0), 0);
        hilo_barrier_free(one);
    })
}

/// Starts `n` threads waiting on `b` with `timeout`, returning once all are
/// in it.
fn waiters<'s>(
    s: &'s thread::Scope<'s, '_>,
    b: Shared<hilo_barrier>,
    n: i32,
    timeout: f64,
) -> Vec<thread::ScopedJoinHandle<'s, (i32, String)>> {
    let before = hilo_barrier_n_waiting(b.get());
    let threads = (0..n)
        .map(|_| s.spawn(move || (hilo_barrier_wait(b.get(), timeout), last_error())))
        .collect();
    eventually("the waiters are in the barrier", || {
        hilo_barrier_n_waiting(b.get()) == before + n
    });
    threads
}

/// Two threads wait in the 3-party barrier `b`; `breaker` breaks it; both
/// get `HILO_EBROKEN` with `text`.
fn break_two_waiters(b: Shared<hilo_barrier>, breaker: impl FnOnce(), text: &str) {
    thread::scope(|s| {
        let threads = waiters(s, b, 2, SOON);
        breaker();
        for t in threads {
            assert_eq!(t.join().unwrap(), (HILO_EBROKEN, text.to_string()));
        }
    });
    assert_eq!(hilo_barrier_n_waiting(b.get()), 0);
}

/// A whole round of the 3-party barrier `b`: two threads and this one.
fn full_round(b: Shared<hilo_barrier>) {
    thread::scope(|s| {
        let threads = waiters(s, b, 2, SOON);
        assert_eq!(hilo_barrier_wait(b.get(), SOON), 2);
        for t in threads {
            assert!((0..2).contains(&t.join().unwrap().0));
        }
    });
}

#[test]
fn barrier_abort_breaks_every_waiter_until_reset() {
    common::limited(120, "its waits and joins to end", || {
        let b = Shared(hilo_barrier_new(3, None, ptr::null_mut(), -1.0));
        let abort = || assert_eq!(hilo_barrier_abort(b.get()), HILO_OK);
        break_two_waiters(b, abort, BROKEN);
        assert_eq!(hilo_barrier_broken(b.get()), 1);
        assert_fails(hilo_barrier_wait(b.get(), SOON), HILO_EBROKEN, BROKEN);
        assert_eq!(hilo_barrier_reset(b.get()), HILO_OK);
        assert_eq!(hilo_barrier_broken(b.get()), 0);
        full_round(b);
        hilo_barrier_free(b.get());
    })
}

#[test]
fn barrier_reset_breaks_every_waiter_and_starts_over() {
    common::limited(120, "its waits and joins to end", || {
        let b = Shared(hilo_barrier_new(3, None, ptr::null_mut(), -1.0));
        let reset = || assert_eq!(hilo_barrier_reset(b.get()), HILO_OK);
        break_two_waiters(b, reset, RESET);
        assert_eq!(hilo_barrier_broken(b.get()), 0);
        full_round(b);
        hilo_barrier_free(b.get());
    })
}

#[test]
fn barrier_timeout_breaks_it_for_every_waiter() {
    common::limited(120, "its waits and joins to end", || {
        let b = Shared(hilo_barrier_new(3, None, ptr::null_mut(), -1.0));
        thread::scope(|s| {
            let patient = waiters(s, b, 1, SOON);
            assert_fails(hilo_barrier_wait(b.get(), 0.02), HILO_EBROKEN, TIMED_OUT);
            for t in patient {
                assert_eq!(t.join().unwrap(), (HILO_EBROKEN, BROKEN.to_string()));
            }
        });
        assert_eq!(hilo_barrier_broken(b.get()), 1);
        assert_fails(hilo_barrier_wait(b.get(), SOON), HILO_EBROKEN, BROKEN);
        hilo_barrier_free(b.get());

        // The default timeout applies to a wait that passes a negative one.
        let b = hilo_barrier_new(2, None, ptr::null_mut(), 0.02);
        assert_fails(hilo_barrier_wait(b, HILO_FOREVER), HILO_EBROKEN, TIMED_OUT);
        assert_eq!(hilo_barrier_broken(b), 1);
        hilo_barrier_free(b);
    })
}

#[test]
fn barrier_abort_from_the_action_breaks_the_round() {
    common::limited(120, "its waits and joins to end", || {
        // The action's argument points to where the barrier will be.
        let slot = Box::into_raw(Box::new(AtomicPtr::new(ptr::null_mut::<hilo_barrier>())));
        let b = Shared(hilo_barrier_new(2, Some(abort_action), slot.cast(), -1.0));
        // SAFETY: `slot` lives until the end of this test.
        unsafe { &*slot }.store(b.get(), Ordering::SeqCst);
        thread::scope(|s| {
            let other = waiters(s, b, 1, SOON);
            assert_fails(hilo_barrier_wait(b.get(), SOON), HILO_EBROKEN, BROKEN);
            for t in other {
                assert_eq!(t.join().unwrap(), (HILO_EBROKEN, BROKEN.to_string()));
            }
        });
        assert_eq!(hilo_barrier_broken(b.get()), 1);
        hilo_barrier_free(b.get());
        // SAFETY: from Box::into_raw above; the barrier is gone.
        drop(unsafe { Box::from_raw(slot) });
    })
}

// ----------------------------------------------------------------- Timer --

static FIRED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C-unwind" fn fire(arg: *mut c_void) -> *mut c_void {
    // SAFETY: every test passes a pointer to an AtomicUsize, or NULL.
    if let Some(count) = unsafe { arg.cast::<AtomicUsize>().as_ref() } {
        count.fetch_add(1, Ordering::SeqCst);
    }
    FIRED.fetch_add(1, Ordering::SeqCst);
    arg
}

fn join(t: hilo_thread_t) -> *mut c_void {
    let mut result = ptr::null_mut();
    assert_eq!(hilo_join(t, SOON, &mut result), HILO_OK, "{}", last_error());
    result
}

fn name_of(t: hilo_thread_t) -> String {
    let mut buf = [0 as std::ffi::c_char; 64];
    assert!(hilo_get_name(t, buf.as_mut_ptr(), buf.len()) > 0);
    // SAFETY: hilo_get_name wrote a NUL-terminated string into `buf`.
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

#[test]
fn timer_argument_errors() {
    common::limited(120, "its waits and joins to end", || {
        let mut t = 0;
        assert_fails(
            hilo_timer_create(0.1, None, ptr::null_mut(), &mut t),
            HILO_EINVAL,
            "fn must not be NULL",
        );
        assert_fails(
            hilo_timer_create(0.1, Some(fire), ptr::null_mut(), ptr::null_mut()),
            HILO_EINVAL,
            "out must not be NULL",
        );
        assert_fails(
            hilo_timer_create(f64::NAN, Some(fire), ptr::null_mut(), &mut t),
            HILO_EINVAL,
            "interval must be a number, not NaN",
        );
        assert_eq!(t, 0, "nothing written on failure");
        assert_fails(
            hilo_timer_cancel(0),
            HILO_ESRCH,
            "no such thread: the handle was never issued or has been released",
        );
        let mut plain = 0;
        assert_eq!(
            hilo_create(Some(fire), ptr::null_mut(), ptr::null(), &mut plain),
            HILO_OK
        );
        assert_fails(
            hilo_timer_cancel(plain),
            HILO_EINVAL,
            "not a timer: the thread was not made by hilo_timer_create",
        );
        assert_eq!(hilo_release(plain), HILO_OK);
    })
}

#[test]
fn timer_fires_once_as_a_normal_thread() {
    common::limited(120, "its waits and joins to end", || {
        let count = AtomicUsize::new(0);
        let arg = ptr::from_ref(&count).cast_mut().cast();
        let mut t = 0;
        assert_eq!(hilo_timer_create(0.01, Some(fire), arg, &mut t), HILO_OK);
        assert!(name_of(t).starts_with("Thread-"), "{}", name_of(t));
        // Made on a thread hilo did not create: a daemon, as in Python.
        assert_eq!(hilo_is_daemon(t), 1);
        assert_eq!(hilo_is_alive(t), 0);
        assert_eq!(hilo_start(t), HILO_OK);
        assert_eq!(join(t), arg, "join gives the function's value");
        assert_eq!(count.load(Ordering::SeqCst), 1);
        // Cancelling after it ran is fine and changes nothing.
        assert_eq!(hilo_timer_cancel(t), HILO_OK);
        assert_eq!(hilo_release(t), HILO_OK);
        assert_fails(
            hilo_timer_cancel(t),
            HILO_ESRCH,
            "no such thread: the handle was never issued or has been released",
        );

        // An interval of 0 or less fires at once, as in Python.
        assert_eq!(hilo_timer_create(-5.0, Some(fire), arg, &mut t), HILO_OK);
        assert_eq!(hilo_start(t), HILO_OK);
        assert_eq!(join(t), arg);
        assert_eq!(count.load(Ordering::SeqCst), 2);
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

unsafe extern "C-unwind" fn make_timer_in_non_daemon(_: *mut c_void) -> *mut c_void {
    let mut t = 0;
    assert_eq!(
        hilo_timer_create(1.0, Some(fire), ptr::null_mut(), &mut t),
        HILO_OK
    );
    t as *mut c_void
}

#[test]
fn timer_inherits_daemon_from_its_creator() {
    common::limited(120, "its waits and joins to end", || {
        let mut maker = 0;
        assert_eq!(
            hilo_create(
                Some(make_timer_in_non_daemon),
                ptr::null_mut(),
                ptr::null(),
                &mut maker
            ),
            HILO_OK
        );
        assert_eq!(hilo_set_daemon(maker, false), HILO_OK);
        assert_eq!(hilo_start(maker), HILO_OK);
        let t = join(maker) as hilo_thread_t;
        assert_eq!(hilo_is_daemon(t), 0);
        assert_eq!(hilo_release(t), HILO_OK, "never started: discarded");
        assert_eq!(hilo_release(maker), HILO_OK);
    })
}

#[test]
fn timer_cancelled_before_it_fires_never_runs() {
    common::limited(120, "its waits and joins to end", || {
        let count = AtomicUsize::new(0);
        let arg = ptr::from_ref(&count).cast_mut().cast();
        // Cancelled before the start.
        let mut t = 0;
        assert_eq!(hilo_timer_create(0.0, Some(fire), arg, &mut t), HILO_OK);
        assert_eq!(hilo_timer_cancel(t), HILO_OK);
        assert_eq!(hilo_start(t), HILO_OK);
        assert_eq!(join(t), ptr::null_mut());
        assert_eq!(hilo_release(t), HILO_OK);
        // Cancelled while it waits: the thread ends at once.
        for interval in [30.0, f64::INFINITY] {
            assert_eq!(
                hilo_timer_create(interval, Some(fire), arg, &mut t),
                HILO_OK
            );
            assert_eq!(hilo_start(t), HILO_OK);
            assert_eq!(hilo_timer_cancel(t), HILO_OK);
            assert_eq!(hilo_timer_cancel(t), HILO_OK, "twice is fine");
            assert_eq!(join(t), ptr::null_mut());
            assert_eq!(hilo_release(t), HILO_OK);
        }
        assert_eq!(count.load(Ordering::SeqCst), 0);
    })
}

#[test]
fn timer_cancel_racing_its_firing_runs_it_at_most_once() {
    common::limited(120, "its waits and joins to end", || {
        let count = AtomicUsize::new(0);
        let arg = ptr::from_ref(&count).cast_mut().cast();
        for _ in 0..100 {
            let before = count.load(Ordering::SeqCst);
            let mut t = 0;
            assert_eq!(hilo_timer_create(0.0, Some(fire), arg, &mut t), HILO_OK);
            assert_eq!(hilo_start(t), HILO_OK);
            assert_eq!(hilo_timer_cancel(t), HILO_OK);
            let result = join(t);
            let ran = count.load(Ordering::SeqCst) - before;
            assert!(ran <= 1);
            // The join result says whether it ran.
            assert_eq!(result == arg, ran == 1);
            assert_eq!(hilo_release(t), HILO_OK);
        }
    })
}

// ---------------------------------------------------------- Thread-local --

static DESTROYED: Mutex<Vec<usize>> = Mutex::new(Vec::new());

unsafe extern "C" fn destroy(value: *mut c_void) {
    DESTROYED.lock().unwrap().push(value as usize);
}

fn destroyed(value: usize) -> bool {
    DESTROYED.lock().unwrap().contains(&value)
}

unsafe extern "C-unwind" fn set_local(arg: *mut c_void) -> *mut c_void {
    let (local, value) = *unsafe { Box::from_raw(arg.cast::<(Shared<hilo_local>, usize)>()) };
    assert!(
        hilo_local_get(local.get()).is_null(),
        "a new thread sees none"
    );
    assert_eq!(hilo_local_set(local.get(), value as *mut c_void), HILO_OK);
    assert_eq!(hilo_local_get(local.get()) as usize, value);
    ptr::null_mut()
}

#[test]
fn local_values_are_per_thread() {
    common::limited(120, "its waits and joins to end", || {
        let l = Shared(hilo_local_new(None));
        assert!(!l.get().is_null());
        assert!(hilo_local_get(l.get()).is_null());
        assert_eq!(hilo_local_set(l.get(), 0x10 as *mut c_void), HILO_OK);
        thread::scope(|s| {
            s.spawn(move || {
                assert!(hilo_local_get(l.get()).is_null());
                assert_eq!(hilo_local_set(l.get(), 0x20 as *mut c_void), HILO_OK);
                assert_eq!(hilo_local_get(l.get()) as usize, 0x20);
            });
        });
        assert_eq!(hilo_local_get(l.get()) as usize, 0x10);
        assert_eq!(hilo_local_set(l.get(), ptr::null_mut()), HILO_OK);
        assert!(hilo_local_get(l.get()).is_null());
        hilo_local_free(l.get());
        hilo_local_free(ptr::null_mut());

        assert!(hilo_local_get(ptr::null()).is_null());
        assert_eq!(last_error(), "local must not be NULL");
        assert_fails(
            hilo_local_set(ptr::null_mut(), ptr::null_mut()),
            HILO_EINVAL,
            "local must not be NULL",
        );
    })
}

#[test]
fn local_destructor_runs_when_a_thread_ends() {
    common::limited(120, "its waits and joins to end", || {
        let l = Shared(hilo_local_new(Some(destroy)));
        // A hilo thread.
        let arg = Box::into_raw(Box::new((l, 0x1001_usize)));
        let mut t = 0;
        assert_eq!(
            hilo_create(Some(set_local), arg.cast(), ptr::null(), &mut t),
            HILO_OK
        );
        assert_eq!(hilo_start(t), HILO_OK);
        join(t);
        assert_eq!(hilo_release(t), HILO_OK);
        // The destructor runs as the OS thread exits, just after the target.
        eventually("the hilo thread's value is destroyed", || destroyed(0x1001));
        // A thread hilo did not create; std's join waits for its TLS teardown.
        thread::spawn(move || {
            assert_eq!(hilo_local_set(l.get(), 0x1002 as *mut c_void), HILO_OK);
        })
        .join()
        .unwrap();
        assert!(destroyed(0x1002));
        // A thread that set NULL, or nothing, has nothing to destroy.
        let before = DESTROYED.lock().unwrap().len();
        thread::spawn(move || {
            assert_eq!(hilo_local_set(l.get(), 0x1003 as *mut c_void), HILO_OK);
            assert_eq!(hilo_local_set(l.get(), ptr::null_mut()), HILO_OK);
        })
        .join()
        .unwrap();
        thread::spawn(|| {}).join().unwrap();
        assert_eq!(DESTROYED.lock().unwrap().len(), before);
        assert!(!destroyed(0x1003));
        hilo_local_free(l.get());
    })
}

#[test]
fn a_released_timer_still_fires_while_other_timers_are_made() {
    common::limited(120, "its waits and joins to end", || {
        // Fire-and-forget: start, release at once, and make more timers, whose
        // creation sweeps the bookkeeping of released timers. Each must fire.
        let count: &'static AtomicUsize = Box::leak(Box::new(AtomicUsize::new(0)));
        let arg = count as *const AtomicUsize as *mut c_void;
        let n = 200;
        for _ in 0..n {
            let mut t = 0;
            assert_eq!(hilo_timer_create(0.0, Some(fire), arg, &mut t), HILO_OK);
            assert_eq!(hilo_start(t), HILO_OK);
            assert_eq!(hilo_release(t), HILO_OK);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while count.load(Ordering::SeqCst) < n && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(
            count.load(Ordering::SeqCst),
            n,
            "released timers that never fired"
        );
    })
}
