//! A thread pool with futures (Python's `concurrent.futures.ThreadPoolExecutor`):
//! named hilo worker threads started lazily, and futures with timeouts,
//! cancel and done callbacks. The C layer is src/ffi/executor.rs.
//!
//! The hand-off is where the cost is, so it takes no lock on the submitting
//! side:
//!
//! - A submit pushes the future on a lock-free stack (`incoming`, one CAS),
//!   then looks at two counters: a worker that sleeps is woken (one futex
//!   wake, only then); with none asleep and fewer than `max_workers`
//!   started, a new worker starts (Python's rule: idle workers first).
//! - A worker pops under a short lock (`taken`, shared by workers only):
//!   when its FIFO list is empty it swaps the whole stack out (one swap) and
//!   reverses it into that list, so work runs in submit order.
//! - A future's phase (pending, running, finished, cancelled) and who waits
//!   for it share one atomic word: running it is one CAS, ending it one
//!   swap, and a futex wake only when the swap shows that someone sleeps.
//!   `cancel` is the same CAS as running, so exactly one of them wins.
//!
//! Workers are daemon hilo threads: idle ones never hold up `hilo_shutdown()`
//! or the exit. The process exit instead shuts every executor down (queued
//! work still runs) and joins its workers first, as CPython's
//! `threading._shutdown` does through `concurrent.futures`' atexit hook
//! (src/exit.rs calls `at_exit`).
//!
//! After `fork()`, an executor in the child has no workers and its queue is
//! abandoned (the threads that would run it are not there): it starts new
//! workers for new work. A future that had not ended at the fork reports
//! cancelled in the child (`result` gives `Canceled`, nothing waits for it),
//! and its done callbacks never run there. Each executor and future notes
//! the fork count it was made in (`FORKS`) and compares it, so the child
//! touches nothing that a vanished thread may have left half-written.

use std::cell::UnsafeCell;
use std::ffi::{c_void, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::error::{Error, Kind, Result};
use crate::futex::{ForkLock, Mutex};
use crate::interrupt::Interrupted;
use crate::registry::{self, Handle, Target};
use crate::{blocks, current, interrupt, joins, os, threads, waits};

// A future's state word: the phase in the low bits, then who must be told
// when it ends.
const PHASE: u32 = 0b11;
const PENDING: u32 = 0;
const RUNNING: u32 = 1;
const FINISHED: u32 = 2;
const CANCELLED: u32 = 3;
/// A thread sleeps on the future's own word (`result`).
const WAITED: u32 = 1 << 2;
/// A thread sleeps on `COMPLETIONS` (`wait` for the first of many).
const WAITED_ANY: u32 = 1 << 3;
/// Done callbacks are registered.
const CALLBACKS: u32 = 1 << 4;
/// While RUNNING, the bits from here up hold the registry index + 1 of the
/// worker running it (0: unknown), written by the same CAS that claims it,
/// so that a dump can name the thread a waiter of it waits for.
const RUNNER_SHIFT: u32 = 5;

/// How many times a waiter of a future re-reads its word before it sleeps:
/// a hand-off that completes within a few microseconds then costs no system
/// call on either side.
const SPINS: u32 = 200;

/// How long an idle worker searches (spins) before it sleeps: longer than
/// the gap between two submits of a busy producer, shorter than a time
/// slice. Only one worker of an executor searches at a time.
const SEARCH: Duration = Duration::from_micros(20);

/// How long a waiter of a future spins (after `SPINS`) before it sleeps,
/// yielding the CPU between reads: as long as a worker searches (shorter
/// spins measured no better on a crowded machine, and worse on a quiet
/// one).
const WAIT_SPIN: Duration = Duration::from_micros(20);

/// How many forks lie between the first process and this one: bumped first
/// thing in a forked child (`after_fork_in_child`).
static FORKS: AtomicU32 = AtomicU32::new(0);

/// Set when the process's exit wait has begun: no new work is accepted.
static EXITING: AtomicBool = AtomicBool::new(false);

/// Bumped when a future that a `wait_many` sleeps on ends. One word for all
/// executors: a future then needs no pointer to its executor, and two
/// `wait_many` at once only wake each other in vain.
static COMPLETIONS: AtomicU32 = AtomicU32::new(0);

fn forks() -> u32 {
    FORKS.load(Ordering::Relaxed)
}

/// A done callback: given the future that ended.
pub type Callback = Box<dyn FnOnce(&FutureRef) + Send>;

/// One registered callback, in a list that `add_done_callback` pushes onto
/// (newest first) and that the end of the future takes whole.
struct CallbackNode {
    callback: Callback,
    next: *mut CallbackNode,
}

/// The callback list's head once the future has ended and its callbacks
/// have all run: a later callback runs at once. Never dereferenced.
const SEALED: *mut CallbackNode = NonNull::dangling().as_ptr();

/// The callback list's end (and head, while nothing new came) while the
/// future's callbacks run: a callback added meanwhile is pushed on it, and
/// runs after them, in the thread running them. Never dereferenced.
const DRAINING: *mut CallbackNode = SEALED.wrapping_add(1);

/// True for a head or link that is no node.
fn no_node(node: *mut CallbackNode) -> bool {
    node.is_null() || node == SEALED || node == DRAINING
}

/// Where a future is in its life, as its accessors report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Pending,
    Running,
    Finished,
    Cancelled,
}

/// One submitted call and its outcome. It lives in a slot of one cache
/// line (src/blocks.rs), reached through counted references (`FutureRef`):
/// the caller's, the queue's until a worker is done with it, and one held
/// by each pending C callback registration.
#[repr(C, align(64))]
pub struct Future {
    state: AtomicU32,
    /// Counted references; the last one dropped gives the slot back.
    refs: AtomicU32,
    /// `FORKS` when it was submitted: a future from before a fork that had
    /// not ended counts as cancelled in the child.
    forks: u32,
    /// Its executor's serial number (`Shared::id`): `wait` over many
    /// futures checks that they share one, and a dump names its workers.
    executor: u32,
    /// The link of the executor's queue (incoming stack or taken list).
    next: AtomicPtr<Future>,
    function: Target,
    /// The function's argument until it runs, then its return value: one
    /// word, as the future's size is what a burst of submits pays in fresh
    /// memory. Read and written by the worker that won the PENDING ->
    /// RUNNING CAS, the value published by the Release swap to FINISHED and
    /// read only after an Acquire load has seen FINISHED.
    value: UnsafeCell<*mut c_void>,
    /// Registered callbacks, newest first; `SEALED` once taken.
    callbacks: AtomicPtr<CallbackNode>,
}

const _: () = assert!(std::mem::size_of::<Future>() == blocks::SLOT_BYTES);

// SAFETY: the argument is only handed to the C function, once, on a worker
// thread, as pthread_create hands over its argument; `value` is accessed as
// its comment says; the callback list through its atomic head, each node
// owned by the one who pushed it until the end of the future takes it.
unsafe impl Send for Future {}
// SAFETY: as above.
unsafe impl Sync for Future {}

impl Drop for Future {
    fn drop(&mut self) {
        // Callbacks of a future that never ended (abandoned by a fork, or
        // queued when its executor could not run it): dropped, not run.
        let mut node = *self.callbacks.get_mut();
        while !no_node(node) {
            // SAFETY: a node pushed by `add_done_callback`, owned by the
            // list; the last reference is going, so nobody else reads it.
            let boxed = unsafe { Box::from_raw(node) };
            node = boxed.next;
        }
    }
}

/// A counted reference to a future: what a `hilo_future *` is. The last one
/// dropped drops the future and gives its slot back.
pub struct FutureRef(NonNull<Future>);

// SAFETY: a counted reference to a Send + Sync future.
unsafe impl Send for FutureRef {}
// SAFETY: as above.
unsafe impl Sync for FutureRef {}

impl std::ops::Deref for FutureRef {
    type Target = Future;
    fn deref(&self) -> &Future {
        // SAFETY: the future lives while a reference to it does.
        unsafe { self.0.as_ref() }
    }
}

impl Clone for FutureRef {
    fn clone(&self) -> FutureRef {
        self.refs.fetch_add(1, Ordering::Relaxed);
        FutureRef(self.0)
    }
}

impl Drop for FutureRef {
    fn drop(&mut self) {
        if self.refs.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Every other holder's use happens before the drop: an Acquire
        // load of the count their Release decrements wrote (a load rather
        // than a fence, which ThreadSanitizer does not see).
        self.refs.load(Ordering::Acquire);
        let future = self.0.as_ptr();
        // SAFETY: the last reference: nothing else points to the future,
        // which lives in a slot from `blocks::Arena::take`, given back once.
        unsafe {
            ptr::drop_in_place(future);
            blocks::give_back(future.cast());
        }
    }
}

impl FutureRef {
    /// Cancels it if it has not begun to run: true when it is cancelled
    /// (also when it was before, as Python's `cancel` answers), false when
    /// it runs or has finished. The callbacks run here, in the caller.
    pub fn cancel(&self) -> bool {
        match self.phase() {
            Phase::Cancelled => return true,
            Phase::Running | Phase::Finished => return false,
            Phase::Pending => {}
        }
        match self.claim(CANCELLED, 0) {
            Ok(old) => {
                self.ended(old);
                true
            }
            Err(old) => old & PHASE == CANCELLED,
        }
    }

    /// Runs it on a worker unless it was cancelled first; `shared` is the
    /// worker's executor, `worker` the worker's handle and `runner` its
    /// `RUNNER_SHIFT` bits. When the function ends its thread with
    /// `pthread_exit`, this returns by a forced unwind, never normally, and
    /// the future ends later with the exit's value (`TaskExit`).
    fn run(&self, shared: &Arc<Shared>, worker: Handle, runner: u32) {
        if self.claim(RUNNING, runner).is_err() {
            return;
        }
        // SAFETY: only this thread, which won the claim, touches `value`
        // until the swap below publishes it.
        let slot = unsafe { &mut *self.value.get() };
        // Armed across the call: dropped only if the call unwinds. No
        // catch_unwind may lie between the call and the thread's start: it
        // would stop pthread_exit's forced unwind ("exception not
        // rethrown"), so the call is bare here as in threads.rs.
        let exit = TaskExit {
            future: self,
            shared,
            worker,
        };
        // SAFETY: the C function and argument given to submit, called once
        // (this thread won the claim), as a thread target is.
        *slot = unsafe { (self.function)(*slot) };
        std::mem::forget(exit);
        self.finish();
    }

    /// RUNNING -> FINISHED, with `value` written: wakes and calls back.
    fn finish(&self) {
        // CALLBACKS stays: a callback added from now on must see that an
        // earlier one is (or was) run by this end (`add_done_callback`).
        let old = match self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                Some(FINISHED | (word & CALLBACKS))
            }) {
            Ok(old) | Err(old) => old,
        };
        self.ended(old);
    }

    /// After the phase became FINISHED or CANCELLED: wakes whoever the old
    /// word says sleeps, then runs the callbacks, each once, in the order
    /// they were added.
    fn ended(&self, old: u32) {
        if old & WAITED != 0 {
            os::futex_wake(&self.state, i32::MAX);
        }
        if old & WAITED_ANY != 0 {
            COMPLETIONS.fetch_add(1, Ordering::SeqCst);
            os::futex_wake(&COMPLETIONS, i32::MAX);
        }
        if old & CALLBACKS != 0 {
            self.run_callbacks();
        }
    }

    /// Runs the registered callbacks, oldest first, then those added while
    /// they ran, until none is left; then seals the list, so that a later
    /// callback runs at once in its caller, after all of these. One thread
    /// does this per future: the one that ended it when a callback was
    /// registered by then, else the first to register one after the end
    /// (`add_done_callback`).
    fn run_callbacks(&self) {
        loop {
            let mut node = self.callbacks.swap(DRAINING, Ordering::AcqRel);
            let mut oldest_first = Vec::new();
            while !no_node(node) {
                // SAFETY: a node that `add_done_callback` pushed, now ours
                // alone: the swap took the list.
                let boxed = unsafe { Box::from_raw(node) };
                node = boxed.next;
                oldest_first.push(boxed.callback);
            }
            for callback in oldest_first.into_iter().rev() {
                // A callback is C code; a panic inside hilo's part of it must
                // not stop the others.
                let _ = catch_unwind(AssertUnwindSafe(|| callback(self)));
            }
            if self
                .callbacks
                .compare_exchange(DRAINING, SEALED, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return;
            }
        }
    }

    /// Registers `callback`, or runs it at once, here, when already done.
    pub fn add_done_callback(&self, callback: Callback) {
        // Flagged first: an end whose swap comes after this sees the flag
        // and takes the list; an earlier end shows here as done.
        let old = self.state.fetch_or(CALLBACKS, Ordering::AcqRel);
        if self.forks != forks() {
            callback(self);
            return;
        }
        // Ended before any callback was flagged: the end left the list
        // alone, and this call is the one to run it (with callbacks other
        // threads add meanwhile) and seal it.
        let runs_them = matches!(old & PHASE, FINISHED | CANCELLED) && old & CALLBACKS == 0;
        let node = Box::into_raw(Box::new(CallbackNode {
            callback,
            next: ptr::null_mut(),
        }));
        let mut head = self.callbacks.load(Ordering::Acquire);
        loop {
            if head == SEALED {
                // Every earlier callback has run: run it here.
                // SAFETY: the node made above, never published.
                let boxed = unsafe { Box::from_raw(node) };
                (boxed.callback)(self);
                return;
            }
            // SAFETY: the node is ours until the CAS publishes it.
            unsafe { (*node).next = head };
            match self.callbacks.compare_exchange_weak(
                head,
                node,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(now) => head = now,
            }
        }
        // Pushed: the thread running the callbacks, or the end when it
        // comes, runs it after the earlier ones, unless this call does.
        if runs_them {
            self.run_callbacks();
        }
    }

    /// The reference as a raw pointer, for C or the queue; `from_raw` takes
    /// it back.
    pub fn into_raw(self) -> *mut Future {
        let future = self.0.as_ptr();
        std::mem::forget(self);
        future
    }

    /// Takes back a reference that `into_raw` gave.
    ///
    /// # Safety
    /// `future` came from `into_raw`, and this reference is taken back once.
    pub unsafe fn from_raw(future: *mut Future) -> FutureRef {
        // SAFETY: `into_raw` never gives NULL.
        FutureRef(unsafe { NonNull::new_unchecked(future) })
    }

    /// A new reference to a future that a live reference points to.
    ///
    /// # Safety
    /// `future` is a live future: some reference to it is held meanwhile.
    pub unsafe fn counted(future: *const Future) -> FutureRef {
        // SAFETY: as the caller guarantees.
        let future = unsafe { &*future };
        future.refs.fetch_add(1, Ordering::Relaxed);
        FutureRef(NonNull::from(future))
    }

    /// The pointer, without a reference of its own.
    pub fn as_ptr(&self) -> *mut Future {
        self.0.as_ptr()
    }
}

impl Future {
    /// The phase, with a future from before the last fork that had not
    /// ended reported as cancelled.
    pub fn phase(&self) -> Phase {
        match self.state.load(Ordering::Acquire) & PHASE {
            FINISHED => Phase::Finished,
            CANCELLED => Phase::Cancelled,
            _ if self.forks != forks() => Phase::Cancelled,
            RUNNING => Phase::Running,
            _ => Phase::Pending,
        }
    }

    pub fn done(&self) -> bool {
        matches!(self.phase(), Phase::Finished | Phase::Cancelled)
    }

    /// The serial number of the executor that runs it: `wait` over many
    /// futures needs one.
    pub fn executor_id(&self) -> u32 {
        self.executor
    }

    /// Moves PENDING to `phase` (RUNNING or CANCELLED); the old word, or
    /// Err with the word when it was not pending. Cancelling clears the
    /// waiter flags (the caller acts on them); running keeps them and adds
    /// `runner` (a worker's `RUNNER_SHIFT` bits).
    fn claim(&self, phase: u32, runner: u32) -> std::result::Result<u32, u32> {
        self.state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |word| {
                (word & PHASE == PENDING).then_some(if phase == CANCELLED {
                    // As `finish`: CALLBACKS stays.
                    CANCELLED | (word & CALLBACKS)
                } else {
                    (word & !PHASE) | phase | runner
                })
            })
    }

    /// The registry index of the worker running it, while it runs.
    pub fn runner(&self) -> Option<u32> {
        let word = self.state.load(Ordering::Acquire);
        (word & PHASE == RUNNING && self.forks == forks())
            .then(|| (word >> RUNNER_SHIFT).checked_sub(1))
            .flatten()
    }

    /// The name prefix of its executor's workers (a dump's words), or None
    /// once the executor is gone.
    pub fn prefix(&self) -> Option<String> {
        // Upgraded under the list's lock, dropped after it: a last
        // reference's drop takes other locks.
        let all: Vec<Arc<Shared>> = executors()
            .lock()
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        all.iter()
            .find(|executor| executor.id == self.executor)
            .map(|executor| executor.prefix.clone())
    }
    /// Waits until it is done or `deadline` passes; true when done. Err
    /// when a signal handler interrupted the sleep of an interruptible
    /// thread (src/interrupt.rs) and the future is still not done.
    pub fn wait(&self, deadline: Option<Instant>) -> Result<bool> {
        if spin_until(WAIT_SPIN, || self.done()) {
            return Ok(true);
        }
        // The slow path: a dump shows what this thread waits for.
        let _waiting = waits::begin(waits::On::Future(self));
        loop {
            let word = self.state.fetch_or(WAITED, Ordering::AcqRel) | WAITED;
            if matches!(word & PHASE, FINISHED | CANCELLED) || self.forks != forks() {
                return Ok(true);
            }
            let Some(timeout) = time_left(deadline) else {
                return Ok(self.done());
            };
            let slept = interrupt::sleep(timeout, |timeout| {
                os::futex_wait(&self.state, word, timeout)
            });
            if let Err(interrupted) = slept {
                if self.done() {
                    return Ok(true);
                }
                return Err(interrupted.into());
            }
        }
    }

    /// `result`: the function's return value once finished.
    pub fn result(&self, deadline: Option<Instant>) -> Result<*mut c_void> {
        if !self.wait(deadline)? {
            return Err(Error::timed_out());
        }
        match self.phase() {
            // SAFETY: FINISHED was seen with Acquire: the worker's write of
            // the result happened before.
            Phase::Finished => Ok(unsafe { *self.value.get() }),
            _ => Err(Error::new(Kind::Canceled, "the future was cancelled")),
        }
    }
}

/// Spins until `ready` holds, for at most `limit`: true when it held. It
/// re-reads with pause hints first, then yields the CPU between reads, so
/// that the thread it waits for gets to run even on the same CPU.
fn spin_until(limit: Duration, ready: impl Fn() -> bool) -> bool {
    for _ in 0..SPINS {
        if ready() {
            return true;
        }
        std::hint::spin_loop();
    }
    let began = Instant::now();
    while began.elapsed() < limit {
        std::thread::yield_now();
        for _ in 0..64 {
            if ready() {
                return true;
            }
            std::hint::spin_loop();
        }
    }
    false
}

/// None when the deadline has passed; Some(None) for no deadline.
fn time_left(deadline: Option<Instant>) -> Option<Option<Duration>> {
    match deadline {
        None => Some(None),
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            (!left.is_zero()).then_some(Some(left))
        }
    }
}

/// `wait` over many futures of one executor, Python's FIRST_COMPLETED
/// (`all` false) or ALL_COMPLETED: true once that holds, false at the
/// deadline. The caller checked that they share one executor.
pub fn wait_many<'a, I>(futures: I, all: bool, deadline: Option<Instant>) -> Result<bool>
where
    I: Iterator<Item = &'a Future> + Clone,
{
    if all {
        for future in futures {
            if !future.wait(deadline)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    let Some(first) = futures.clone().next() else {
        return Ok(true);
    };
    if futures.clone().any(|future| future.done()) {
        return Ok(true);
    }
    let completions = &COMPLETIONS;
    let _waiting = waits::begin(waits::On::FutureAny(first));
    loop {
        // Noted before the flags are set: an end after a flag bumps it.
        let seen = completions.load(Ordering::SeqCst);
        for future in futures.clone() {
            let word = future.state.fetch_or(WAITED_ANY, Ordering::AcqRel);
            if matches!(word & PHASE, FINISHED | CANCELLED) || future.forks != forks() {
                return Ok(true);
            }
        }
        let Some(timeout) = time_left(deadline) else {
            return Ok(futures.clone().any(|future| future.done()));
        };
        let slept = interrupt::sleep(timeout, |timeout| {
            os::futex_wait(completions, seen, timeout)
        });
        if let Err(interrupted) = slept {
            if futures.clone().any(|future| future.done()) {
                return Ok(true);
            }
            return Err(interrupted.into());
        }
    }
}

/// What the workers and the submitters of one executor share.
pub struct Shared {
    /// Newest first; each entry is a `FutureRef` turned into a raw
    /// pointer, owned by the queue.
    incoming: Padded<AtomicPtr<Future>>,
    /// Oldest first: what a worker moved out of `incoming`, under this lock.
    taken: Padded<Mutex<Taken>>,
    /// Permits of workers without work (spinning or asleep), taken by
    /// submits (see `claim_idle`).
    idle: Padded<AtomicU32>,
    /// Workers that are about to sleep or sleep on `wake`.
    sleepers: Padded<AtomicU32>,
    /// An idle worker spins, looking for work (see `wait_for_work`).
    searching: Padded<AtomicBool>,
    /// Bumped to wake sleeping workers.
    wake: AtomicU32,
    /// Workers running (started since the last fork, less those a task
    /// ended with `pthread_exit`).
    started: AtomicUsize,
    /// The next worker name's index.
    named: AtomicUsize,
    max_workers: usize,
    shutdown: AtomicBool,
    /// Where its futures' slots come from.
    arena: Padded<Mutex<blocks::Arena>>,
    /// Its serial number, which its futures carry.
    id: u32,
    /// The worker threads, and resets after a fork.
    control: Mutex<Control>,
    /// `FORKS` when the executor was made or last reset.
    forks: AtomicU32,
    prefix: String,
}

/// A field alone on its cache lines (two: AMD and Intel fetch lines in
/// pairs), so that the submitter's and the workers' writes to different
/// fields do not contend for one line.
#[repr(align(128))]
struct Padded<T>(T);

impl<T> std::ops::Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> std::ops::DerefMut for Padded<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

struct Taken {
    head: *mut Future,
}

// SAFETY: the list's entries are owned `FutureRef`s (Send + Sync) that
// only the holder of the lock touches.
unsafe impl Send for Taken {}

struct Control {
    workers: Vec<Handle>,
}

impl Shared {
    /// Puts `future` (one reference, now the queue's) on the stack.
    fn push(&self, future: FutureRef) {
        let node = future.into_raw();
        let mut head = self.incoming.load(Ordering::Relaxed);
        loop {
            // SAFETY: `node` is ours until the CAS publishes it.
            unsafe { (*node).next.store(head, Ordering::Relaxed) };
            // SeqCst against the `sleepers` increment of a worker about to
            // sleep: either it sees this future or this submit sees it.
            match self.incoming.compare_exchange_weak(
                head,
                node,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(now) => head = now,
            }
        }
    }

    /// The oldest queued future, if any, and whether more are queued
    /// (workers and shutdown only).
    fn pop(&self) -> Option<(FutureRef, bool)> {
        let mut taken = self.taken.lock();
        if taken.head.is_null() {
            let mut stack = self.incoming.swap(ptr::null_mut(), Ordering::Acquire);
            let mut fifo = ptr::null_mut();
            while !stack.is_null() {
                // SAFETY: the swap made these nodes ours alone; each is a
                // live future the queue holds a reference to.
                let next = unsafe { (*stack).next.load(Ordering::Relaxed) };
                // SAFETY: as above.
                unsafe { (*stack).next.store(fifo, Ordering::Relaxed) };
                fifo = stack;
                stack = next;
            }
            taken.head = fifo;
        }
        let node = taken.head;
        if node.is_null() {
            return None;
        }
        // SAFETY: a node of the list, owned by it, under its lock.
        taken.head = unsafe { (*node).next.load(Ordering::Relaxed) };
        let more = !taken.head.is_null() || !self.incoming.load(Ordering::Relaxed).is_null();
        drop(taken);
        // SAFETY: the queue's reference, made by `into_raw` in `push`,
        // handed over once.
        Some((unsafe { FutureRef::from_raw(node) }, more))
    }

    /// Nothing queued, judged under the workers' lock so that a batch in
    /// transit between the stack and the list is not missed.
    fn is_empty(&self) -> bool {
        let taken = self.taken.lock();
        taken.head.is_null() && self.incoming.load(Ordering::SeqCst).is_null()
    }

    /// Takes one idle worker's permit (Python's `_idle_semaphore`): true
    /// when one was there. A submit that takes one wakes that worker rather
    /// than starting another; a worker that finds work on its own takes one
    /// back.
    fn claim_idle(&self) -> bool {
        self.idle
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Wakes one sleeping worker, if any sleeps.
    fn wake_one(&self) -> bool {
        if self.sleepers.load(Ordering::SeqCst) == 0 {
            return false;
        }
        self.wake.fetch_add(1, Ordering::SeqCst);
        os::futex_wake(&self.wake, 1);
        true
    }

    fn wake_all(&self) {
        self.wake.fetch_add(1, Ordering::SeqCst);
        os::futex_wake(&self.wake, i32::MAX);
    }

    /// A worker's next work: the next queued future, waiting for more
    /// when there is none; None once the executor is shut down and its
    /// queue is empty.
    fn next_work(&self) -> Option<FutureRef> {
        let mut idle = false;
        loop {
            if let Some((future, more)) = self.pop() {
                if more {
                    // Work is left behind this one: let a sleeper help, if
                    // no idle worker is already looking.
                    self.wake_unless_searching();
                }
                return Some(future);
            }
            if self.shutdown.load(Ordering::SeqCst) {
                return None;
            }
            if !idle {
                // Idle from here until work comes: one permit, which the
                // next submit takes rather than starting another worker.
                // The worker never takes it back, as in CPython, whose
                // workers release `_idle_semaphore` and only submits
                // acquire it: every push is followed by its submit's
                // claim, so a worker that finds work on its own leaves
                // its permit to the submit of that work. (Taking it back
                // raced that submit: a searching worker could see the
                // push first, and the submit then started one worker
                // more.)
                self.idle.fetch_add(1, Ordering::SeqCst);
                idle = true;
            }
            self.wait_for_work();
        }
    }

    /// A worker that a task ended with `pthread_exit` (on that worker, during
    /// the forced unwind): it leaves the list and the count, so that later
    /// work starts a new worker, and its record goes when its thread ends.
    fn worker_exited(&self, worker: Handle) {
        let mut control = self.control.lock();
        if let Some(at) = control.workers.iter().position(|&w| w == worker) {
            control.workers.swap_remove(at);
            let started = self.started.load(Ordering::Relaxed);
            self.started
                .store(started.saturating_sub(1), Ordering::Relaxed);
        }
    }

    /// An idle worker's wait. One idle worker at a time searches: it spins
    /// for up to `SEARCH` while submits wake nobody, so a stream of work
    /// arriving a little slower than the workers run it costs no system
    /// call. The others, and the searcher once its time is up, sleep on
    /// `wake`.
    fn wait_for_work(&self) {
        if self
            .searching
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
        {
            let found = spin_until(SEARCH, || {
                !self.incoming.load(Ordering::Relaxed).is_null()
                    || self.shutdown.load(Ordering::Relaxed)
            });
            if !found {
                // Counted as a sleeper before it stops searching: a submit
                // that sees no searcher then sees this sleeper.
                self.sleepers.fetch_add(1, Ordering::SeqCst);
                self.searching.store(false, Ordering::SeqCst);
                self.sleep();
                return;
            }
            self.searching.store(false, Ordering::SeqCst);
            return;
        }
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        self.sleep();
    }

    /// Sleeps on `wake` unless work or the shutdown is there; the caller
    /// counted itself in `sleepers` first (SeqCst against the push's CAS:
    /// either this sees the work or its submit sees this sleeper).
    fn sleep(&self) {
        let seen = self.wake.load(Ordering::SeqCst);
        if self.is_empty() && !self.shutdown.load(Ordering::SeqCst) {
            os::futex_wait(&self.wake, seen, None);
        }
        self.sleepers.fetch_sub(1, Ordering::SeqCst);
    }

    /// Wakes a sleeping worker unless an idle one searches already.
    fn wake_unless_searching(&self) {
        if !self.searching.load(Ordering::SeqCst) {
            self.wake_one();
        }
    }

    /// In a forked child, the first use of an executor made before the
    /// fork: forget the workers and the queue (their threads are gone; what
    /// the queue holds reports cancelled and is leaked).
    fn after_fork(&self) {
        let now = forks();
        if self.forks.load(Ordering::Acquire) == now {
            return;
        }
        // `lock` takes over a lock that a vanished thread held.
        let mut control = self.control.lock();
        if self.forks.load(Ordering::Acquire) == now {
            return;
        }
        // Their contents may be half-written by a thread that is not here:
        // never read, only forgotten.
        std::mem::forget(std::mem::take(&mut control.workers));
        let mut taken = self.taken.lock();
        taken.head = ptr::null_mut();
        drop(taken);
        self.arena.lock().forget();
        self.incoming.store(ptr::null_mut(), Ordering::Relaxed);
        self.idle.store(0, Ordering::Relaxed);
        self.sleepers.store(0, Ordering::Relaxed);
        self.searching.store(false, Ordering::Relaxed);
        self.started.store(0, Ordering::Relaxed);
        self.named.store(0, Ordering::Relaxed);
        self.forks.store(now, Ordering::Release);
    }

    /// After a push: wakes a sleeping worker; with none idle, starts one
    /// more if fewer than `max_workers` were started (Python's rule: idle
    /// workers first). Err only when no worker could be started and none
    /// runs.
    fn adjust_workers(self: &Arc<Self>) -> Result<()> {
        let claimed = self.claim_idle();
        // A searching worker will see the push; otherwise a sleeper is
        // woken, whether or not a permit was left (one may have been taken
        // back by another worker).
        self.wake_unless_searching();
        if claimed || self.started.load(Ordering::Relaxed) >= self.max_workers {
            return Ok(());
        }
        let mut control = self.control.lock();
        let index = self.started.load(Ordering::Relaxed);
        if index >= self.max_workers {
            return Ok(());
        }
        match self.start_worker() {
            Ok(handle) => {
                control.workers.push(handle);
                self.started.store(index + 1, Ordering::Relaxed);
                Ok(())
            }
            Err(err) if control.workers.is_empty() => Err(err),
            // Another worker runs and will take the work.
            Err(_) => Ok(()),
        }
    }

    fn start_worker(self: &Arc<Self>) -> Result<Handle> {
        let index = self.named.fetch_add(1, Ordering::Relaxed);
        let name = CString::new(format!("{}_{index}", self.prefix))
            .map_err(|_| Error::invalid("name_prefix has a NUL byte"))?;
        let arg = Arc::into_raw(Arc::clone(self)).cast_mut().cast::<c_void>();
        let started = threads::create(worker_main, arg, Some(&name)).and_then(|handle| {
            let started = threads::set_daemon(handle, true).and_then(|()| threads::start(handle));
            if started.is_err() {
                let _ = threads::release(handle);
            }
            started.map(|()| handle)
        });
        if started.is_err() {
            // SAFETY: the reference made above, which no thread received.
            drop(unsafe { Arc::from_raw(arg.cast_const().cast::<Shared>()) });
        }
        started
    }

    /// Shuts down: no new work; with `cancel_futures` the queued work is
    /// cancelled; with `wait`, returns once every worker has ended (the
    /// caller's own thread excepted, when it is one of them), or
    /// `Interrupted` when the caller is interruptible and a signal handler
    /// ran while it waited (the shutdown is done; a second call waits again).
    fn shutdown(&self, wait: bool, cancel_futures: bool) -> std::result::Result<(), Interrupted> {
        self.after_fork();
        self.shutdown.store(true, Ordering::SeqCst);
        if cancel_futures {
            while let Some((future, _)) = self.pop() {
                future.cancel();
            }
        }
        self.wake_all();
        if !wait {
            return Ok(());
        }
        self.for_each_worker(|worker| match threads::join(worker, None) {
            Err(err) if err.kind == Kind::Interrupted => Err(Interrupted),
            // A join that fails otherwise (a cycle of joins, a released
            // record) has nothing left to wait for that this one could.
            _ => Ok(()),
        })
    }

    /// Calls `wait` once for each worker, the caller excepted, until no
    /// worker is left that it has not been called for: a task that ends its
    /// worker with pthread_exit has another started in its place
    /// (`TaskExit`) for the work queued behind it. Stops at `wait`'s first
    /// error.
    fn for_each_worker<E>(
        &self,
        mut wait: impl FnMut(Handle) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let me = current::handle_if_known();
        let mut done = Vec::new();
        loop {
            let mut workers = self.control.lock().workers.clone();
            workers.retain(|&worker| worker != me && !done.contains(&worker));
            if workers.is_empty() {
                return Ok(());
            }
            for worker in workers {
                done.push(worker);
                wait(worker)?;
            }
        }
    }

    /// The exit's wait for the workers of an executor already shut down:
    /// as `shutdown`'s, but it gives up once the exit waits are abandoned
    /// (`hilo_abandon_exit_wait`), and no signal ends it.
    fn wait_for_workers_at_exit(&self) {
        let me = current::handle_if_known();
        let _ = self.for_each_worker(|worker| -> std::result::Result<(), ()> {
            // A join's cycle check: a worker whose task joins this thread
            // is not waited for, as `shutdown`'s join would refuse too.
            if let Ok(_edge) = joins::begin(me, worker) {
                registry::registry().wait_for_end(worker, |_| false);
            }
            Ok(())
        });
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last reference: no worker runs, the queue is empty unless a
        // fork abandoned it.
        for worker in std::mem::take(&mut self.control.get_mut().workers) {
            let _ = threads::release(worker);
        }
    }
}

/// A worker's life: run queued work, wait for more when there is none, end
/// once the executor is shut down and its queue is empty. hilo's own steps
/// are each inside catch_unwind; the task's call is not (see `Future::run`).
extern "C-unwind" fn worker_main(arg: *mut c_void) -> *mut c_void {
    // SAFETY: the reference that `start_worker` made for this thread.
    let shared = unsafe { Arc::from_raw(arg.cast_const().cast::<Shared>()) };
    let worker = current::handle_if_registered();
    let runner = (registry::index_of(worker) + 1) << RUNNER_SHIFT;
    while let Ok(Some(future)) = catch_unwind(AssertUnwindSafe(|| shared.next_work())) {
        future.run(&shared, worker, runner);
    }
    ptr::null_mut()
}

/// Armed while a worker calls a task: dropped only when the call unwinds,
/// which for a C function is `pthread_exit` (or a cancellation). hilo treats
/// `pthread_exit(v)` in a thread target as a normal end with `v` (threads.rs),
/// and so a task's: its future finishes with `v`. Only `pthread_join` knows
/// `v`, so a thread of its own (`reaper_main`) joins the ending worker and
/// finishes the future. The worker leaves its executor at once.
struct TaskExit<'a> {
    future: &'a FutureRef,
    shared: &'a Arc<Shared>,
    worker: Handle,
}

impl Drop for TaskExit<'_> {
    fn drop(&mut self) {
        // Runs during the forced unwind: must not unwind itself.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let future = self.future.clone();
            self.shared.worker_exited(self.worker);
            if let Err(future) = start_reaper(future, &self.shared.prefix, self.worker) {
                // No thread can start (out of threads, or past the exit's
                // last wait): the value cannot be had; the future still
                // ends, with NULL, so that nothing waits for it forever.
                // SAFETY: this thread won the claim; nothing else touches
                // `value` before the swap publishes it.
                unsafe { *future.value.get() = ptr::null_mut() };
                future.finish();
                let _ = threads::release(self.worker);
            }
            // The executor may be starved now: work queued behind this
            // task needs a worker.
            if !self.shared.is_empty() {
                let _ = self.shared.adjust_workers();
            }
        }));
    }
}

/// What a reaper is given: the future, and the worker to join.
struct Reap {
    future: FutureRef,
    worker: Handle,
}

/// Starts the thread that joins `worker` and finishes `future` with the
/// value it exited with; the future back when it cannot start.
fn start_reaper(
    future: FutureRef,
    prefix: &str,
    worker: Handle,
) -> std::result::Result<(), FutureRef> {
    let name = CString::new(format!("{prefix}_reaper")).ok();
    let arg = Box::into_raw(Box::new(Reap { future, worker })).cast::<c_void>();
    let started = threads::create(reaper_main, arg, name.as_deref()).and_then(|handle| {
        let started = threads::set_daemon(handle, true).and_then(|()| threads::start(handle));
        // Its record goes when it ends (nobody joins it), or now.
        let _ = threads::release(handle);
        started
    });
    match started {
        Ok(()) => Ok(()),
        // SAFETY: the box made above, which no thread received.
        Err(_) => Err(unsafe { Box::from_raw(arg.cast::<Reap>()) }.future),
    }
}

extern "C-unwind" fn reaper_main(arg: *mut c_void) -> *mut c_void {
    // SAFETY: the box that `start_reaper` made for this thread.
    let reap = unsafe { Box::from_raw(arg.cast::<Reap>()) };
    let _ = catch_unwind(AssertUnwindSafe(|| {
        let value = threads::join(reap.worker, None).unwrap_or(ptr::null_mut());
        let _ = threads::release(reap.worker);
        // SAFETY: the worker that won the claim has ended; this thread is
        // the only one to touch `value` before the swap publishes it.
        unsafe { *reap.future.value.get() = value };
        reap.future.finish();
    }));
    ptr::null_mut()
}

/// Every executor not yet dropped, for the exit wait.
fn executors() -> &'static Mutex<Vec<Weak<Shared>>> {
    static ALL: OnceLock<Mutex<Vec<Weak<Shared>>>> = OnceLock::new();
    ALL.get_or_init(|| Mutex::new(Vec::new()))
}

/// An executor as its owner holds it.
pub struct Executor {
    shared: Arc<Shared>,
}

impl Executor {
    /// `max_workers` 0: Python's default, min(32, CPUs + 4). `prefix` None
    /// or empty: "ThreadPoolExecutor-N".
    pub fn new(max_workers: usize, prefix: Option<&CStr>) -> Result<Executor> {
        current::init();
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        static SERIAL: AtomicU32 = AtomicU32::new(0);
        let prefix = match prefix {
            Some(prefix) if !prefix.is_empty() => prefix.to_string_lossy().into_owned(),
            _ => format!(
                "ThreadPoolExecutor-{}",
                COUNTER.fetch_add(1, Ordering::Relaxed)
            ),
        };
        let max_workers = match max_workers {
            0 => (std::thread::available_parallelism().map_or(1, |n| n.get()) + 4).min(32),
            n => n,
        };
        let shared = Arc::new(Shared {
            incoming: Padded(AtomicPtr::new(ptr::null_mut())),
            taken: Padded(Mutex::new(Taken {
                head: ptr::null_mut(),
            })),
            idle: Padded(AtomicU32::new(0)),
            sleepers: Padded(AtomicU32::new(0)),
            searching: Padded(AtomicBool::new(false)),
            wake: AtomicU32::new(0),
            started: AtomicUsize::new(0),
            named: AtomicUsize::new(0),
            max_workers,
            shutdown: AtomicBool::new(false),
            arena: Padded(Mutex::new(blocks::Arena::new())),
            id: SERIAL.fetch_add(1, Ordering::Relaxed),
            control: Mutex::new(Control {
                workers: Vec::new(),
            }),
            forks: AtomicU32::new(forks()),
            prefix,
        });
        let mut all = executors().lock();
        all.retain(|executor| executor.strong_count() > 0);
        all.push(Arc::downgrade(&shared));
        Ok(Executor { shared })
    }

    /// Queues `function(arg)`.
    pub fn submit(&self, function: Target, arg: *mut c_void) -> Result<FutureRef> {
        let shared = &self.shared;
        shared.after_fork();
        if EXITING.load(Ordering::Relaxed) {
            return Err(Error::state(
                "cannot schedule new futures after interpreter shutdown",
            ));
        }
        if shared.shutdown.load(Ordering::Relaxed) {
            return Err(Error::state("cannot schedule new futures after shutdown"));
        }
        let slot = shared
            .arena
            .lock()
            .take()
            .ok_or_else(|| Error::new(Kind::Again, "out of memory for a new future"))?
            .cast::<Future>();
        // SAFETY: a free slot, ours alone, of a future's size and alignment
        // (checked at compile time).
        unsafe {
            slot.as_ptr().write(Future {
                state: AtomicU32::new(PENDING),
                // The caller's and the queue's.
                refs: AtomicU32::new(2),
                forks: shared.forks.load(Ordering::Relaxed),
                executor: shared.id,
                next: AtomicPtr::new(ptr::null_mut()),
                function,
                value: UnsafeCell::new(arg),
                callbacks: AtomicPtr::new(ptr::null_mut()),
            })
        };
        let future = FutureRef(slot);
        // SAFETY: the second of the two references counted above.
        shared.push(unsafe { FutureRef::from_raw(slot.as_ptr()) });
        #[cfg(test)]
        if tests::SLOW_CLAIM.load(Ordering::Relaxed) == shared.id {
            // A submitter preempted between its push and its claim.
            std::thread::sleep(Duration::from_micros(200));
        }
        if let Err(err) = shared.adjust_workers() {
            // No worker runs: the future stays queued, cancelled, until a
            // later worker or the executor's end drops it.
            future.cancel();
            return Err(err);
        }
        Ok(future)
    }

    /// `shutdown(wait, cancel_futures)`; a second call is fine, as in
    /// Python (and waits again when asked to). `Kind::Interrupted` when
    /// the caller is interruptible and a signal handler ran while it waited
    /// for the workers: the executor is shut down all the same.
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) -> Result<()> {
        Ok(self.shared.shutdown(wait, cancel_futures)?)
    }

    /// Workers started so far (since the last fork).
    #[cfg(test)]
    pub fn workers(&self) -> usize {
        self.shared.started.load(Ordering::Relaxed)
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Not interruptible: the queued work must run before the queue is
        // dropped below.
        let _ = interrupt::uninterrupted(|| self.shared.shutdown(true, false));
        // Every worker has ended, unless this is one: then the queue is
        // empty but for a future cancelled when no worker could start.
        let me = current::handle_if_known();
        if !self.shared.control.lock().workers.contains(&me) {
            while self.shared.pop().is_some() {}
        }
    }
}

/// The process's exit wait is beginning (src/exit.rs): refuse new work, and
/// let every executor finish what it was given, as CPython's exit does
/// (every executor is shut down, then their workers are waited for), unless
/// the exit waits are abandoned (`hilo_abandon_exit_wait`): then it does not
/// wait, or stops waiting.
pub fn at_exit() {
    EXITING.store(true, Ordering::SeqCst);
    let all: Vec<Arc<Shared>> = executors()
        .lock()
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    for executor in &all {
        let _ = executor.shutdown(false, false);
    }
    for executor in &all {
        executor.wait_for_workers_at_exit();
    }
}

/// In a forked child, first thing: executors and futures made before now
/// belong to the parent's threads.
pub fn after_fork_in_child() {
    FORKS.fetch_add(1, Ordering::Relaxed);
    EXITING.store(false, Ordering::Relaxed);
}

/// The executor list's lock, which fork handling holds across `fork()`. A
/// leaf: nothing else is locked while it is held.
pub fn fork_lock() -> &'static dyn ForkLock {
    executors()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU64};

    static RAN: AtomicU64 = AtomicU64::new(0);

    unsafe extern "C-unwind" fn count(arg: *mut c_void) -> *mut c_void {
        RAN.fetch_add(1, Ordering::SeqCst);
        arg
    }

    unsafe extern "C-unwind" fn sleepy(arg: *mut c_void) -> *mut c_void {
        std::thread::sleep(Duration::from_millis(50));
        arg
    }

    #[test]
    fn results_come_back_and_workers_stay_within_the_limit() {
        let executor = Executor::new(2, Some(c"unit")).unwrap();
        let futures: Vec<_> = (1..=200usize)
            .map(|i| executor.submit(count, i as *mut c_void).unwrap())
            .collect();
        for (i, future) in futures.iter().enumerate() {
            assert_eq!(future.result(None).unwrap() as usize, i + 1);
            assert_eq!(future.phase(), Phase::Finished);
        }
        assert!(executor.workers() <= 2);
        executor.shutdown(true, false).unwrap();
        assert!(executor.submit(count, ptr::null_mut()).is_err());
    }

    #[test]
    fn callbacks_added_while_work_ends_run_once_each_in_order() {
        // add_done_callback races the worker's end: each callback runs
        // exactly once, in the order added, whether the end took it from
        // the list or its caller ran it at once.
        let executor = Executor::new(2, Some(c"callbacks")).unwrap();
        let futures: Vec<FutureRef> = (0..2000)
            .map(|_| executor.submit(count, ptr::null_mut()).unwrap())
            .collect();
        let seen: Arc<Vec<std::sync::Mutex<Vec<usize>>>> =
            Arc::new((0..futures.len()).map(|_| Default::default()).collect());
        let order: Vec<std::sync::Mutex<()>> =
            (0..futures.len()).map(|_| Default::default()).collect();
        std::thread::scope(|scope| {
            for _ in 0..2 {
                let (futures, seen, order) = (&futures, &seen, &order);
                scope.spawn(move || {
                    for (i, future) in futures.iter().enumerate() {
                        // Both threads add their three under one lock per
                        // future, so "in order added" is well defined.
                        let _order = order[i].lock().unwrap();
                        for _ in 0..3 {
                            let ticket = SEQ.fetch_add(1, Ordering::SeqCst) as usize;
                            let seen = Arc::clone(seen);
                            future.add_done_callback(Box::new(move |_| {
                                seen[i].lock().unwrap().push(ticket);
                            }));
                        }
                    }
                });
            }
        });
        for future in &futures {
            future.result(None).unwrap();
        }
        executor.shutdown(true, false).unwrap();
        for list in seen.iter() {
            let list = list.lock().unwrap();
            assert_eq!(list.len(), 6, "{list:?}");
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
    }

    static GATE: AtomicBool = AtomicBool::new(false);

    unsafe extern "C-unwind" fn gated(arg: *mut c_void) -> *mut c_void {
        while !GATE.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        arg
    }

    /// A callback added once the future has finished, while the worker
    /// still runs an earlier one, runs after it (on the worker), not at once
    /// in its caller: "in the order added". Before, the end's swap of the
    /// state word cleared the callbacks flag and the caller ran it at once,
    /// during the earlier one.
    #[test]
    fn a_callback_added_while_an_earlier_one_runs_waits_for_it() {
        let executor = Executor::new(1, Some(c"ordered")).unwrap();
        let future = executor.submit(gated, ptr::null_mut()).unwrap();
        let log = Arc::new(std::sync::Mutex::new(Vec::new()));
        let first_began = Arc::new(AtomicBool::new(false));
        {
            let (log, began) = (Arc::clone(&log), Arc::clone(&first_began));
            future.add_done_callback(Box::new(move |_| {
                began.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(100));
                log.lock().unwrap().push("first");
            }));
        }
        GATE.store(true, Ordering::SeqCst);
        while !first_began.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let caller = std::thread::current().id();
        let ran_in_caller = Arc::new(AtomicBool::new(false));
        {
            let (log, ran_in_caller) = (Arc::clone(&log), Arc::clone(&ran_in_caller));
            future.add_done_callback(Box::new(move |_| {
                ran_in_caller.store(std::thread::current().id() == caller, Ordering::SeqCst);
                log.lock().unwrap().push("second");
            }));
        }
        executor.shutdown(true, false).unwrap();
        while log.lock().unwrap().len() < 2 {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(*log.lock().unwrap(), ["first", "second"]);
        assert!(!ran_in_caller.load(Ordering::SeqCst));
    }

    static SEQ: AtomicU64 = AtomicU64::new(0);

    unsafe extern "C-unwind" fn brief(arg: *mut c_void) -> *mut c_void {
        std::thread::sleep(Duration::from_millis(1));
        arg
    }

    /// The executor whose submits pause between push and claim (one
    /// test's).
    pub static SLOW_CLAIM: AtomicU32 = AtomicU32::new(u32::MAX);

    #[test]
    fn futures_outlive_their_executor_across_blocks() {
        // More than two blocks' worth, the executor dropped first (its
        // arena gives back the slots it never handed out), the futures
        // read and freed afterwards from another thread.
        let executor = Executor::new(2, Some(c"outlived")).unwrap();
        let futures: Vec<FutureRef> = (1..=2500usize)
            .map(|i| executor.submit(count, i as *mut c_void).unwrap())
            .collect();
        drop(executor);
        std::thread::spawn(move || {
            for (i, future) in futures.into_iter().enumerate() {
                assert_eq!(future.result(None).unwrap() as usize, i + 1);
                assert_eq!(future.prefix(), None, "its executor is gone");
            }
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_future_is_one_cache_line_and_its_slot_comes_back() {
        // What every submit takes: one 64-byte slot (docs/executor.md
        // quotes it), aligned so that no two futures share a line.
        assert_eq!(std::mem::size_of::<Future>(), 64);
        assert_eq!(std::mem::align_of::<Future>(), 64);
        let executor = Executor::new(1, Some(c"slots")).unwrap();
        let first = executor.submit(count, ptr::null_mut()).unwrap();
        let second = executor.submit(count, ptr::null_mut()).unwrap();
        assert_eq!(second.as_ptr() as usize - first.as_ptr() as usize, 64);
        second.result(None).unwrap();
        first.result(None).unwrap();
        // Once the worker is done with them, the caller's are the last.
        while first.refs.load(Ordering::Acquire) != 1 || second.refs.load(Ordering::Acquire) != 1 {
            std::thread::yield_now();
        }
        let cloned = first.clone();
        assert_eq!(first.refs.load(Ordering::Relaxed), 2);
        drop(cloned);
        assert_eq!(first.refs.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn an_idle_worker_is_used_before_a_new_one_starts() {
        let executor = Executor::new(4, Some(c"idle")).unwrap();
        // Every submit pauses between its push and its claim, so that the
        // searching worker sees the push first.
        SLOW_CLAIM.store(executor.shared.id, Ordering::Relaxed);
        for round in 0..50 {
            // Long enough for the submit's claim to come while it runs.
            let future = executor.submit(brief, ptr::null_mut()).unwrap();
            future.result(None).unwrap();
            // Until the worker is idle: then it searches (spins on the
            // queue) for 20 us, and the next push races the submit's
            // claim of its permit. A worker that took its permit back on
            // finding the push itself made the submit start a second one
            // (within max_workers).
            while executor.shared.idle.load(Ordering::SeqCst) == 0 {
                std::hint::spin_loop();
            }
            assert_eq!(executor.workers(), 1, "round {round}");
        }
        SLOW_CLAIM.store(u32::MAX, Ordering::Relaxed);
    }

    #[test]
    fn a_queued_future_cancels_and_a_running_one_does_not() {
        let executor = Executor::new(1, None).unwrap();
        let first = executor.submit(sleepy, ptr::null_mut()).unwrap();
        while first.phase() == Phase::Pending {
            std::thread::yield_now();
        }
        let second = executor.submit(count, ptr::null_mut()).unwrap();
        assert!(!first.cancel());
        assert!(second.cancel());
        assert!(second.cancel());
        assert_eq!(second.result(None).unwrap_err().kind, Kind::Canceled);
        assert!(first.result(None).is_ok());
        let deadline = Some(Instant::now());
        assert!(wait_many([&*first, &*second].into_iter(), false, deadline).unwrap());
    }
}
