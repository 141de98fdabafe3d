//! The registry of thread records.
//!
//! Records live in slots that are allocated in chunks and never freed, so a
//! pointer to a slot is valid for the life of the process. A slot is reused
//! for a new record only after its generation is bumped, and a handle is the
//! slot index plus the generation, so a handle is never issued twice: a stale
//! or random handle finds a different generation (or no slot) and is answered
//! with `HILO_ESRCH`. A slot whose generation would wrap is retired for good.
//!
//! The state, the flags and the generation share one atomic word, so the hot
//! questions (`is_alive`, `is_daemon`) are a single lock-free load that cannot
//! mix two records. Every change of that word happens under the slot's mutex.
//!
//! The registry also owns what is asked of all records at once: the scans
//! (alive threads, running non-daemon threads), the wait for a record to stop
//! running, and what a forked child does to the records of threads it does
//! not have.

use std::ffi::{c_void, CStr};
use std::ptr;
use std::sync::atomic::{
    AtomicBool, AtomicI64, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};
use std::sync::Arc;
use std::time::Instant;

use crate::futex::{Condvar, ForkLock, Mutex, MutexGuard};
use crate::interrupt::Interrupted;
use crate::{interrupt, os};

use crate::error::{Error, Kind, Result};

/// A thread handle as C sees it (`hilo_thread_t`): `gen << INDEX_BITS | index`.
pub type Handle = u64;

/// The C target signature; `C-unwind` so that `pthread_exit` may unwind.
pub type Target = unsafe extern "C-unwind" fn(*mut c_void) -> *mut c_void;

const INDEX_BITS: u32 = 24;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
const GEN_BITS: u32 = 64 - INDEX_BITS;
const MAX_GEN: u64 = (1 << GEN_BITS) - 1;
const CHUNK_BITS: u32 = 10;
const CHUNK_LEN: usize = 1 << CHUNK_BITS;
const MAX_CHUNKS: usize = 1 << (INDEX_BITS - CHUNK_BITS);

// The layout of `Slot::word`: generation above, state and flags below.
const GEN_SHIFT: u32 = 8;
pub(crate) const STATE_MASK: u64 = 0b111;
pub(crate) const FREE: u64 = 0;
pub(crate) const UNSTARTED: u64 = 1;
pub(crate) const RUNNING: u64 = 2;
pub(crate) const FINISHED: u64 = 3;
pub(crate) const RETIRED: u64 = 4;
pub(crate) const DAEMON: u64 = 1 << 3;
pub(crate) const RELEASED: u64 = 1 << 4;
pub(crate) const DUMMY: u64 = 1 << 5;
pub(crate) const MAIN: u64 = 1 << 6;

// `Slot::exit_mark`: where the record's thread is in the process's exit.
/// Not in an exit wait.
pub(crate) const NOT_LEAVING: u64 = 0;
/// Waiting in `hilo_shutdown()`; it goes on running afterwards.
pub(crate) const IN_SHUTDOWN: u64 = 1;
/// The thread called `exit()`, or it is the main thread and the process has
/// begun to exit. It will never finish, so joins of it return as if it had.
pub(crate) const EXITING: u64 = 2;

/// A snapshot of a slot's word.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Word(pub u64);

impl Word {
    pub fn generation(self) -> u64 {
        self.0 >> GEN_SHIFT
    }
    pub fn state(self) -> u64 {
        self.0 & STATE_MASK
    }
    pub fn has(self, flag: u64) -> bool {
        self.0 & flag != 0
    }
    /// True when this word describes the record that `handle` named, even
    /// if the handle has been released since.
    pub fn names(self, handle: Handle) -> bool {
        self.generation() == handle >> INDEX_BITS && !matches!(self.state(), FREE | RETIRED)
    }
    /// True when `handle` is a valid handle of this record: issued and not
    /// released.
    pub fn valid_for(self, handle: Handle) -> bool {
        self.names(handle) && !self.has(RELEASED)
    }
    fn with_state(self, state: u64) -> Word {
        Word(self.0 & !STATE_MASK | state)
    }
}

/// How a finished thread's pthread is to be reclaimed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Reap {
    /// Nothing to do: the thread detached itself, or was never started.
    Done,
    /// The thread is joinable and nobody reaps it yet: the target ended with
    /// `pthread_exit`, whose value is known only to `pthread_join`.
    Pending,
    /// A joiner is inside `pthread_join` for it, having found it ended with
    /// `pthread_exit` (no join waits there while a thread runs).
    InProgress,
}

/// The cold fields of a record, behind the slot's mutex.
pub struct Record {
    pub name: Arc<CStr>,
    pub target: Option<Target>,
    pub arg: *mut c_void,
    pub result: *mut c_void,
    pub pthread: libc::pthread_t,
    pub reap: Reap,
    /// `hilo_set_thread_stack_size`'s size for this thread, 0 for the
    /// process-wide setting.
    pub stack_size: usize,
    /// Joiners asleep on the thread's exit word (`Slot::wait_while_running`),
    /// counted from before they unlock the record to sleep until after they
    /// have locked it again. While any is counted the thread's descriptor,
    /// where the word lives, stays allocated (the thread does not detach
    /// itself, a reaping join waits, a release is left to the last of them:
    /// `Slot::leave_exit_word`), and the record stays too.
    pub exit_word_joiners: u16,
    /// The CPU the last of them went to sleep on.
    pub exit_word_joiner_cpu: i32,
    /// The thread returned while joiners were counted on its exit word, so
    /// it did not detach itself: the last of them detaches it.
    pub detach_when_unpinned: bool,
}

impl Record {
    /// Called by the record's own thread as it finishes, under the record's
    /// mutex: whether it must wake the joiners asleep on its exit word now
    /// (`wake_exit_word_joiners`, after unlocking) rather than leave them to
    /// the kernel's wake at its exit. One joiner that sleeps on this CPU is
    /// left to the kernel: woken now, it would preempt this thread, which
    /// must then be switched back in to exit (two context switches where a
    /// `pthread_join` takes one). A joiner on another CPU is woken now: it
    /// goes on while this thread exits.
    pub fn must_wake_exit_word_joiners(&self) -> bool {
        self.exit_word_joiners > 1
            || (self.exit_word_joiners == 1 && self.exit_word_joiner_cpu != os::current_cpu())
    }

    /// Wakes the joiners asleep on the exit word of the calling thread,
    /// whose record this is (the word lives in its descriptor, alive while
    /// it runs).
    pub fn wake_exit_word_joiners(pthread: libc::pthread_t) {
        if let Some(offset) = os::exit_word_offset() {
            os::futex_wake_exit_word(exit_word(pthread, offset), i32::MAX);
        }
    }
}

/// Waits until the thread `pthread` has exited (the kernel cleared its exit
/// word), then wakes every other sleeper of the word; false at `deadline`.
/// For the join that reaps a thread ended with `pthread_exit`, before its
/// `pthread_join`: the kernel's wake at a thread's exit wakes one sleeper of
/// the word, and glibc's `pthread_join` sleeping there would neither pass
/// it on nor be sure to get it (a join asleep on the word since before the
/// thread finished is queued first). True at once without an exit word.
///
/// # Safety
/// The caller reaps `pthread` (`Reap::InProgress`): it is joinable and
/// nobody joined or detached it, so its descriptor is alive.
pub unsafe fn wait_for_exit(pthread: libc::pthread_t, deadline: Option<Instant>) -> bool {
    let Some(offset) = os::exit_word_offset() else {
        return true;
    };
    let word = exit_word(pthread, offset);
    // The TID the word holds, read by glibc (`os::tid_of`: hilo never reads
    // the word itself, see `exit_word_of`); None once the kernel cleared it
    // (or where the TID cannot be had: then no join sleeps on the word).
    while let Some(tid) = os::tid_of(pthread) {
        let Ok(timeout) = crate::futex::time_left(deadline) else {
            return false;
        };
        // A signal handler that ran only ends one sleep: this wait is not
        // interruptible (the thread has finished; only its exit is left).
        os::futex_wait_exit_word(word, tid, timeout);
    }
    os::futex_wake_exit_word(word, i32::MAX);
    true
}

/// The address of the exit word (`os::exit_word_offset`) of `pthread`.
fn exit_word(pthread: libc::pthread_t, offset: usize) -> *const u32 {
    (pthread as *const u8).wrapping_add(offset).cast::<u32>()
}

// SAFETY: `arg` and `result` are opaque values that C hands over to the new
// thread and back to joiners, as pthreads does; hilo never dereferences them.
unsafe impl Send for Record {}

pub struct Slot {
    pub word: AtomicU64,
    /// The kernel thread id once the thread runs; 0 before.
    pub native_id: AtomicI64,
    /// Bumped on every name change, so a thread can tell that the name it
    /// cached for `hilo_current_name` is still current without a lock.
    pub name_version: AtomicU32,
    pub record: Mutex<Record>,
    /// Notified when the record finishes or is freed.
    pub ended: Condvar,
    /// The handle this record's thread is blocked joining, or 0; set only
    /// under the join graph's lock, cleared without it (see joins.rs).
    pub joining: AtomicU64,
    /// `NOT_LEAVING`, `IN_SHUTDOWN` or `EXITING`; changed under the
    /// slot's mutex, with `ended` notified, by `set_exit_mark`.
    pub exit_mark: AtomicU64,
    /// What this record's thread is blocked on in a hilo wait (src/waits.rs).
    pub wait: WaitCell,
    /// The thread's `sync::thread_token` once it has drawn one, else 0: how
    /// a lock's holder (a token) is named in dumps and cycle checks.
    pub token: AtomicU64,
    /// The thread's `os::thread_pointer` while it runs, else 0: how a Lock's
    /// last acquirer is named.
    pub thread_pointer: AtomicUsize,
}

/// One thread's current hilo wait, written only by that thread (src/waits.rs
/// reads it from others, pinning it through `readers`).
#[derive(Default)]
pub struct WaitCell {
    /// `waits::NONE` when not waiting, else the kind of object waited on.
    pub kind: AtomicU32,
    /// The object's address (a join's: the joined handle).
    pub object: AtomicU64,
    /// When the wait began, in nanoseconds of the monotonic clock.
    pub since: AtomicU64,
    /// Bumped by every wait, so a watchdog can tell one stall from the next.
    pub seq: AtomicU64,
    /// Readers that may dereference `object`; a wait ends only once none
    /// remain, so the object outlives every read.
    pub readers: AtomicU32,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            word: AtomicU64::new(FREE),
            native_id: AtomicI64::new(0),
            name_version: AtomicU32::new(0),
            record: Mutex::new(Record {
                name: empty_name(),
                target: None,
                arg: ptr::null_mut(),
                result: ptr::null_mut(),
                pthread: 0,
                reap: Reap::Done,
                stack_size: 0,
                exit_word_joiners: 0,
                exit_word_joiner_cpu: -1,
                detach_when_unpinned: false,
            }),
            ended: Condvar::new(),
            joining: AtomicU64::new(0),
            exit_mark: AtomicU64::new(NOT_LEAVING),
            wait: WaitCell::default(),
            token: AtomicU64::new(0),
            thread_pointer: AtomicUsize::new(0),
        }
    }

    pub fn load(&self) -> Word {
        Word(self.word.load(Ordering::Acquire))
    }

    /// Stores a new word; callers hold the slot's mutex.
    pub fn store(&self, word: Word) {
        self.word.store(word.0, Ordering::Release);
    }

    pub fn set_state(&self, state: u64) {
        self.store(self.load().with_state(state));
    }

    pub fn set_flag(&self, flag: u64, on: bool) {
        let word = self.load().0;
        self.store(Word(if on { word | flag } else { word & !flag }));
    }

    /// Locks the record of the valid `handle`, or fails with `HILO_ESRCH`.
    pub fn lock_for(&self, handle: Handle) -> Result<MutexGuard<'_, Record>> {
        let guard = self.record.lock();
        if self.load().valid_for(handle) {
            Ok(guard)
        } else {
            Err(Error::no_such_thread())
        }
    }

    /// Replaces the name; callers hold the slot's mutex.
    pub fn rename(&self, record: &mut Record, name: Arc<CStr>) {
        // The new name in place first, the old one dropped after: a fork
        // while this runs leaves the child a record whose name is one or
        // the other, never freed memory. (`record.name = name` drops first:
        // a fork right after that free left the child's record pointing at
        // the freed name, which the child's next rename freed again,
        // corrupting its heap.)
        let old = std::mem::replace(&mut record.name, name);
        // SeqCst: the new thread's check after naming itself (`name_self`)
        // relies on this bump being ordered before the rename's OS write.
        self.name_version.fetch_add(1, Ordering::SeqCst);
        drop(old);
    }

    /// Gives the record the next default name, `prefix-N`; callers hold the
    /// slot's mutex. A freed record keeps its name (`Registry::remove`), so
    /// when nobody else holds that name and it has the new one's length
    /// (Thread-1234 after Thread-1233), the new name is written over its
    /// bytes and nothing is allocated or freed.
    pub fn rename_default(&self, record: &mut Record, prefix: &str) {
        let (buf, len) = default_name_bytes(prefix);
        if let Some(name) = Arc::get_mut(&mut record.name) {
            if name.to_bytes_with_nul().len() == len {
                // SAFETY: `get_mut` proves this the only reference to the
                // name (every reader clones the Arc under the mutex we
                // hold); the bytes written are as many as it has, and they
                // end with the only NUL, so it stays a valid CStr.
                unsafe {
                    ptr::copy_nonoverlapping(buf.as_ptr(), (name as *mut CStr).cast::<u8>(), len)
                };
                // As `rename`.
                self.name_version.fetch_add(1, Ordering::SeqCst);
                return;
            }
        }
        self.rename(record, Arc::from(default_name_cstr(&buf, len)));
    }

    /// True unless the record named by `handle` still runs a thread that
    /// may finish: finished, freed, reverted to unstarted, or exiting (its
    /// thread called `exit()`, or it is the main thread and the process has
    /// begun to exit), so that a join of it returns.
    fn stopped(&self, handle: Handle) -> bool {
        let word = self.load();
        !word.names(handle)
            || word.state() != RUNNING
            || self.exit_mark.load(Ordering::Acquire) >= EXITING
    }

    /// The exit word of the record's running thread, and the TID it holds,
    /// when a join may sleep on it: a thread hilo started (the main thread
    /// and dummies exit without hilo), known to its record, with a libc
    /// whose descriptor has one. The caller holds the record's mutex and
    /// has seen the record running, so the thread has not finished (it
    /// takes this mutex to do so) and its descriptor is alive.
    fn exit_word_of(&self, record: &Record) -> Option<(*const u32, u32)> {
        if record.pthread == 0
            || self.load().has(MAIN | DUMMY)
            || record.exit_word_joiners == u16::MAX
        {
            return None;
        }
        let word = exit_word(record.pthread, os::exit_word_offset()?);
        // The word holds the TID until the thread exits; hilo never reads it
        // itself (only the kernel, in the futex call).
        let tid = os::tid_of(record.pthread)?;
        Some((word, tid))
    }

    /// One sleep of a join on the thread's exit word, which the thread
    /// wakes as it finishes (`Record::must_wake_exit_word_joiners`) or the
    /// kernel wakes as it exits: a join that sleeps on the thread's CPU is
    /// woken as `pthread_join` is, when the thread is gone. Answers as
    /// `Condvar::wait_until`, with the mutex locked again.
    ///
    /// The join is counted in `exit_word_joiners` from before it unlocks
    /// the record until it has locked it again and passed the wake on,
    /// which keeps the thread's descriptor, where the word lives, allocated
    /// that long: the futex calls below never name memory that glibc may
    /// have freed (the kernel would answer EFAULT, valgrind reports the
    /// call, and reused memory would get a stray wake or hold a sleeper).
    fn sleep_on_exit_word(
        &self,
        handle: Handle,
        record: &mut MutexGuard<'_, Record>,
        word: *const u32,
        tid: u32,
        deadline: Option<Instant>,
    ) -> std::result::Result<bool, Interrupted> {
        let Ok(timeout) = crate::futex::time_left(deadline) else {
            return Ok(false);
        };
        record.exit_word_joiners += 1;
        record.exit_word_joiner_cpu = os::current_cpu();
        let interrupted = MutexGuard::unlocked(record, || {
            interrupt::sleep(timeout, |timeout| {
                os::futex_wait_exit_word(word, tid, timeout)
            })
        });
        // Counted, so the record cannot have been freed meanwhile (see
        // `leave_exit_word`); were it, neither its count nor the word would
        // be this join's to touch.
        if !self.load().names(handle) {
            debug_assert!(
                false,
                "a record freed while a join was counted on its exit word"
            );
            interrupted?;
            return Ok(true);
        }
        // The kernel's wake at the thread's exit wakes one sleeper of the
        // word: this one, perhaps, while others sleep there too (joiners
        // that went to sleep after the thread's own wake, or the join that
        // reaps it, in `wait_for_exit`). Passed on to them, while this join
        // still keeps the descriptor.
        if record.exit_word_joiners > 1 || record.reap == Reap::InProgress {
            os::futex_wake_exit_word(word, i32::MAX);
        }
        self.leave_exit_word(handle, record);
        interrupted?;
        Ok(deadline.is_none_or(|deadline| Instant::now() < deadline))
    }

    /// A join counted on the exit word leaves it, under the record's mutex.
    /// The last one to leave does what waited for the descriptor to be free
    /// of joiners: it wakes the join that reaps the thread, or detaches a
    /// thread that returned meanwhile, and completes a release made
    /// meanwhile (then `handle` names no record any more).
    fn leave_exit_word(&self, handle: Handle, record: &mut Record) {
        record.exit_word_joiners -= 1;
        if record.exit_word_joiners > 0 {
            return;
        }
        if record.reap == Reap::InProgress {
            self.ended.notify_all();
            return;
        }
        let word = self.load();
        if !word.names(handle) || word.state() != FINISHED {
            return;
        }
        if record.detach_when_unpinned {
            record.detach_when_unpinned = false;
            // SAFETY: the thread returned without detaching itself, and
            // nobody joins (its value is in the record) or detached it.
            unsafe { os::detach(record.pthread) };
        }
        if word.has(RELEASED) {
            self.free_released(handle, record);
        }
    }

    /// Frees the record `handle` names, of a released thread that has
    /// finished (or never started) and that nobody reaps: its pthread is
    /// detached first when still joinable (it ended with `pthread_exit`).
    /// The caller holds the record's mutex, and no join is counted on the
    /// thread's exit word.
    pub fn free_released(&self, handle: Handle, record: &mut Record) {
        debug_assert!(record.reap != Reap::InProgress && record.exit_word_joiners == 0);
        if record.reap == Reap::Pending {
            record.reap = Reap::Done;
            // SAFETY: the thread ended with pthread_exit and is joinable;
            // nobody reaps it (not InProgress) and nobody detached it.
            unsafe { os::detach(record.pthread) };
        }
        registry().remove(self, record, index_of(handle));
    }

    /// The reaping join (`Reap::InProgress`) of a thread that has exited
    /// waits, before `pthread_join` frees its descriptor, until no join is
    /// counted on its exit word (`leave_exit_word` wakes it): those were
    /// all woken at the exit, by the kernel or by `wait_for_exit`, and
    /// only have to lock the record. False at `deadline`; a signal handler
    /// does not end this wait, which is that short.
    pub fn wait_exit_word_left(
        &self,
        record: &mut MutexGuard<'_, Record>,
        deadline: Option<Instant>,
    ) -> bool {
        while record.exit_word_joiners > 0 {
            if self.ended.wait_until(record, deadline) == Ok(false) {
                return record.exit_word_joiners == 0;
            }
        }
        true
    }

    /// Waits until the record named by `handle` is `stopped`, or until
    /// `deadline` (None: no limit). Returns the guard and whether it
    /// stopped, or `Interrupted` when a signal handler interrupted the wait
    /// of an interruptible thread (src/interrupt.rs) before it stopped.
    pub fn wait_while_running<'a>(
        &'a self,
        handle: Handle,
        mut record: MutexGuard<'a, Record>,
        deadline: Option<Instant>,
    ) -> (
        MutexGuard<'a, Record>,
        std::result::Result<bool, Interrupted>,
    ) {
        loop {
            if self.stopped(handle) {
                return (record, Ok(true));
            }
            let woken = match self.exit_word_of(&record) {
                Some((word, tid)) => {
                    self.sleep_on_exit_word(handle, &mut record, word, tid, deadline)
                }
                None => self.ended.wait_until(&mut record, deadline),
            };
            if woken != Ok(true) {
                let stopped = self.stopped(handle);
                return (record, if stopped { Ok(true) } else { woken });
            }
        }
    }
}

/// The counter behind `Thread-N` and `Dummy-N`: starts at 1 and advances
/// only when a default name is made.
static NAME_COUNTER: AtomicU64 = AtomicU64::new(1);

/// A new default name, `prefix-N`. Built on the stack, so the name costs
/// one allocation (the `Arc`), not a `format!` and a `CString` besides.
pub fn default_name(prefix: &str) -> Arc<CStr> {
    let (buf, len) = default_name_bytes(prefix);
    Arc::from(default_name_cstr(&buf, len))
}

/// The next default name's bytes, `prefix-N` and its NUL, and their length.
/// `prefix` is "Thread" or "Dummy".
fn default_name_bytes(prefix: &str) -> ([u8; 32], usize) {
    debug_assert!(prefix.len() <= 10 && !prefix.as_bytes().contains(&0));
    let mut n = NAME_COUNTER.fetch_add(1, Ordering::Relaxed);
    // The digits of a u64 (at most 20), from the end.
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let mut buf = [0u8; 32];
    let head = prefix.len() + 1;
    buf[..prefix.len()].copy_from_slice(prefix.as_bytes());
    buf[prefix.len()] = b'-';
    let count = digits.len() - at;
    buf[head..head + count].copy_from_slice(&digits[at..]);
    // The NUL is the zero after the digits.
    (buf, head + count + 1)
}

fn default_name_cstr(buf: &[u8; 32], len: usize) -> &CStr {
    // SAFETY: `default_name_bytes` wrote a prefix without NULs, '-' and
    // digits, then left the NUL at `len - 1`: one NUL, at the end.
    unsafe { CStr::from_bytes_with_nul_unchecked(&buf[..len]) }
}

/// A caller's name, copied for a record. Allocation failure is a status
/// (`HILO_EAGAIN`), never an abort: the copy's size is first tried with a
/// fallible allocation, so only a name that fits a moment before and not a
/// moment later (another thread took the memory meanwhile) could still
/// abort in the copy itself.
pub fn copy_name(name: &CStr) -> Result<Arc<CStr>> {
    let bytes = name.to_bytes_with_nul().len();
    let mut probe: Vec<u8> = Vec::new();
    // An Arc's header is two words.
    if probe
        .try_reserve_exact(bytes.saturating_add(2 * size_of::<usize>()))
        .is_err()
    {
        return Err(Error::new(
            Kind::Again,
            format!("out of memory for a name of {} bytes", bytes - 1),
        ));
    }
    drop(probe);
    Ok(Arc::from(name))
}

/// The name of a free slot: one shared empty string, so that freeing a
/// record allocates nothing.
fn empty_name() -> Arc<CStr> {
    static EMPTY: std::sync::OnceLock<Arc<CStr>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Arc::from(c"")).clone()
}

struct Allocator {
    free: Vec<u32>,
    next: u32,
}

pub struct Registry {
    chunks: [AtomicPtr<Slot>; MAX_CHUNKS],
    /// Slots below this index exist (for scans).
    high_water: AtomicU32,
    alloc: Mutex<Allocator>,
    /// Set once the process's last exit wait has found nothing to wait for:
    /// no thread starts after it (see `close`).
    closed: AtomicBool,
    /// Set by `abandon_exit_waits`: the exit waits wait for nothing more.
    exit_waits_abandoned: AtomicBool,
}

#[allow(clippy::declare_interior_mutable_const)]
const NO_CHUNK: AtomicPtr<Slot> = AtomicPtr::new(ptr::null_mut());

static REGISTRY: Registry = Registry {
    chunks: [NO_CHUNK; MAX_CHUNKS],
    high_water: AtomicU32::new(0),
    alloc: Mutex::new(Allocator {
        free: Vec::new(),
        next: 0,
    }),
    closed: AtomicBool::new(false),
    exit_waits_abandoned: AtomicBool::new(false),
};

pub fn registry() -> &'static Registry {
    &REGISTRY
}

pub fn handle_of(index: u32, generation: u64) -> Handle {
    generation << INDEX_BITS | u64::from(index)
}

impl Registry {
    fn slot_at(&self, index: usize) -> Option<&'static Slot> {
        let chunk = self
            .chunks
            .get(index >> CHUNK_BITS)?
            .load(Ordering::Acquire);
        if chunk.is_null() {
            return None;
        }
        // SAFETY: chunks are leaked arrays of CHUNK_LEN slots that are never
        // freed, published with Release after initialisation.
        Some(unsafe { &*chunk.add(index & (CHUNK_LEN - 1)) })
    }

    /// The slot a handle points at, if it exists. The caller still checks
    /// that the slot's word names the handle.
    pub fn slot(&self, handle: Handle) -> Option<&'static Slot> {
        self.slot_at((handle & INDEX_MASK) as usize)
    }

    /// The slot of the record of the valid `handle`, with its word.
    pub fn find(&self, handle: Handle) -> Result<(&'static Slot, Word)> {
        let slot = self.slot(handle).ok_or_else(Error::no_such_thread)?;
        let word = slot.load();
        if word.valid_for(handle) {
            Ok((slot, word))
        } else {
            Err(Error::no_such_thread())
        }
    }

    /// Makes a record in a free slot and returns its handle. `init` fills the
    /// record while the slot's mutex is held; `flags` is state plus flags.
    pub fn insert(&self, flags: u64, init: impl FnOnce(&Slot, &mut Record)) -> Result<Handle> {
        let index = self.take_index()?;
        let slot = self.slot_at(index as usize).expect("allocated slot exists");
        let mut record = slot.record.lock();
        init(slot, &mut record);
        let generation = slot.load().generation() + 1;
        slot.store(Word(generation << GEN_SHIFT | flags));
        Ok(handle_of(index, generation))
    }

    fn take_index(&self) -> Result<u32> {
        let mut alloc = self.alloc.lock();
        if let Some(index) = alloc.free.pop() {
            return Ok(index);
        }
        let index = alloc.next;
        if index as u64 > INDEX_MASK {
            return Err(Error::new(Kind::Again, "too many thread records"));
        }
        let chunk = index as usize >> CHUNK_BITS;
        if self.chunks[chunk].load(Ordering::Acquire).is_null() {
            let slots: Box<[Slot]> = (0..CHUNK_LEN).map(|_| Slot::new()).collect();
            let raw = Box::leak(slots).as_mut_ptr();
            self.chunks[chunk].store(raw, Ordering::Release);
        }
        alloc.next = index + 1;
        self.high_water.store(index + 1, Ordering::Release);
        Ok(index)
    }

    /// Frees the record in `slot`: keeps its name, bumps nothing yet (the next
    /// `insert` does), and wakes anyone waiting on it. The caller holds the
    /// slot's mutex and passes the record.
    pub fn remove(&self, slot: &Slot, record: &mut Record, index: u32) {
        let generation = slot.load().generation();
        // The name stays until the slot is reused (`insert`'s `init`
        // replaces it): a released thread that removes its own record still
        // holds a reference in its thread-local cache until its last key
        // destructors, and an exit that comes in between would otherwise
        // leave that last reference only in a dying thread's TLS (valgrind:
        // "definitely lost"). One name per free slot, no more.
        record.target = None;
        record.arg = ptr::null_mut();
        record.result = ptr::null_mut();
        record.reap = Reap::Done;
        record.pthread = 0;
        record.stack_size = 0;
        record.exit_word_joiners = 0;
        record.detach_when_unpinned = false;
        slot.native_id.store(0, Ordering::Relaxed);
        slot.exit_mark.store(NOT_LEAVING, Ordering::Relaxed);
        slot.token.store(0, Ordering::Relaxed);
        slot.thread_pointer.store(0, Ordering::Relaxed);
        slot.name_version.fetch_add(1, Ordering::Release);
        if generation >= MAX_GEN {
            slot.store(Word(generation << GEN_SHIFT | RETIRED));
        } else {
            slot.store(Word(generation << GEN_SHIFT | FREE));
            self.alloc.lock().free.push(index);
        }
        slot.ended.notify_all();
    }

    /// The allocator's lock, which fork handling holds across `fork()` so
    /// that the child never sees its free list half-updated.
    pub fn allocator_lock(&self) -> &dyn ForkLock {
        &self.alloc
    }

    /// In a forked child, whose one thread is the record `survivor`'s (0
    /// when hilo did not know it): every slot's lock and condition variable
    /// usable again, and the records of threads that do not exist in the
    /// child finished (or freed, for released and dummy ones). Their pthreads
    /// can be neither joined nor detached there; their kernel thread ids
    /// stay readable, as after any end. The child has not begun to exit.
    ///
    /// # Safety
    /// Only in a forked child while it has one thread, with the allocator's
    /// lock reset and no guard of a slot's lock alive.
    pub unsafe fn after_fork_in_child(&self, survivor: Handle) {
        let high = self.high_water.load(Ordering::Acquire) as usize;
        for index in 0..high {
            if let Some(slot) = self.slot_at(index) {
                // SAFETY: as the caller guarantees.
                unsafe {
                    slot.record.reset_in_child();
                    slot.ended.reset_in_child();
                }
                // Joiners of the parent's threads do not exist here.
                slot.record.lock().exit_word_joiners = 0;
                slot.exit_mark.store(NOT_LEAVING, Ordering::Relaxed);
            }
        }
        self.closed.store(false, Ordering::Relaxed);
        self.exit_waits_abandoned.store(false, Ordering::Relaxed);
        self.for_each(|handle, slot, word| {
            if handle == survivor {
                return;
            }
            let mut record = slot.record.lock();
            record.reap = Reap::Done;
            record.detach_when_unpinned = false;
            match word.state() {
                RUNNING if word.has(RELEASED) || word.has(DUMMY) => {
                    self.remove(slot, &mut record, index_of(handle));
                }
                RUNNING => {
                    slot.set_flag(MAIN, false);
                    slot.set_state(FINISHED);
                }
                // Released while a join reaped it or joins were counted on
                // its exit word: those would have freed it.
                FINISHED if word.has(RELEASED) => {
                    self.remove(slot, &mut record, index_of(handle));
                }
                _ => {}
            }
        });
    }

    /// Waits (by yielding, at most until `deadline`) until every started
    /// thread has published its kernel thread id, which is the first thing a
    /// new thread does. Fork handling calls it, so that a thread started just
    /// before a fork, which the child will never see run, still has its id
    /// there, as every other ended thread has.
    pub fn await_native_ids(&self, deadline: Instant) {
        self.for_each(|handle, slot, _| {
            while Instant::now() < deadline {
                let word = slot.load();
                if !word.names(handle)
                    || word.state() != RUNNING
                    || slot.native_id.load(Ordering::Acquire) != 0
                {
                    break;
                }
                std::thread::yield_now();
            }
        });
    }

    /// How many slots exist (an upper bound on the records in use).
    pub fn capacity(&self) -> usize {
        self.high_water.load(Ordering::Acquire) as usize
    }

    /// Calls `visit(handle, slot, word)` for every record in use.
    pub fn for_each(&self, mut visit: impl FnMut(Handle, &'static Slot, Word)) {
        let high = self.high_water.load(Ordering::Acquire) as usize;
        for index in 0..high {
            let Some(slot) = self.slot_at(index) else {
                break;
            };
            let word = slot.load();
            if !matches!(word.state(), FREE | RETIRED) {
                visit(handle_of(index as u32, word.generation()), slot, word);
            }
        }
    }

    /// Handles of the threads alive now (started, not finished, released
    /// or not), including the main thread and registered dummies.
    pub fn alive(&self) -> Vec<Handle> {
        let mut out = Vec::new();
        self.for_each(|handle, _, word| {
            if is_listed_alive(word) {
                out.push(handle);
            }
        });
        out
    }

    /// How many handles `alive` would give.
    pub fn active_count(&self) -> usize {
        let mut count = 0;
        self.for_each(|_, _, word| count += usize::from(is_listed_alive(word)));
        count
    }

    /// Started non-daemon hilo threads still running (released ones
    /// included), other than `skip`.
    pub fn running_non_daemon(&self, skip: Handle) -> Vec<Handle> {
        let mut out = Vec::new();
        self.for_each(|handle, _, word| {
            if word.state() == RUNNING && !word.has(DAEMON | MAIN | DUMMY) && handle != skip {
                out.push(handle);
            }
        });
        out
    }

    /// Waits (forever, not interruptible) for a started thread, released or
    /// not, to stop running, or for its exit mark to satisfy `skip`, or for
    /// the exit waits to be abandoned (`abandon_exit_waits`). The exit waits
    /// use it: they also wait for released threads.
    pub fn wait_for_end(&self, handle: Handle, skip: impl Fn(u64) -> bool) {
        if let Some(slot) = self.slot(handle) {
            let mut record = slot.record.lock();
            while !slot.stopped(handle)
                && !skip(slot.exit_mark.load(Ordering::Acquire))
                && !self.exit_waits_abandoned()
            {
                slot.ended.wait(&mut record);
            }
        }
    }

    /// From now on the exit waits wait for nothing (`hilo_abandon_exit_wait`),
    /// and those asleep in `wait_for_end` wake and return: the flag is set
    /// first, then every record's `ended` is notified under its mutex, so a
    /// waiter either saw the flag under that mutex or is woken. Takes each
    /// record's lock in turn (not async-signal-safe).
    pub fn abandon_exit_waits(&self) {
        self.exit_waits_abandoned.store(true, Ordering::SeqCst);
        self.for_each(|_, slot, _| {
            drop(slot.record.lock());
            slot.ended.notify_all();
        });
    }

    /// True once `abandon_exit_waits` was called (in this process: a forked
    /// child starts without it).
    pub fn exit_waits_abandoned(&self) -> bool {
        self.exit_waits_abandoned.load(Ordering::SeqCst)
    }

    /// The exit mark of the record `handle` names (`NOT_LEAVING` when there
    /// is none).
    pub fn exit_mark(&self, handle: Handle) -> u64 {
        match self.slot(handle) {
            Some(slot) if slot.load().names(handle) => slot.exit_mark.load(Ordering::Acquire),
            _ => NOT_LEAVING,
        }
    }

    /// Sets the exit mark of the record `handle` names and wakes whoever
    /// waits on that record (its joiners, and exit waits that may now skip
    /// it). A handle that names no record is ignored.
    pub fn set_exit_mark(&self, handle: Handle, mark: u64) {
        if let Some(slot) = self.slot(handle) {
            let record = slot.record.lock();
            if slot.load().names(handle) {
                slot.exit_mark.store(mark, Ordering::Release);
                slot.ended.notify_all();
                // Joiners asleep on the exit word of a thread that calls
                // exit() must see it exiting: its thread never ends. Only the
                // thread itself marks itself, so its descriptor is alive.
                if record.exit_word_joiners > 0 && record.pthread == os::pthread_self() {
                    Record::wake_exit_word_joiners(record.pthread);
                }
            }
        }
    }

    /// The main thread `handle` ended with `pthread_exit` (its thread-local
    /// destructors have run): it is finished, and its joiners return.
    pub fn finish_main(&self, handle: Handle) {
        if let Some(slot) = self.slot(handle) {
            let _record = slot.record.lock();
            if slot.load().names(handle) && slot.load().has(MAIN) {
                slot.set_state(FINISHED);
                slot.ended.notify_all();
            }
        }
    }

    /// No thread starts from now on (`threads::start` refuses). Called by
    /// the process's exit wait once it has found nothing left to wait for,
    /// followed by one more scan: a start either sees this flag or its
    /// thread is seen running by that scan (both sides use SeqCst).
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        std::sync::atomic::fence(Ordering::SeqCst);
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// True while the record `handle` named exists, released or not: a
    /// released thread's record lives until the thread has finished.
    pub fn record_exists(&self, handle: Handle) -> bool {
        self.slot(handle)
            .is_some_and(|slot| slot.load().names(handle))
    }
}

/// Alive as `hilo_active_count` counts: running, released or not (as
/// Python counts a thread whose `Thread` object was dropped).
fn is_listed_alive(word: Word) -> bool {
    word.state() == RUNNING
}

pub fn index_of(handle: Handle) -> u32 {
    (handle & INDEX_MASK) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_of(slot: &Slot) -> String {
        slot.record.lock().name.to_str().expect("UTF-8").to_string()
    }

    fn number(name: &str) -> u64 {
        name.strip_prefix("Thread-")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("not a default name: {name}"))
    }

    /// A default name written over the old one's bytes leaves every
    /// reference taken before alone: it is done only when there is none.
    #[test]
    fn a_default_name_reuses_the_old_names_memory_only_when_nobody_holds_it() {
        let slot = Slot::new();
        let mut record = slot.record.lock();
        slot.rename(&mut record, Arc::from(c"Thread-0"));
        let held = record.name.clone();
        let version = slot.name_version.load(Ordering::SeqCst);
        // Held: a new allocation; the held name is unchanged.
        slot.rename_default(&mut record, "Thread");
        assert_eq!(held.to_bytes(), b"Thread-0");
        assert!(!Arc::ptr_eq(&held, &record.name));
        assert_eq!(slot.name_version.load(Ordering::SeqCst), version + 1);
        drop(held);
        // Not held: the same memory, when the length is the same (a new
        // digit comes at most once in a few names).
        let mut reused = 0;
        for _ in 0..3 {
            let before = Arc::as_ptr(&record.name);
            let old = record.name.to_str().expect("UTF-8").to_string();
            slot.rename_default(&mut record, "Thread");
            let new = record.name.to_str().expect("UTF-8").to_string();
            assert!(number(&new) > number(&old), "{old} then {new}");
            if old.len() == new.len() {
                assert_eq!(Arc::as_ptr(&record.name), before, "{old} then {new}");
                reused += 1;
            }
        }
        assert!(reused > 0);
        assert_eq!(slot.name_version.load(Ordering::SeqCst), version + 4);
        drop(record);
        assert!(name_of(&slot).starts_with("Thread-"));
        // A length that differs: a new name of its own length.
        let mut record = slot.record.lock();
        slot.rename(&mut record, Arc::from(c"x"));
        slot.rename_default(&mut record, "Thread");
        assert!(record.name.to_bytes().starts_with(b"Thread-"));
        assert_eq!(
            record.name.to_bytes().iter().filter(|&&b| b == 0).count(),
            0
        );
    }
}
