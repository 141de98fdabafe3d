//! What src/futex.rs builds its locks from: the word (`AtomicU32`), the
//! futex calls on it, and the spin hint. Normally plain re-exports of std
//! and of src/os.rs, so the locks compile exactly as if they named those
//! directly. Under `RUSTFLAGS="--cfg loom"` in the crate's unit tests (the
//! loom models in src/futex/loom_models.rs and src/futex/loom_exit_word.rs,
//! run by .ci/loom.sh) they are
//! loom's atomics and a futex modelled with loom's primitives, the layout
//! of tokio's src/loom (std vs mocked).

pub use std::sync::atomic::Ordering;

#[cfg(not(all(test, loom)))]
pub use crate::os::{futex_wait, futex_wake};
#[cfg(not(all(test, loom)))]
pub use std::hint::spin_loop;
#[cfg(not(all(test, loom)))]
pub use std::sync::atomic::AtomicU32;

#[cfg(all(test, loom))]
pub use model::{futex_wait, futex_wake, spin_loop, AtomicU32};
#[cfg(all(test, loom))]
pub use model::{last_outcome, set_early_returns, Outcome};

/// A futex modelled for loom.
///
/// A word's waiters queue under a loom mutex, as the kernel's do under its
/// hash bucket's lock: `futex_wait` compares the word and queues itself in
/// one critical section, `futex_wake` acts in one, so a waker that changed
/// the word before it wakes either finds the waiter queued or made the
/// waiter's comparison fail. Which waiters a wake takes is left open, as the
/// kernel leaves it: a wake of n records n tokens (no more than the waiters
/// it finds that earlier wakes have not taken) that only the waiters queued
/// at that moment may claim, each its oldest such wake; which of them claim
/// is the order in which loom runs them. A waiter that gives up claims a
/// token if one is there for it (the kernel had woken it) and otherwise
/// leaves the queue, so a wake is never spent on a thread that left.
///
/// When a wait returns: at once when the word differs from `expected`;
/// when woken; and, for a wait with a timeout or on a thread that asked for
/// early returns (`set_early_returns`, modelling EINTR and spurious
/// returns), also without being woken, at any point after it queued
/// (`yield_now`, then a second critical section that takes it off the queue
/// if no wake took it first). Which of those happened is kept per thread
/// and word for the models (`last_outcome`). An untimed wait never returns
/// early otherwise: its loop in futex.rs would spin without end in a model.
#[cfg(all(test, loom))]
mod model {
    use std::cell::RefCell;
    use std::sync::atomic::Ordering;
    use std::sync::OnceLock;
    use std::time::Duration;

    use loom::sync::{Condvar, Mutex};

    pub use loom::hint::spin_loop;

    /// A loom atomic that `const fn new` can make: loom's own are created
    /// at first use, which must happen before the word is shared (loom
    /// checks that every access happens after the creation); the models
    /// touch each lock before they spawn threads.
    pub struct AtomicU32 {
        init: u32,
        word: OnceLock<Word>,
    }

    struct Word {
        value: loom::sync::atomic::AtomicU32,
        queue: Mutex<Queue>,
        woken: Condvar,
    }

    #[derive(Default)]
    struct Queue {
        next_ticket: u64,
        sleeping: Vec<u64>,
        wakes: Vec<Wake>,
    }

    /// A `futex_wake` whose tokens are not all claimed yet.
    struct Wake {
        /// The waiters queued when it was called.
        eligible: Vec<u64>,
        tokens: usize,
    }

    impl Queue {
        /// Takes `ticket` off the queue, claiming a token of the oldest wake
        /// that may take it, if any: true when it claimed one.
        fn leave(&mut self, ticket: u64) -> bool {
            let claimed = match self
                .wakes
                .iter_mut()
                .find(|wake| wake.tokens > 0 && wake.eligible.contains(&ticket))
            {
                Some(wake) => {
                    wake.tokens -= 1;
                    true
                }
                None => false,
            };
            self.sleeping.retain(|&t| t != ticket);
            for wake in &mut self.wakes {
                wake.eligible.retain(|&t| t != ticket);
            }
            self.wakes
                .retain(|wake| wake.tokens > 0 && !wake.eligible.is_empty());
            claimed
        }

        fn may_claim(&self, ticket: u64) -> bool {
            self.wakes
                .iter()
                .any(|wake| wake.tokens > 0 && wake.eligible.contains(&ticket))
        }
    }

    /// How a `futex_wait` ended.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Outcome {
        /// The word did not hold `expected`: no sleep.
        Differed,
        /// A `futex_wake` took this waiter off the queue.
        Woken,
        /// It left the queue on its own (timeout, EINTR).
        Left,
    }

    loom::thread_local! {
        static EARLY_RETURNS: RefCell<bool> = RefCell::new(false);
        static OUTCOMES: RefCell<Vec<(usize, Outcome)>> = RefCell::new(Vec::new());
    }

    /// Lets (or stops) the calling thread's untimed waits return early.
    pub fn set_early_returns(on: bool) {
        EARLY_RETURNS.with(|early| *early.borrow_mut() = on);
    }

    /// How the calling thread's last `futex_wait` on `word` ended.
    pub fn last_outcome(word: &AtomicU32) -> Option<Outcome> {
        let key = word as *const AtomicU32 as usize;
        OUTCOMES.with(|outcomes| {
            outcomes
                .borrow()
                .iter()
                .rev()
                .find(|(at, _)| *at == key)
                .map(|(_, outcome)| *outcome)
        })
    }

    fn record(word: &AtomicU32, outcome: Outcome) {
        let key = word as *const AtomicU32 as usize;
        OUTCOMES.with(|outcomes| outcomes.borrow_mut().push((key, outcome)));
    }

    impl AtomicU32 {
        pub const fn new(value: u32) -> AtomicU32 {
            AtomicU32 {
                init: value,
                word: OnceLock::new(),
            }
        }

        fn word(&self) -> &Word {
            self.word.get_or_init(|| Word {
                value: loom::sync::atomic::AtomicU32::new(self.init),
                queue: Mutex::new(Queue::default()),
                woken: Condvar::new(),
            })
        }

        pub fn load(&self, order: Ordering) -> u32 {
            self.word().value.load(order)
        }

        pub fn store(&self, value: u32, order: Ordering) {
            self.word().value.store(value, order)
        }

        pub fn swap(&self, value: u32, order: Ordering) -> u32 {
            self.word().value.swap(value, order)
        }

        pub fn compare_exchange(
            &self,
            current: u32,
            new: u32,
            success: Ordering,
            failure: Ordering,
        ) -> Result<u32, u32> {
            self.word()
                .value
                .compare_exchange(current, new, success, failure)
        }

        pub fn fetch_add(&self, value: u32, order: Ordering) -> u32 {
            self.word().value.fetch_add(value, order)
        }

        pub fn fetch_sub(&self, value: u32, order: Ordering) -> u32 {
            self.word().value.fetch_sub(value, order)
        }
    }

    /// Never reports EINTR (false): the models' early returns stand for
    /// interrupted sleeps of threads that resume.
    pub fn futex_wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> bool {
        let futex = word.word();
        let mut queue = futex.queue.lock().unwrap();
        // The kernel reads the word after a full barrier, under the bucket lock.
        if futex.value.load(Ordering::SeqCst) != expected {
            drop(queue);
            record(word, Outcome::Differed);
            return false;
        }
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        queue.sleeping.push(ticket);
        if timeout.is_some() || EARLY_RETURNS.with(|early| *early.borrow()) {
            drop(queue);
            loom::thread::yield_now();
            let mut queue = futex.queue.lock().unwrap();
            let outcome = if queue.leave(ticket) {
                Outcome::Woken
            } else {
                Outcome::Left
            };
            drop(queue);
            record(word, outcome);
            return false;
        }
        while !queue.may_claim(ticket) {
            queue = futex.woken.wait(queue).unwrap();
        }
        assert!(queue.leave(ticket));
        drop(queue);
        record(word, Outcome::Woken);
        false
    }

    pub fn futex_wake(word: &AtomicU32, count: i32) {
        let futex = word.word();
        let mut queue = futex.queue.lock().unwrap();
        let taken: usize = queue.wakes.iter().map(|wake| wake.tokens).sum();
        let tokens = usize::try_from(count)
            .unwrap_or(0)
            .min(queue.sleeping.len().saturating_sub(taken));
        if tokens > 0 {
            let eligible = queue.sleeping.clone();
            queue.wakes.push(Wake { eligible, tokens });
            futex.woken.notify_all();
        }
    }
}
