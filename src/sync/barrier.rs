//! Barrier (Python's `threading.Barrier`), with Python's state machine:
//! filling, draining after a trip, resetting, broken. One more phase,
//! `Tripping`, covers the action, which runs without the barrier's mutex so
//! that it may call the barrier's own queries.

use std::time::{Duration, Instant};

use crate::error::{Error, Kind, Result};
use crate::futex::{Condvar, Mutex, MutexGuard};
use crate::waits::{self, On};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Threads are arriving.
    Filling,
    /// The last one arrived and runs the action; nobody may enter.
    Tripping,
    /// The barrier tripped; the waiters are leaving.
    Draining,
    /// `reset` was called while threads waited; they are leaving broken.
    Resetting,
    /// Aborted, or a wait timed out.
    Broken,
}

struct State {
    phase: Phase,
    /// Threads inside `wait`.
    count: u32,
}

/// The action, run by the thread whose arrival trips the barrier.
pub type Action = Box<dyn Fn() + Send + Sync>;

/// How long a `wait` may block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarrierWait {
    /// The barrier's default timeout (Python's `None`).
    Default,
    /// At most until the deadline, or forever for None.
    Until(Option<Instant>),
}

pub struct Barrier {
    parties: u32,
    action: Option<Action>,
    /// The timeout of waits that give none (None: forever).
    default_timeout: Option<Duration>,
    state: Mutex<State>,
    changed: Condvar,
}

fn broken(message: &'static str) -> Error {
    Error::new(Kind::Broken, message)
}

impl Barrier {
    /// `default_timeout` None: waits that give no timeout wait forever.
    pub fn new(
        parties: u32,
        action: Option<Action>,
        default_timeout: Option<Duration>,
    ) -> Result<Barrier> {
        if parties < 1 {
            return Err(Error::invalid("parties must be >= 1"));
        }
        Ok(Barrier {
            parties,
            action,
            default_timeout,
            state: Mutex::new(State {
                phase: Phase::Filling,
                count: 0,
            }),
            changed: Condvar::new(),
        })
    }

    /// Waits for all parties; returns this thread's arrival index.
    ///
    /// `HILO_EINTR` when a signal handler interrupted the wait of an
    /// interruptible thread (src/interrupt.rs) before the barrier tripped:
    /// the thread leaves the barrier, which stays unbroken and counts one
    /// waiter less, as in CPython, where an exception raised inside
    /// `Barrier.wait` (a KeyboardInterrupt) only undoes the arrival. A
    /// later `wait` arrives anew. A thread whose barrier is tripping (the
    /// action runs) waits on for the trip's end, as a timeout does.
    pub fn wait(&self, wait: BarrierWait) -> Result<u32> {
        let deadline = match wait {
            BarrierWait::Default => self
                .default_timeout
                .and_then(|timeout| Instant::now().checked_add(timeout)),
            BarrierWait::Until(deadline) => deadline,
        };
        let mut state = self.state.lock();
        // Wait while the previous round drains, resets or trips: within the
        // deadline too (Python waits here without one), since the threads
        // that would end that phase may never come (they vanished in a fork).
        while matches!(
            state.phase,
            Phase::Draining | Phase::Resetting | Phase::Tripping
        ) {
            let woken = self.changed.wait_until(&mut state, deadline);
            if matches!(
                state.phase,
                Phase::Draining | Phase::Resetting | Phase::Tripping
            ) {
                match woken {
                    Ok(true) => {}
                    Ok(false) => {
                        state.phase = Phase::Broken;
                        self.changed.notify_all();
                        return Err(broken("barrier wait timed out; the barrier is now broken"));
                    }
                    // Not counted yet: nothing to undo.
                    Err(interrupted) => return Err(interrupted.into()),
                }
            }
        }
        if state.phase == Phase::Broken {
            return Err(broken("the barrier is broken"));
        }
        let index = state.count;
        state.count += 1;
        let result = if index + 1 == self.parties {
            state.phase = Phase::Tripping;
            if let Some(action) = &self.action {
                MutexGuard::unlocked(&mut state, action);
            }
            if state.phase == Phase::Tripping {
                state.phase = Phase::Draining;
                self.changed.notify_all();
                Ok(index)
            } else {
                Err(self.why_broken(state.phase))
            }
        } else {
            let _waiting = waits::begin(On::Barrier(self));
            loop {
                match state.phase {
                    Phase::Draining => break Ok(index),
                    Phase::Resetting | Phase::Broken => break Err(self.why_broken(state.phase)),
                    Phase::Filling | Phase::Tripping => {
                        let woken = self.changed.wait_until(&mut state, deadline);
                        // A wait that times out (or is interrupted) while
                        // the action runs waits on for its end, as in
                        // Python, where the action holds the barrier's lock.
                        if state.phase == Phase::Filling {
                            match woken {
                                Ok(true) => {}
                                Ok(false) => {
                                    state.phase = Phase::Broken;
                                    self.changed.notify_all();
                                    break Err(broken(
                                        "barrier wait timed out; the barrier is now broken",
                                    ));
                                }
                                // Leaves unbroken: the count drops below.
                                Err(interrupted) => break Err(interrupted.into()),
                            }
                        }
                    }
                }
            }
        };
        state.count -= 1;
        if state.count == 0 && matches!(state.phase, Phase::Draining | Phase::Resetting) {
            state.phase = Phase::Filling;
            self.changed.notify_all();
        }
        result
    }

    fn why_broken(&self, phase: Phase) -> Error {
        match phase {
            Phase::Resetting => broken("the barrier was reset while this thread waited"),
            _ => broken("the barrier is broken"),
        }
    }

    /// Back to the empty, unbroken state; threads waiting now get broken.
    pub fn reset(&self) {
        let mut state = self.state.lock();
        if state.count > 0 {
            if matches!(
                state.phase,
                Phase::Filling | Phase::Tripping | Phase::Broken
            ) {
                // Cleared when the last waiter leaves.
                state.phase = Phase::Resetting;
            }
        } else {
            state.phase = Phase::Filling;
        }
        self.changed.notify_all();
    }

    /// Breaks it: waiting and future waits get broken until `reset`.
    pub fn abort(&self) {
        let mut state = self.state.lock();
        state.phase = Phase::Broken;
        self.changed.notify_all();
    }

    pub fn parties(&self) -> u32 {
        self.parties
    }

    /// Threads waiting for the barrier to trip.
    pub fn n_waiting(&self) -> u32 {
        let state = self.state.lock();
        match state.phase {
            Phase::Filling | Phase::Tripping => state.count,
            _ => 0,
        }
    }

    /// (threads waiting, parties) without waiting for the barrier's
    /// mutex (for dumps); None when it is busy.
    pub fn arrivals(&self) -> Option<(u32, u32)> {
        let state = self.state.try_lock()?;
        Some((state.count, self.parties))
    }

    pub fn broken(&self) -> bool {
        self.state.lock().phase == Phase::Broken
    }
}
