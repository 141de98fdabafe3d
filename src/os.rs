//! The operating-system edge: spawning pthreads, kernel thread ids, the names
//! the kernel shows, process-exit and fork hooks, thread-specific keys,
//! futexes. Every libc call of hilo lives here.

use std::ffi::{c_int, c_void, CStr};
use std::io::Write;
use std::ptr;
use std::sync::atomic::AtomicU32;
use std::time::Duration;

/// The pthread start routine shape. `C-unwind`, because a target that calls
/// `pthread_exit` unwinds (forced unwinding) through it.
pub type StartRoutine = extern "C-unwind" fn(*mut c_void) -> *mut c_void;

/// The kernel thread id (Linux TID) of the calling thread.
pub fn gettid() -> i64 {
    // SAFETY: gettid has no preconditions and cannot fail.
    i64::from(unsafe { libc::gettid() })
}

extern "C" {
    // POSIX; declared here as `pthread_setcancelstate` is below.
    fn pthread_getcpuclockid(thread: libc::pthread_t, clock: *mut libc::clockid_t) -> c_int;
}

/// Whether `own_tid` may decode the TID from the thread's CPU clock id:
/// 0 not checked yet, 1 yes, 2 no (then it asks the kernel).
static TID_FROM_CLOCK: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// The kernel thread id (Linux TID) of the calling thread, without a system
/// call where libc allows: a thread's CPU-time clock id is the kernel's
/// encoding of its TID, `(!tid << 3) | 6` (CPUCLOCK_PERTHREAD and
/// CPUCLOCK_SCHED, linux/posix-timers.h), and glibc and musl compute it in
/// `pthread_getcpuclockid` from the TID they keep in the thread's
/// descriptor. The first call checks the decoding against `gettid`; where
/// it differs, every call is `gettid`. A new hilo thread publishes its TID
/// this way, one system call fewer per thread (~0.1 us on the AMD EPYC VM).
pub fn own_tid() -> i64 {
    let decoded = || {
        let mut clock: libc::clockid_t = 0;
        // SAFETY: the calling thread's own pthread_t is valid; `clock` is a
        // valid out-pointer.
        let rc = unsafe { pthread_getcpuclockid(libc::pthread_self(), &mut clock) };
        (rc == 0 && clock & 7 == 6).then(|| i64::from(!(clock >> 3)))
    };
    match TID_FROM_CLOCK.load(std::sync::atomic::Ordering::Relaxed) {
        1 => decoded().filter(|&tid| tid > 0).unwrap_or_else(gettid),
        2 => gettid(),
        _ => {
            let tid = gettid();
            let works = decoded() == Some(tid);
            TID_FROM_CLOCK.store(
                if works { 1 } else { 2 },
                std::sync::atomic::Ordering::Relaxed,
            );
            tid
        }
    }
}

/// The kernel thread id of a live `thread`, decoded from its CPU clock id
/// as in `own_tid`; None where that decoding does not hold. glibc reads the
/// TID from the thread's descriptor, so the caller must know the thread has
/// not exited and been joined or detached (hilo holds its record's mutex).
/// Not a read of the descriptor by hilo itself, which ThreadSanitizer would
/// report: it sees the descriptor as the new thread's TLS.
pub fn tid_of(thread: libc::pthread_t) -> Option<u32> {
    if TID_FROM_CLOCK.load(std::sync::atomic::Ordering::Relaxed) == 0 {
        own_tid();
    }
    if TID_FROM_CLOCK.load(std::sync::atomic::Ordering::Relaxed) != 1 {
        return None;
    }
    let mut clock: libc::clockid_t = 0;
    // SAFETY: the caller guarantees the thread's descriptor is alive;
    // `clock` is a valid out-pointer.
    let rc = unsafe { pthread_getcpuclockid(thread, &mut clock) };
    (rc == 0 && clock & 7 == 6)
        .then_some(!(clock >> 3))
        .and_then(|tid| u32::try_from(tid).ok())
        .filter(|&tid| tid > 0)
}

/// The process id.
pub fn getpid() -> i64 {
    // SAFETY: getpid has no preconditions and cannot fail.
    i64::from(unsafe { libc::getpid() })
}

/// True on the process's initial thread, whose TID equals the process id.
pub fn is_initial_thread() -> bool {
    gettid() == getpid()
}

/// The calling thread's pthread id.
pub fn pthread_self() -> libc::pthread_t {
    // SAFETY: pthread_self has no preconditions and cannot fail.
    unsafe { libc::pthread_self() }
}

/// Starts `routine(arg)` on a new joinable pthread. `stack_size` 0 uses the
/// platform default with no attribute object, which lets glibc reuse cached
/// stacks exactly as a plain `pthread_create(&t, NULL, ...)` does.
/// Returns the pthread id, or the errno that `pthread_create` gave.
pub fn spawn(
    routine: StartRoutine,
    arg: *mut c_void,
    stack_size: usize,
) -> Result<libc::pthread_t, i32> {
    let mut thread: libc::pthread_t = 0;
    // SAFETY: the start routine is `extern "C-unwind"` with the signature
    // pthread_create calls; the transmute only drops "-unwind" from the ABI
    // name, which has the same calling convention.
    let routine: extern "C" fn(*mut c_void) -> *mut c_void =
        unsafe { std::mem::transmute(routine) };
    if stack_size == 0 {
        // SAFETY: `thread` is a valid out-pointer; a NULL attr is allowed.
        let rc = unsafe { libc::pthread_create(&mut thread, std::ptr::null(), routine, arg) };
        return if rc == 0 { Ok(thread) } else { Err(rc) };
    }
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: pthread_attr_init initialises the attr it is given; the attr is
    // destroyed below on every path after a successful init.
    unsafe {
        let rc = libc::pthread_attr_init(attr.as_mut_ptr());
        if rc != 0 {
            return Err(rc);
        }
        let mut rc = libc::pthread_attr_setstacksize(attr.as_mut_ptr(), stack_size);
        if rc == 0 {
            rc = libc::pthread_create(&mut thread, attr.as_ptr(), routine, arg);
        }
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        if rc == 0 {
            Ok(thread)
        } else {
            Err(rc)
        }
    }
}

/// True when pthreads accepts `bytes` as a stack size.
pub fn stack_size_accepted(bytes: usize) -> bool {
    let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
    // SAFETY: the attr is initialised before use and destroyed after.
    unsafe {
        if libc::pthread_attr_init(attr.as_mut_ptr()) != 0 {
            return false;
        }
        let rc = libc::pthread_attr_setstacksize(attr.as_mut_ptr(), bytes);
        libc::pthread_attr_destroy(attr.as_mut_ptr());
        rc == 0
    }
}

/// Detaches the calling thread, so its end frees its stack and descriptor.
pub fn detach_self() {
    // SAFETY: the calling thread is a live, joinable pthread that nobody
    // else joins or detaches (the manager detaches or joins each exactly once).
    unsafe {
        libc::pthread_detach(libc::pthread_self());
    }
}

/// Detaches another thread.
///
/// # Safety
/// `thread` must be a joinable pthread that was neither joined nor detached.
pub unsafe fn detach(thread: libc::pthread_t) {
    // SAFETY: guaranteed by the caller.
    unsafe {
        libc::pthread_detach(thread);
    }
}

/// Joins a thread and returns the value it passed to `pthread_exit`.
///
/// # Safety
/// `thread` must be a joinable pthread that was neither joined nor detached.
pub unsafe fn join(thread: libc::pthread_t) -> *mut c_void {
    let _no_cancel = NoCancel::new();
    let mut value: *mut c_void = std::ptr::null_mut();
    // SAFETY: guaranteed by the caller; `value` is a valid out-pointer.
    unsafe {
        libc::pthread_join(thread, &mut value);
    }
    value
}

extern "C" {
    // The libc crate does not declare it for glibc.
    fn pthread_setcancelstate(state: c_int, old: *mut c_int) -> c_int;
}

/// glibc's `PTHREAD_CANCEL_DISABLE`.
const PTHREAD_CANCEL_DISABLE: c_int = 1;

/// While it lives, `pthread_cancel` of the calling thread waits (is
/// pending): no hilo call is a cancellation point, so a cancelled thread
/// never unwinds out of the middle of one, leaving a record half-reaped or
/// a lock held. Around the few libc calls of hilo that are cancellation
/// points (pthread_join, open/write/close); hilo's futex waits are not.
pub struct NoCancel {
    old: c_int,
}

impl NoCancel {
    pub fn new() -> NoCancel {
        let mut old = PTHREAD_CANCEL_DISABLE;
        // SAFETY: `old` is a valid out-pointer; the state is the thread's own.
        unsafe { pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &mut old) };
        NoCancel { old }
    }
}

impl Drop for NoCancel {
    fn drop(&mut self) {
        let mut ignored = 0;
        // SAFETY: as in `new`; restores the state found there (a pending
        // cancel then acts at the caller's next cancellation point).
        unsafe { pthread_setcancelstate(self.old, &mut ignored) };
    }
}

extern "C" {
    // glibc 2.31 and later; the libc crate does not declare it.
    fn pthread_clockjoin_np(
        thread: libc::pthread_t,
        retval: *mut *mut c_void,
        clock: libc::clockid_t,
        abstime: *const libc::timespec,
    ) -> libc::c_int;
}

/// Joins a thread, waiting until `deadline` at most (None: forever), and
/// returns the value it passed to `pthread_exit`, or None at the deadline
/// (the thread is then still joinable).
///
/// # Safety
/// `thread` must be a joinable pthread that was neither joined nor detached.
pub unsafe fn join_until(
    thread: libc::pthread_t,
    deadline: Option<std::time::Instant>,
) -> Option<*mut c_void> {
    let Some(deadline) = deadline else {
        // SAFETY: as the caller guarantees.
        return Some(unsafe { join(thread) });
    };
    // `Instant` is CLOCK_MONOTONIC on Linux; the absolute time is now on
    // that clock plus what is left.
    let left = deadline.saturating_duration_since(std::time::Instant::now());
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid out-pointer; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    let nanos = now.tv_nsec as u64 + u64::from(left.subsec_nanos());
    let secs = (now.tv_sec as u64)
        .saturating_add(left.as_secs())
        .saturating_add(nanos / 1_000_000_000);
    let abstime = libc::timespec {
        tv_sec: secs.min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: (nanos % 1_000_000_000) as libc::c_long,
    };
    let mut value: *mut c_void = std::ptr::null_mut();
    let _no_cancel = NoCancel::new();
    loop {
        // SAFETY: guaranteed by the caller; `value` and `abstime` are valid.
        match unsafe { pthread_clockjoin_np(thread, &mut value, libc::CLOCK_MONOTONIC, &abstime) } {
            0 => return Some(value),
            libc::ETIMEDOUT => return None,
            libc::EINTR => continue,
            // EINVAL/ESRCH/EDEADLK cannot happen for a joinable thread; treat
            // the thread as gone rather than wait for ever.
            _ => return Some(std::ptr::null_mut()),
        }
    }
}

/// A thread-specific data key (`pthread_key_t`).
pub type Key = libc::pthread_key_t;

/// The destructor of a key's values, called on a thread's value as it ends.
pub type KeyDestructor = unsafe extern "C" fn(*mut c_void);

/// A new thread-specific key, or the errno `pthread_key_create` gave.
pub fn key_create(destructor: Option<KeyDestructor>) -> Result<Key, i32> {
    let mut key: Key = 0;
    // SAFETY: `key` is a valid out-pointer; the destructor, if any, is a C
    // function of the shape pthread calls.
    match unsafe { libc::pthread_key_create(&mut key, destructor) } {
        0 => Ok(key),
        errno => Err(errno),
    }
}

/// Deletes a key; values still set are not passed to its destructor.
///
/// # Safety
/// `key` came from `key_create` and is deleted once; nobody uses it after.
pub unsafe fn key_delete(key: Key) {
    // SAFETY: as the caller guarantees.
    unsafe { libc::pthread_key_delete(key) };
}

/// The calling thread's value of `key`, NULL when it set none.
///
/// # Safety
/// `key` came from `key_create` and is not deleted yet.
pub unsafe fn key_get(key: Key) -> *mut c_void {
    // SAFETY: as the caller guarantees.
    unsafe { libc::pthread_getspecific(key) }
}

/// Sets the calling thread's value of `key`, or gives the errno.
///
/// # Safety
/// `key` came from `key_create` and is not deleted yet.
pub unsafe fn key_set(key: Key, value: *mut c_void) -> Result<(), i32> {
    // SAFETY: as the caller guarantees; pthread only stores the pointer.
    match unsafe { libc::pthread_setspecific(key, value) } {
        0 => Ok(()),
        errno => Err(errno),
    }
}

/// The kernel's limit for a thread name, in bytes, without the NUL.
const OS_NAME_MAX: usize = 15;
/// What stands for the middle of a name too long for the kernel.
const ELLIPSIS: &[u8] = b"..";
/// How much of a long name's end its OS name keeps at least: the number
/// that tells `connection-worker-10` from `-11` and `-12`, and a little more.
const KEPT_END: usize = 6;

/// `name` as the kernel's 15-byte thread name, NUL-terminated. A longer
/// name keeps its start and its end with ".." between, as openjdk does for
/// Java threads (JDK-8368124): the first 7 bytes and the last 6, or all of
/// a final number longer than that (up to 11 bytes), so that names that
/// differ only in their number stay apart: "connection-worker-10" becomes
/// "connect..ker-10". Each cut falls on a UTF-8 character boundary (the
/// OS name is then shorter).
pub fn os_name(name: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    if name.len() <= OS_NAME_MAX {
        out[..name.len()].copy_from_slice(name);
        return out;
    }
    let number = name
        .iter()
        .rev()
        .take_while(|byte| byte.is_ascii_digit())
        .count();
    let end_len = number.clamp(KEPT_END, OS_NAME_MAX - ELLIPSIS.len() - 2);
    // Forward to a character's start, back from one: the UTF-8 continuation
    // bytes are 10xxxxxx.
    let continues = |at: usize| at < name.len() && name[at] & 0xC0 == 0x80;
    let mut end_start = name.len() - end_len;
    while continues(end_start) {
        end_start += 1;
    }
    let mut start_len = OS_NAME_MAX - ELLIPSIS.len() - (name.len() - end_start);
    while start_len > 0 && continues(start_len) {
        start_len -= 1;
    }
    let pieces = [&name[..start_len], ELLIPSIS, &name[end_start..]];
    let mut at = 0;
    for piece in pieces {
        out[at..at + piece.len()].copy_from_slice(piece);
        at += piece.len();
    }
    out
}

/// Sets the calling thread's kernel name (what `top -H` and `gdb` show).
pub fn set_own_name(name: &CStr) {
    set_own_os_name(&os_name(name.to_bytes()));
}

/// Sets the calling thread's kernel name to `short`, made by `os_name`.
pub fn set_own_os_name(short: &[u8; 16]) {
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes,
    // and `short` is exactly that (`os_name` leaves a NUL at the end).
    unsafe {
        libc::prctl(libc::PR_SET_NAME, short.as_ptr() as libc::c_ulong, 0, 0, 0);
    }
}

/// Sets the kernel name of another live thread of this process by TID.
/// A thread that has just ended is silently skipped.
pub fn set_thread_name(tid: i64, name: &CStr) {
    if tid == gettid() {
        return set_own_name(name);
    }
    let short = os_name(name.to_bytes());
    let len = short.iter().position(|&b| b == 0).unwrap_or(15);
    let path = format!("/proc/self/task/{tid}/comm");
    let _no_cancel = NoCancel::new();
    if let Ok(mut file) = std::fs::OpenOptions::new().write(true).open(path) {
        // One write, also of zero bytes: the kernel sets the name to what a
        // write gives, and an empty write gives "" (`write_all` would skip
        // it). 15 bytes at most, which a proc file takes in one write.
        let _ = file.write(&short[..len]);
    }
}

/// Registers `hook` to run when the process exits (`exit()` or `main`
/// returning), before stdio is flushed.
pub fn at_exit(hook: extern "C" fn()) {
    // SAFETY: atexit stores a plain function pointer; a failure (no memory)
    // leaves the process without the exit wait, which we cannot do better.
    unsafe {
        libc::atexit(hook);
    }
}

extern "C" {
    /// glibc's registration of a C++ `thread_local` destructor: it runs
    /// when the calling thread ends, and, for the thread that calls
    /// `exit()`, first thing in `exit()`, before the `atexit` handlers.
    fn __cxa_thread_atexit_impl(
        destructor: unsafe extern "C" fn(*mut c_void),
        object: *mut c_void,
        dso_symbol: *mut c_void,
    ) -> c_int;
}

/// Registers `hook` to run when the calling thread ends, and first thing
/// in an `exit()` that this thread calls (or `main` returning, on the main
/// thread). False when glibc refused (no memory).
pub fn at_thread_exit(hook: unsafe extern "C" fn(*mut c_void)) -> bool {
    // SAFETY: glibc stores the pointers. The DSO symbol is an address in
    // the object that holds `hook` (glibc keeps that object loaded while
    // the destructor is pending; libhilo.so is -z nodelete anyway); it must
    // not be NULL, which glibc 2.36 dereferences on a first call.
    unsafe { __cxa_thread_atexit_impl(hook, ptr::null_mut(), hook as *mut c_void) == 0 }
}

/// The page size, for rounding stack sizes.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as usize
    } else {
        4096
    }
}

/// Registers fork handlers (`pthread_atfork`).
pub fn at_fork(prepare: extern "C" fn(), parent: extern "C" fn(), child: extern "C" fn()) {
    // SAFETY: plain function pointers; a failure (no memory) leaves the
    // process without fork handling, which we cannot do better.
    unsafe {
        libc::pthread_atfork(Some(prepare), Some(parent), Some(child));
    }
}

/// True when `fd` is an open file descriptor of this process.
pub fn is_open_fd(fd: i32) -> bool {
    // SAFETY: F_GETFD only queries the descriptor table.
    fd >= 0 && unsafe { libc::fcntl(fd, libc::F_GETFD) } != -1
}

/// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
pub fn write_all(fd: i32, mut bytes: &[u8]) -> std::io::Result<()> {
    let _no_cancel = NoCancel::new();
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a valid buffer of `bytes.len()` bytes.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(err);
        }
        bytes = &bytes[n as usize..];
    }
    Ok(())
}

/// Sleeps while `word` holds `expected`, until woken by `futex_wake`, until
/// `timeout` passes (None: no limit), or spuriously. Process-private: a
/// forked child has its own futexes. True when a signal handler ran during
/// the sleep and the kernel reported it (EINTR): always for a sleep with a
/// timeout, only for a handler without `SA_RESTART` for one without (the
/// kernel restarts that one silently; src/interrupt.rs relies on this).
#[cfg_attr(all(test, loom), allow(dead_code))] // the loom models' futex stands in
pub fn futex_wait(word: &AtomicU32, expected: u32, timeout: Option<Duration>) -> bool {
    // SAFETY: `word` is a live, aligned u32 for the whole call.
    unsafe {
        futex_wait_at(
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            timeout,
        )
    }
}

/// FUTEX_WAIT (`op`, private or shared) on `word`: true when a signal
/// handler interrupted the sleep (EINTR). Every other result (woken, value
/// changed, timed out, EFAULT) is a return the callers handle by checking
/// their condition again.
///
/// # Safety
/// `word` is a 4-aligned address; the kernel reads it, and answers EFAULT
/// for an unmapped one, and reads the timespec, which outlives the call.
unsafe fn futex_wait_at(
    word: *const u32,
    op: c_int,
    expected: u32,
    timeout: Option<Duration>,
) -> bool {
    let spec = timeout.map(|t| libc::timespec {
        tv_sec: libc::time_t::try_from(t.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: t.subsec_nanos() as libc::c_long,
    });
    let spec_ptr = spec
        .as_ref()
        .map_or(std::ptr::null(), |s| s as *const libc::timespec);
    // SAFETY: as the caller guarantees.
    let result = unsafe { libc::syscall(libc::SYS_futex, word, op, expected, spec_ptr) };
    result == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR)
}

/// Wakes up to `count` threads sleeping in `futex_wait` on `word`.
#[cfg_attr(all(test, loom), allow(dead_code))] // the loom models' futex stands in
pub fn futex_wake(word: &AtomicU32, count: i32) {
    // SAFETY: `word` is a live, aligned u32; FUTEX_WAKE does not touch
    // memory, it only wakes the kernel's waiters keyed by the address.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            count,
        );
    }
}

// ---- the kernel's wake of a thread's end ---------------------------------

/// Where glibc keeps a thread's TID in its descriptor (`struct pthread`), as
/// an offset from the `pthread_t`: the word the kernel clears, and wakes a
/// futex waiter on, when the thread exits (`CLONE_CHILD_CLEARTID`; it is
/// what `pthread_join` sleeps on). 0: not looked up yet; 1: none (another
/// libc, a static link without `dlsym`, a check that failed).
static EXIT_WORD_OFFSET: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// The offset of glibc's TID word in a thread's descriptor, if this libc
/// has one hilo can rely on. glibc publishes it for debuggers
/// (`_thread_db_pthread_tid`, which libthread_db and gdb read: bits, count,
/// offset); it is accepted when it describes one 32-bit word inside the
/// descriptor and the calling thread's own word holds its TID.
pub fn exit_word_offset() -> Option<usize> {
    use std::sync::atomic::Ordering::Relaxed;
    match EXIT_WORD_OFFSET.load(Relaxed) {
        0 => {}
        1 => return None,
        offset => return Some(offset),
    }
    // SAFETY: dlsym with a NUL-terminated name; a NULL answer is handled.
    let field = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"_thread_db_pthread_tid".as_ptr()) };
    // SAFETY: as above.
    let size = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"_thread_db_sizeof_pthread".as_ptr()) };
    let offset = (!field.is_null() && !size.is_null())
        .then(|| {
            // SAFETY: glibc defines `_thread_db_pthread_tid` as three
            // uint32_t (size in bits, count, offset) and
            // `_thread_db_sizeof_pthread` as one uint32_t, read-only data.
            let (bits, count, offset, size) = unsafe {
                let field = field.cast::<u32>();
                (
                    *field,
                    *field.add(1),
                    *field.add(2) as usize,
                    *size.cast::<u32>() as usize,
                )
            };
            (bits == 32 && count == 1 && offset % 4 == 0 && offset + 4 <= size).then_some(offset)
        })
        .flatten()
        .filter(|&offset| {
            // SAFETY: the offset lies inside the calling thread's own live
            // descriptor (checked against its size above), 4-aligned.
            let word = unsafe { *(pthread_self() as *const u8).add(offset).cast::<i32>() };
            i64::from(word) == gettid()
        });
    EXIT_WORD_OFFSET.store(offset.unwrap_or(1), Relaxed);
    offset
}

/// Sleeps while the word at `word` holds `expected`, as `futex_wait`, but as
/// a shared futex: the kernel's wake at a thread's exit is a shared one.
/// The word is never read or written here, only by the kernel, which
/// answers EFAULT for memory no longer mapped: that too is a return (the
/// caller checks its condition again). True when a signal handler ran.
pub fn futex_wait_exit_word(word: *const u32, expected: u32, timeout: Option<Duration>) -> bool {
    // SAFETY: the word's offset is 4-aligned (`exit_word_offset`), and the
    // kernel validates the address (EFAULT when unmapped).
    unsafe { futex_wait_at(word, libc::FUTEX_WAIT, expected, timeout) }
}

/// Wakes up to `count` sleepers of `futex_wait_exit_word` on `word`.
pub fn futex_wake_exit_word(word: *const u32, count: i32) {
    // SAFETY: FUTEX_WAKE touches no memory; it wakes the kernel's waiters
    // keyed by the address.
    unsafe {
        libc::syscall(libc::SYS_futex, word, libc::FUTEX_WAKE, count);
    }
}

/// CLOCK_MONOTONIC_COARSE in nanoseconds.
pub fn monotonic_coarse_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid out-pointer; the clock exists on every Linux
    // since 2.6.32 (0 is left on a failure, which cannot happen).
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut t) };
    (t.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(t.tv_nsec as u64)
}

/// The CPU the calling thread runs on now (glibc reads it from the rseq
/// area: no system call), or -1.
pub fn current_cpu() -> i32 {
    // SAFETY: no preconditions.
    unsafe { libc::sched_getcpu() }
}

// ---- signals, for stack capture and dump-on-signal (src/stacks.rs,
// src/watch.rs) -------------------------------------------------------------

/// A signal handler's shape.
pub type SignalHandler = extern "C" fn(libc::c_int);

/// The handler installed for `signo` now: None for SIG_DFL or SIG_IGN,
/// else its address. Err for a signal number the kernel refuses.
pub fn signal_handler(signo: i32) -> Result<Option<usize>, ()> {
    // SAFETY: a zeroed sigaction is a valid out-parameter; a NULL new
    // action only queries.
    let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::sigaction(signo, std::ptr::null(), &mut old) } != 0 {
        return Err(());
    }
    Ok(match old.sa_sigaction {
        libc::SIG_DFL | libc::SIG_IGN => None,
        handler => Some(handler),
    })
}

/// Installs `handler` for `signo` (SA_RESTART, so that most interrupted
/// system calls resume), or SIG_DFL for None. False when refused.
pub fn set_signal_handler(signo: i32, handler: Option<SignalHandler>) -> bool {
    // SAFETY: a zeroed sigaction is valid; every field set below.
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = handler.map_or(libc::SIG_DFL, |h| h as usize);
    action.sa_flags = libc::SA_RESTART;
    // SAFETY: `sa_mask` is a valid sigset; `action` is fully initialised.
    unsafe {
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(signo, &action, std::ptr::null_mut()) == 0
    }
}

/// Sends `signo` to the thread `tid` of this process. False when it is gone.
pub fn signal_thread(tid: i64, signo: i32) -> bool {
    // SAFETY: tgkill only sends a signal; a wrong tid fails with ESRCH.
    unsafe { libc::syscall(libc::SYS_tgkill, getpid(), tid, signo) == 0 }
}

/// The calling thread's errno (a signal handler saves and restores it).
pub fn errno() -> i32 {
    // SAFETY: __errno_location always returns the thread's errno.
    unsafe { *libc::__errno_location() }
}

pub fn set_errno(value: i32) {
    // SAFETY: as in `errno`.
    unsafe { *libc::__errno_location() = value };
}

/// The signal number of a name: "QUIT", "SIGUSR2", "usr1", or a number.
pub fn signal_number(name: &str) -> Option<i32> {
    let name = name.trim();
    if let Ok(n) = name.parse::<i32>() {
        return Some(n);
    }
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    let known = [
        ("HUP", libc::SIGHUP),
        ("INT", libc::SIGINT),
        ("QUIT", libc::SIGQUIT),
        ("USR1", libc::SIGUSR1),
        ("USR2", libc::SIGUSR2),
        ("TERM", libc::SIGTERM),
        ("PWR", libc::SIGPWR),
        ("WINCH", libc::SIGWINCH),
        ("URG", libc::SIGURG),
        ("TTIN", libc::SIGTTIN),
        ("TTOU", libc::SIGTTOU),
    ];
    known.iter().find(|(n, _)| *n == bare).map(|&(_, s)| s)
}

/// The real-time signal hilo captures other threads' stacks with.
pub fn stack_signal() -> i32 {
    libc::SIGRTMAX() - 3
}

/// The kernel thread ids of this process's threads now.
pub fn thread_ids() -> Vec<i64> {
    let Ok(entries) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut ids: Vec<i64> = entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    ids.sort_unstable();
    ids
}

/// The name the kernel shows for thread `tid` (its `comm`).
pub fn thread_comm(tid: i64) -> String {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/comm"))
        .map(|s| s.trim_end().to_string())
        .unwrap_or_default()
}

/// The file of the loaded object that holds `address`, and its exported
/// symbol, if `dladdr` knows (the fallback where no symbol table names it).
pub fn object_of(address: usize) -> (Option<String>, Option<String>) {
    // SAFETY: a zeroed Dl_info is a valid out-parameter.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: dladdr only reads the loader's tables for any address.
    if unsafe { libc::dladdr(address as *const c_void, &mut info) } == 0 {
        return (None, None);
    }
    let text = |p: *const libc::c_char| {
        // SAFETY: non-null strings from dladdr are NUL-terminated and live
        // while the object stays loaded.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    };
    (text(info.dli_fname), text(info.dli_sname))
}

/// A number that names the calling thread while it lives (its thread
/// pointer: the TCB address the kernel keeps in fs on x86_64, tpidr_el0 on
/// aarch64), read without a call or a thread-local lookup: a Lock's acquire
/// stores it as the holder (src/sync/lock.rs), so it must cost next to
/// nothing. Reused by a later thread once this one has ended.
#[inline(always)]
pub fn thread_pointer() -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        let tp: usize;
        // SAFETY: reads the first word of the calling thread's TCB, which
        // glibc and musl keep pointing at itself; no memory is written.
        unsafe {
            std::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly, preserves_flags))
        };
        tp
    }
    #[cfg(target_arch = "aarch64")]
    {
        let tp: usize;
        // SAFETY: reads the thread-pointer register; nothing else is touched.
        unsafe {
            std::arch::asm!("mrs {}, tpidr_el0", out(reg) tp, options(nomem, nostack, preserves_flags))
        };
        tp
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        pthread_self() as usize
    }
}

/// The system calls that a signal handler ends early whatever SA_RESTART
/// says (signal(7)), by number on this architecture: a sleep cut short, a
/// poll that returns EINTR. A dump takes no stack of a thread inside one.
#[cfg(target_arch = "x86_64")]
const UNRESTARTED: &[(i64, &str)] = &[
    (35, "nanosleep"),
    (230, "clock_nanosleep"),
    (7, "poll"),
    (271, "ppoll"),
    (23, "select"),
    (270, "pselect6"),
    (232, "epoll_wait"),
    (281, "epoll_pwait"),
    (441, "epoll_pwait2"),
    (34, "pause"),
    (128, "rt_sigtimedwait"),
    (130, "rt_sigsuspend"),
    (208, "io_getevents"),
    (220, "semtimedop"),
    (65, "semop"),
    (70, "msgrcv"),
];
#[cfg(target_arch = "aarch64")]
const UNRESTARTED: &[(i64, &str)] = &[
    (101, "nanosleep"),
    (115, "clock_nanosleep"),
    (73, "ppoll"),
    (72, "pselect6"),
    (22, "epoll_pwait"),
    (441, "epoll_pwait2"),
    (137, "rt_sigtimedwait"),
    (133, "rt_sigsuspend"),
    (4, "io_getevents"),
    (192, "semtimedop"),
    (193, "semop"),
    (188, "msgrcv"),
];
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const UNRESTARTED: &[(i64, &str)] = &[];

/// The name of the system call thread `tid` is blocked in, when it is one
/// that a signal would end early (`UNRESTARTED`).
pub fn in_unrestarted_call(tid: i64) -> Option<&'static str> {
    let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/syscall")).ok()?;
    let number: i64 = text.split_whitespace().next()?.parse().ok()?;
    UNRESTARTED
        .iter()
        .find(|&&(n, _)| n == number)
        .map(|&(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::{gettid, os_name, own_tid};

    #[test]
    fn own_tid_is_the_kernels_tid_on_every_thread() {
        // The first call checks the decoding, the later ones use it.
        for _ in 0..3 {
            assert_eq!(own_tid(), gettid());
        }
        let threads: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| (own_tid(), gettid())))
            .collect();
        for thread in threads {
            let (decoded, asked) = thread.join().expect("thread ran");
            assert_eq!(decoded, asked);
        }
        assert_eq!(
            super::TID_FROM_CLOCK.load(std::sync::atomic::Ordering::Relaxed),
            1
        );
    }

    fn shown(name: &str) -> String {
        let out = os_name(name.as_bytes());
        let len = out.iter().position(|&b| b == 0).expect("NUL-terminated");
        String::from_utf8(out[..len].to_vec()).expect("whole characters")
    }

    #[test]
    fn long_names_keep_their_start_and_their_number() {
        for (name, os) in [
            ("", ""),
            ("MainThread", "MainThread"),
            ("exactly-15-byte", "exactly-15-byte"),
            ("connection-worker-10", "connect..ker-10"),
            ("connection-worker-11", "connect..ker-11"),
            ("MyAllocationWorkerThread#4411", "MyAlloc..d#4411"),
            // A number longer than six bytes is kept whole, up to 11.
            ("worker-1234567890", "wor..1234567890"),
            ("pool-worker-123456789012345", "po..56789012345"),
            // Cuts on character boundaries: the OS name is then shorter.
            ("abcdefghijklmnñopq", "abcdefg..nñopq"),
            ("abcdefghijklmnopé12345", "abcdefgh..12345"),
            ("ééééééééééé", "ééé..ééé"),
        ] {
            assert_eq!(shown(name), os, "{name}");
            assert!(shown(name).len() <= 15, "{name}");
        }
    }
}
