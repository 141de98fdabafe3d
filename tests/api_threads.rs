//! The thread API (threads, names and identity, exit, stack size, version)
//! through the exported C functions: every rule and every misuse, with the
//! exact status and, where the header gives one, the exact
//! `hilo_last_error` text.
//!
//! The test harness runs tests on threads hilo did not create, in parallel,
//! in one process: process-wide counts and exit behaviour are tested in C
//! programs (tests/c_programs.rs) where they are exact.

mod common;

use std::ffi::{c_void, CStr, CString};
use std::ptr;
use std::sync::{Arc, Condvar, Mutex};

use common::{assert_fails, gettid, last_error, wait_until_blocked};
use hilo::*;

/// Generous upper bound for a wait that should end soon.
const SOON: f64 = 10.0;

fn current_name() -> String {
    // SAFETY: hilo_current_name never returns NULL.
    unsafe { CStr::from_ptr(hilo_current_name()) }
        .to_string_lossy()
        .into_owned()
}

fn name_of(t: hilo_thread_t) -> String {
    let mut buf = vec![0u8; 256];
    let n = hilo_get_name(t, buf.as_mut_ptr().cast(), buf.len());
    assert!(n >= 0, "get_name: {n} {}", last_error());
    CStr::from_bytes_until_nul(&buf)
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// A gate that targets wait on until the test opens it.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
}

impl Gate {
    fn open(&self) {
        // Notified under the lock: a waiter that returns may free the gate
        // (the released thread's `done`), so the opener must not touch it
        // after unlocking (ThreadSanitizer saw the notify race the free).
        let mut open = self.open.lock().unwrap();
        *open = true;
        self.cv.notify_all();
    }
    fn wait(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cv.wait(open).unwrap();
        }
    }
}

unsafe extern "C-unwind" fn return_arg(arg: *mut c_void) -> *mut c_void {
    arg
}

unsafe extern "C-unwind" fn wait_on_gate(arg: *mut c_void) -> *mut c_void {
    // SAFETY: the tests pass a pointer to a Gate that outlives the thread.
    let gate = unsafe { &*(arg as *const Gate) };
    gate.wait();
    ptr::null_mut()
}

unsafe extern "C-unwind" fn report_tid(_: *mut c_void) -> *mut c_void {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() as usize as *mut c_void }
}

fn create(target: hilo_fn, arg: *mut c_void, name: Option<&str>) -> hilo_thread_t {
    let name = name.map(|n| CString::new(n).unwrap());
    let mut t = 0;
    let rc = hilo_create(
        target,
        arg,
        name.as_ref().map_or(ptr::null(), |n| n.as_ptr()),
        &mut t,
    );
    assert_eq!(rc, HILO_OK, "create: {}", last_error());
    assert_ne!(t, 0);
    t
}

fn started(target: hilo_fn, arg: *mut c_void, name: Option<&str>) -> hilo_thread_t {
    let t = create(target, arg, name);
    assert_eq!(hilo_start(t), HILO_OK, "start: {}", last_error());
    t
}

fn join(t: hilo_thread_t) -> *mut c_void {
    let mut result = ptr::null_mut();
    assert_eq!(
        hilo_join(t, HILO_FOREVER, &mut result),
        HILO_OK,
        "{}",
        last_error()
    );
    result
}

fn gated_thread(gate: &Arc<Gate>, name: Option<&str>) -> hilo_thread_t {
    started(Some(wait_on_gate), Arc::as_ptr(gate) as *mut c_void, name)
}

/// The handles hilo_enumerate lists now.
fn listed() -> Vec<hilo_thread_t> {
    let mut buf = vec![0; 4096];
    let n = hilo_enumerate(buf.as_mut_ptr(), buf.len());
    assert!(n <= buf.len());
    buf.truncate(n);
    buf
}

fn os_comm(tid: i64) -> String {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/comm"))
        .unwrap()
        .trim_end_matches('\n')
        .to_string()
}

// ---- 1. Conventions ---------------------------------------------------

#[test]
fn strerror_has_a_distinct_text_for_every_status() {
    common::limited(120, "its waits and joins to end", || {
        let codes = [
            HILO_OK,
            HILO_EINVAL,
            HILO_ESRCH,
            HILO_ESTATE,
            HILO_EDEADLK,
            HILO_ETIMEDOUT,
            HILO_EAGAIN,
            HILO_EBROKEN,
            HILO_EINTERNAL,
        ];
        let mut texts = std::collections::HashSet::new();
        for code in codes {
            // SAFETY: never NULL, static.
            let text = unsafe { CStr::from_ptr(hilo_strerror(code)) }
                .to_str()
                .unwrap();
            assert!(!text.is_empty());
            assert!(texts.insert(text.to_string()), "duplicate text {text}");
        }
        assert_eq!(HILO_OK, 0);
        assert!(codes[1..].iter().all(|&c| c < 0));
        // SAFETY: never NULL.
        let unknown = unsafe { CStr::from_ptr(hilo_strerror(12345)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown status code");
    })
}

#[test]
fn last_error_is_empty_until_a_call_fails_and_is_per_thread() {
    common::limited(120, "its waits and joins to end", || {
        std::thread::spawn(|| {
            assert_eq!(last_error(), "");
            assert_eq!(hilo_is_alive(0), HILO_ESRCH);
            let text = last_error();
            assert!(text.contains("no such thread"), "{text}");
            // Another thread's failure does not change ours.
            std::thread::spawn(|| {
                assert_eq!(last_error(), "");
                hilo_start(0);
            })
            .join()
            .unwrap();
            assert_eq!(last_error(), text);
            // A successful call does not clear it.
            assert_eq!(hilo_is_alive(hilo_main_thread()), 1);
            assert_eq!(last_error(), text);
        })
        .join()
        .unwrap();
    })
}

#[test]
fn nan_timeout_is_invalid_and_negative_waits_forever() {
    common::limited(120, "its waits and joins to end", || {
        let gate = Arc::new(Gate::default());
        let t = gated_thread(&gate, None);
        let mut result = 1 as *mut c_void;
        assert_fails(
            hilo_join(t, f64::NAN, &mut result),
            HILO_EINVAL,
            "timeout must be a number, not NaN",
        );
        assert_eq!(
            result, 1 as *mut c_void,
            "out-parameter untouched on failure"
        );
        assert_eq!(hilo_join(t, 0.0, ptr::null_mut()), HILO_ETIMEDOUT);
        assert_eq!(hilo_join(t, 0.01, ptr::null_mut()), HILO_ETIMEDOUT);
        let opener = {
            let gate = gate.clone();
            let me = gettid();
            std::thread::spawn(move || {
                wait_until_blocked(me, "the test thread blocked in hilo_join(t, -5.0)");
                gate.open();
            })
        };
        // -5.0 and +inf both mean forever: they return only once it finished.
        assert_eq!(hilo_join(t, -5.0, ptr::null_mut()), HILO_OK);
        assert_eq!(hilo_join(t, f64::INFINITY, ptr::null_mut()), HILO_OK);
        assert_eq!(hilo_join(t, 1e300, ptr::null_mut()), HILO_OK);
        assert_eq!(hilo_is_alive(t), 0);
        opener.join().unwrap();
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

// ---- 2. Threads -------------------------------------------------------

#[test]
fn create_rejects_null_target_and_null_out() {
    common::limited(120, "its waits and joins to end", || {
        let mut t: hilo_thread_t = 77;
        assert_fails(
            hilo_create(None, ptr::null_mut(), ptr::null(), &mut t),
            HILO_EINVAL,
            "target must not be NULL",
        );
        assert_eq!(t, 77, "out is written only on success");
        assert_fails(
            hilo_create(
                Some(return_arg),
                ptr::null_mut(),
                ptr::null(),
                ptr::null_mut(),
            ),
            HILO_EINVAL,
            "out must not be NULL",
        );
    })
}

#[test]
fn default_names_are_thread_n_from_one_counter() {
    common::limited(120, "its waits and joins to end", || {
        let a = create(Some(return_arg), ptr::null_mut(), None);
        let b = create(Some(return_arg), ptr::null_mut(), Some(""));
        let named = create(Some(return_arg), ptr::null_mut(), Some("Named"));
        let c = create(Some(return_arg), ptr::null_mut(), None);
        let number = |t| {
            let name = name_of(t);
            name.strip_prefix("Thread-")
                .unwrap_or_else(|| panic!("{name} is not Thread-N"))
                .parse::<u64>()
                .unwrap()
        };
        // Other tests make default names in parallel, so only the order holds.
        assert!(number(a) >= 1);
        assert!(number(a) < number(b) && number(b) < number(c));
        assert_eq!(name_of(named), "Named");
        for t in [a, b, named, c] {
            assert_eq!(hilo_release(t), HILO_OK);
        }
    })
}

#[test]
fn handles_are_never_reused() {
    common::limited(120, "its waits and joins to end", || {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..2000 {
            let t = create(Some(return_arg), ptr::null_mut(), Some("x"));
            assert!(seen.insert(t), "handle {t:#x} issued twice");
            assert_eq!(hilo_release(t), HILO_OK);
            assert_eq!(hilo_is_alive(t), HILO_ESRCH);
        }
    })
}

#[test]
fn start_runs_the_target_and_join_gives_its_result() {
    common::limited(120, "its waits and joins to end", || {
        let t = create(Some(return_arg), 0x1234 as *mut c_void, Some("Returner"));
        assert_eq!(hilo_is_alive(t), 0);
        assert_eq!(hilo_start(t), HILO_OK);
        assert_eq!(join(t), 0x1234 as *mut c_void);
        assert_eq!(hilo_is_alive(t), 0);
        // Joined again, later: the same result. A NULL result pointer is fine.
        assert_eq!(join(t), 0x1234 as *mut c_void);
        assert_eq!(hilo_join(t, 0.0, ptr::null_mut()), HILO_OK);
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

#[test]
fn is_alive_is_one_from_start_until_the_target_returns() {
    common::limited(120, "its waits and joins to end", || {
        let gate = Arc::new(Gate::default());
        let t = create(Some(wait_on_gate), Arc::as_ptr(&gate) as *mut c_void, None);
        assert_eq!(hilo_is_alive(t), 0);
        assert_eq!(hilo_start(t), HILO_OK);
        assert_eq!(hilo_is_alive(t), 1, "alive as soon as start returns");
        gate.open();
        join(t);
        assert_eq!(hilo_is_alive(t), 0);
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

#[test]
fn start_twice_is_a_state_error_even_after_the_end() {
    common::limited(120, "its waits and joins to end", || {
        let gate = Arc::new(Gate::default());
        let t = gated_thread(&gate, None);
        assert_fails(
            hilo_start(t),
            HILO_ESTATE,
            "threads can only be started once",
        );
        gate.open();
        join(t);
        assert_fails(
            hilo_start(t),
            HILO_ESTATE,
            "threads can only be started once",
        );
        assert_fails(
            hilo_start(hilo_main_thread()),
            HILO_ESTATE,
            "threads can only be started once",
        );
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

#[test]
fn join_before_start_and_join_self_are_refused() {
    common::limited(120, "its waits and joins to end", || {
        let t = create(Some(return_arg), ptr::null_mut(), None);
        let mut result = 5 as *mut c_void;
        assert_fails(
            hilo_join(t, HILO_FOREVER, &mut result),
            HILO_ESTATE,
            "cannot join thread before it is started",
        );
        assert_eq!(result, 5 as *mut c_void);
        assert_eq!(hilo_release(t), HILO_OK);

        unsafe extern "C-unwind" fn join_self(_: *mut c_void) -> *mut c_void {
            let rc = hilo_join(hilo_current(), HILO_FOREVER, ptr::null_mut());
            assert_eq!(last_error(), "cannot join current thread");
            rc as isize as *mut c_void
        }
        let t = started(Some(join_self), ptr::null_mut(), None);
        assert_eq!(join(t) as isize as i32, HILO_EDEADLK);
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

#[test]
fn many_joiners_get_the_same_result() {
    common::limited(120, "its waits and joins to end", || {
        let gate = Arc::new(Gate::default());
        unsafe extern "C-unwind" fn gated_value(arg: *mut c_void) -> *mut c_void {
            // SAFETY: a Gate that outlives the thread.
            unsafe { &*(arg as *const Gate) }.wait();
            0xbeef as *mut c_void
        }
        let t = started(Some(gated_value), Arc::as_ptr(&gate) as *mut c_void, None);
        let joiners: Vec<_> = (0..4)
            .map(|_| {
                let (tx, rx) = std::sync::mpsc::channel();
                let joiner = std::thread::spawn(move || {
                    tx.send(gettid()).unwrap();
                    let mut result = ptr::null_mut();
                    let rc = hilo_join(t, SOON, &mut result);
                    (rc, result as usize)
                });
                wait_until_blocked(rx.recv().unwrap(), "a joiner blocked in hilo_join");
                joiner
            })
            .collect();
        gate.open();
        for j in joiners {
            assert_eq!(j.join().unwrap(), (HILO_OK, 0xbeef));
        }
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

#[test]
fn joining_a_dummy_is_a_state_error_and_joining_main_waits_for_exit() {
    common::limited(120, "its waits and joins to end", || {
        let dummy = std::thread::spawn(|| hilo_current()).join().unwrap();
        // The dummy left the registry when its thread ended.
        assert_eq!(hilo_is_alive(dummy), HILO_ESRCH);
        let (tx, rx) = std::sync::mpsc::channel();
        let gate = Arc::new(Gate::default());
        let g = gate.clone();
        let foreign = std::thread::spawn(move || {
            tx.send(hilo_current()).unwrap();
            g.wait();
        });
        let dummy = rx.recv().unwrap();
        assert_eq!(hilo_is_alive(dummy), 1);
        assert_eq!(hilo_is_daemon(dummy), 1);
        assert_fails(
            hilo_join(dummy, HILO_FOREVER, ptr::null_mut()),
            HILO_ESTATE,
            "cannot join a dummy thread",
        );
        gate.open();
        foreign.join().unwrap();
        // The process is not exiting: a join of the main thread times out.
        assert_fails(
            hilo_join(hilo_main_thread(), 0.02, ptr::null_mut()),
            HILO_ETIMEDOUT,
            "timed out",
        );
    })
}

#[test]
fn daemon_flag_is_inherited_and_fixed_at_start() {
    common::limited(120, "its waits and joins to end", || {
        // The test harness's threads are not hilo's: they count as daemons.
        let t = create(Some(return_arg), ptr::null_mut(), None);
        assert_eq!(hilo_is_daemon(t), 1);
        assert_eq!(hilo_set_daemon(t, false), HILO_OK);
        assert_eq!(hilo_is_daemon(t), 0);

        // A non-daemon hilo thread creates non-daemons, a daemon one daemons.
        unsafe extern "C-unwind" fn child_daemon(_: *mut c_void) -> *mut c_void {
            let mut c = 0;
            hilo_create(Some(return_arg), ptr::null_mut(), ptr::null(), &mut c);
            let daemon = hilo_is_daemon(c);
            hilo_release(c);
            daemon as isize as *mut c_void
        }
        let parent = create(Some(child_daemon), ptr::null_mut(), None);
        hilo_set_daemon(parent, false);
        hilo_start(parent);
        assert_eq!(join(parent) as isize, 0);
        let parent2 = create(Some(child_daemon), ptr::null_mut(), None);
        hilo_set_daemon(parent2, true);
        hilo_start(parent2);
        assert_eq!(join(parent2) as isize, 1);

        assert_eq!(hilo_start(t), HILO_OK);
        assert_fails(
            hilo_set_daemon(t, true),
            HILO_ESTATE,
            "cannot set daemon status of active thread",
        );
        join(t);
        assert_fails(
            hilo_set_daemon(t, true),
            HILO_ESTATE,
            "cannot set daemon status of active thread",
        );
        assert_eq!(hilo_is_daemon(t), 0);
        assert_fails(
            hilo_set_daemon(hilo_main_thread(), true),
            HILO_ESTATE,
            "cannot set daemon status of active thread",
        );
        assert_eq!(hilo_is_daemon(hilo_main_thread()), 0);
        for h in [t, parent, parent2] {
            assert_eq!(hilo_release(h), HILO_OK);
        }
    })
}

#[test]
fn a_released_handle_is_invalid_everywhere() {
    common::limited(120, "its waits and joins to end", || {
        let t = started(Some(return_arg), ptr::null_mut(), Some("Gone"));
        join(t);
        assert_eq!(hilo_release(t), HILO_OK);
        let no = "no such thread: the handle was never issued or has been released";
        let mut buf = [0i8; 8];
        let name = CString::new("x").unwrap();
        assert_fails(hilo_release(t), HILO_ESRCH, no);
        assert_fails(hilo_start(t), HILO_ESRCH, no);
        assert_fails(hilo_join(t, 0.0, ptr::null_mut()), HILO_ESRCH, no);
        assert_fails(hilo_is_alive(t), HILO_ESRCH, no);
        assert_fails(hilo_is_daemon(t), HILO_ESRCH, no);
        assert_fails(hilo_set_daemon(t, true), HILO_ESRCH, no);
        assert_fails(hilo_set_name(t, name.as_ptr()), HILO_ESRCH, no);
        assert_fails(hilo_get_name(t, buf.as_mut_ptr(), 8), HILO_ESRCH, no);
        assert_eq!(hilo_native_id(t), i64::from(HILO_ESRCH));
        // Handles no thread of this test binary can hold while other tests run
        // in parallel: `t + 1` could be another test's live thread (the next
        // slot), so the same generation at an index far past any slot in use.
        let far_index = t | 0xFF_FFFF;
        for random in [0u64, 1, 0xdead_beef, u64::MAX, far_index, t ^ (1 << 40)] {
            if random == hilo_main_thread() {
                continue;
            }
            assert_eq!(hilo_is_alive(random), HILO_ESRCH, "{random:#x}");
        }
    })
}

#[test]
fn a_released_running_thread_runs_to_its_end() {
    common::limited(120, "its waits and joins to end", || {
        let gate = Arc::new(Gate::default());
        let done = Arc::new(Gate::default());
        unsafe extern "C-unwind" fn wait_then_signal(arg: *mut c_void) -> *mut c_void {
            // SAFETY: a pair of Gates that outlives the thread.
            let (gate, done) = unsafe { &*(arg as *const (Arc<Gate>, Arc<Gate>)) };
            gate.wait();
            done.open();
            ptr::null_mut()
        }
        let pair = Box::new((gate.clone(), done.clone()));
        let t = started(
            Some(wait_then_signal),
            &*pair as *const _ as *mut c_void,
            None,
        );
        let tid = hilo_native_id(t);
        assert_eq!(hilo_release(t), HILO_OK);
        assert_eq!(hilo_is_alive(t), HILO_ESRCH);
        // Still counted and listed while it runs (as in Python).
        assert!(listed().contains(&t));
        gate.open();
        done.wait(); // it ran on after the release
                     // Its OS thread has ended (so it has left its trampoline, and no longer
                     // touches the pair) once the kernel no longer lists it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(SOON);
        while std::path::Path::new(&format!("/proc/self/task/{tid}")).exists() {
            assert!(
                std::time::Instant::now() < deadline,
                "the released thread {tid} never ended after its target returned"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        drop(pair);
    })
}

#[test]
fn releasing_main_or_a_dummy_is_a_state_error() {
    common::limited(120, "its waits and joins to end", || {
        assert_fails(
            hilo_release(hilo_main_thread()),
            HILO_ESTATE,
            "cannot release the main thread",
        );
        assert_fails(
            hilo_release(hilo_current()),
            HILO_ESTATE,
            "cannot release a dummy thread (a thread hilo did not create)",
        );
        assert_eq!(hilo_is_alive(hilo_current()), 1);
    })
}

#[test]
fn an_unstarted_thread_is_simply_discarded() {
    common::limited(120, "its waits and joins to end", || {
        let t = create(Some(return_arg), ptr::null_mut(), None);
        assert_eq!(hilo_release(t), HILO_OK);
        assert_eq!(hilo_start(t), HILO_ESRCH);
    })
}

// ---- 3. Names and identity --------------------------------------------

#[test]
fn get_name_follows_snprintf_rules() {
    common::limited(120, "its waits and joins to end", || {
        let t = create(Some(return_arg), ptr::null_mut(), Some("Servicio"));
        assert_eq!(hilo_get_name(t, ptr::null_mut(), 0), 8);
        let mut small = [0x7fi8; 5];
        assert_eq!(hilo_get_name(t, small.as_mut_ptr(), 5), 8);
        assert_eq!(&small.map(|c| c as u8), b"Serv\0");
        let mut one = [0x7fi8; 1];
        assert_eq!(hilo_get_name(t, one.as_mut_ptr(), 1), 8);
        assert_eq!(one[0], 0);
        let mut exact = [0x7fi8; 9];
        assert_eq!(hilo_get_name(t, exact.as_mut_ptr(), 9), 8);
        assert_eq!(&exact.map(|c| c as u8), b"Servicio\0");
        assert_fails(
            hilo_get_name(t, ptr::null_mut(), 4),
            HILO_EINVAL,
            "buf (with a non-zero size) must not be NULL",
        );
        assert_fails(
            hilo_set_name(t, ptr::null()),
            HILO_EINVAL,
            "name must not be NULL",
        );
        assert_eq!(name_of(t), "Servicio");
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

#[test]
fn names_of_any_length_are_kept_whole() {
    common::limited(120, "its waits and joins to end", || {
        let long = "n".repeat(100_000);
        let t = create(Some(return_arg), ptr::null_mut(), Some(&long));
        assert_eq!(hilo_get_name(t, ptr::null_mut(), 0), 100_000);
        let empty = CString::new("").unwrap();
        assert_eq!(hilo_set_name(t, empty.as_ptr()), HILO_OK);
        assert_eq!(hilo_get_name(t, ptr::null_mut(), 0), 0);
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

#[test]
fn the_os_name_follows_the_name_cut_at_a_character() {
    common::limited(120, "its waits and joins to end", || {
        let gate = Arc::new(Gate::default());
        // 14 ASCII bytes then a 2-byte character: 15 bytes would split it.
        let t = gated_thread(&gate, Some("abcdefghijklmnñopq"));
        let tid = hilo_native_id(t);
        assert!(tid > 0);
        wait_until_blocked(tid, "the thread blocked at its gate");
        assert_eq!(os_comm(tid), "abcdefg..nñopq");
        let renamed = CString::new("Renombrado").unwrap();
        assert_eq!(hilo_set_name(t, renamed.as_ptr()), HILO_OK);
        assert_eq!(os_comm(tid), "Renombrado");
        assert_eq!(name_of(t), "Renombrado");
        gate.open();
        join(t);
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

/// Names longer than the kernel's 15 bytes that differ only in their
/// number get different OS names (/proc/self/task/*/comm, what `top -H`
/// and gdb show), set by the thread at its start and by a rename while it
/// runs.
#[test]
fn os_names_of_long_names_keep_the_distinguishing_number() {
    common::limited(120, "its waits and joins to end", || {
        let gate = Arc::new(Gate::default());
        let workers: Vec<hilo_thread_t> = (10..13)
            .map(|n| gated_thread(&gate, Some(&format!("connection-worker-{n}"))))
            .collect();
        let mut comms = Vec::new();
        for &t in &workers {
            wait_until_blocked(hilo_native_id(t), "the worker blocked at its gate");
            comms.push(os_comm(hilo_native_id(t)));
        }
        assert_eq!(
            comms,
            ["connect..ker-10", "connect..ker-11", "connect..ker-12"]
        );
        let renamed = CString::new("MyAllocationWorkerThread#4411").unwrap();
        assert_eq!(hilo_set_name(workers[0], renamed.as_ptr()), HILO_OK);
        assert_eq!(os_comm(hilo_native_id(workers[0])), "MyAlloc..d#4411");
        assert_eq!(name_of(workers[0]), "MyAllocationWorkerThread#4411");
        gate.open();
        for t in workers {
            join(t);
            assert_eq!(hilo_release(t), HILO_OK);
        }
    })
}

#[test]
fn current_name_is_the_threads_name_and_follows_renames() {
    common::limited(120, "its waits and joins to end", || {
        unsafe extern "C-unwind" fn names(arg: *mut c_void) -> *mut c_void {
            // SAFETY: a Gate that outlives the thread.
            let gate = unsafe { &*(arg as *const Gate) };
            let before = current_name();
            let again = current_name();
            gate.wait();
            let after = current_name();
            Box::into_raw(Box::new((before, again, after))).cast()
        }
        let gate = Arc::new(Gate::default());
        let t = started(
            Some(names),
            Arc::as_ptr(&gate) as *mut c_void,
            Some("Worker"),
        );
        // Rename while it runs: once it has read its first name twice and is
        // blocked at its gate.
        while os_comm(hilo_native_id(t)) != "Worker" {
            std::thread::yield_now();
        }
        wait_until_blocked(hilo_native_id(t), "the thread blocked at its gate");
        let new = CString::new("Servicio").unwrap();
        assert_eq!(hilo_set_name(t, new.as_ptr()), HILO_OK);
        gate.open();
        // SAFETY: the target returned a boxed tuple.
        let seen = unsafe { Box::from_raw(join(t) as *mut (String, String, String)) };
        assert_eq!(*seen, ("Worker".into(), "Worker".into(), "Servicio".into()));
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

#[test]
fn a_foreign_thread_is_a_dummy_with_a_default_name() {
    common::limited(120, "its waits and joins to end", || {
        std::thread::spawn(|| {
            let name = current_name();
            let n: u64 = name
                .strip_prefix("Dummy-")
                .unwrap_or_else(|| panic!("{name}"))
                .parse()
                .unwrap();
            assert!(n >= 1);
            let me = hilo_current();
            assert_ne!(me, 0);
            assert_eq!(hilo_current(), me);
            assert_eq!(name_of(me), name);
            assert_eq!(hilo_is_alive(me), 1);
            assert_eq!(hilo_is_daemon(me), 1);
            // SAFETY: gettid has no preconditions.
            assert_eq!(hilo_native_id(me), i64::from(unsafe { libc::gettid() }));
            assert!(listed().contains(&me));
            me
        })
        .join()
        .unwrap();
    })
}

#[test]
fn main_thread_is_mainthread() {
    common::limited(120, "its waits and joins to end", || {
        let main = hilo_main_thread();
        assert_ne!(main, 0);
        assert_eq!(hilo_main_thread(), main);
        assert_eq!(name_of(main), "MainThread");
        assert_eq!(hilo_is_alive(main), 1);
        assert_eq!(hilo_is_daemon(main), 0);
        // SAFETY: getpid has no preconditions.
        assert_eq!(hilo_native_id(main), i64::from(unsafe { libc::getpid() }));
        assert!(listed().contains(&main));
        assert_ne!(hilo_current(), main, "test threads are not the main thread");
    })
}

#[test]
fn native_id_is_zero_before_start_and_kept_after_the_end() {
    common::limited(120, "its waits and joins to end", || {
        let t = create(Some(report_tid), ptr::null_mut(), None);
        assert_eq!(hilo_native_id(t), 0);
        hilo_start(t);
        let tid = hilo_native_id(t);
        assert!(tid > 0);
        assert_eq!(join(t) as i64, tid);
        assert_eq!(hilo_native_id(t), tid);
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

#[test]
fn enumerate_lists_started_unfinished_threads_only() {
    common::limited(120, "its waits and joins to end", || {
        let gate = Arc::new(Gate::default());
        let unstarted = create(Some(return_arg), ptr::null_mut(), None);
        let running = gated_thread(&gate, None);
        let now = listed();
        assert!(now.contains(&running));
        assert!(!now.contains(&unstarted));
        assert!(hilo_active_count() >= 2);
        // A short buffer gets what fits; the count is still the whole count.
        let mut one = [0u64; 1];
        let n = hilo_enumerate(one.as_mut_ptr(), 1);
        assert!(n >= 2);
        assert_ne!(one[0], 0);
        assert!(hilo_enumerate(ptr::null_mut(), 0) >= 2);
        gate.open();
        join(running);
        assert!(!listed().contains(&running));
        assert_eq!(hilo_release(running), HILO_OK);
        assert_eq!(hilo_release(unstarted), HILO_OK);
    })
}

/// A released thread that still runs is counted and listed (as Python
/// counts a thread whose object was dropped); its listed handle answers
/// `HILO_ESRCH`, and it leaves the list when it ends. The count is the
/// length of the list taken in the same state.
#[test]
fn released_threads_that_still_run_are_counted_and_listed() {
    common::limited(120, "its waits and joins to end", || {
        unsafe extern "C-unwind" fn own_handle_then_gate(arg: *mut c_void) -> *mut c_void {
            // SAFETY: a Gate that outlives the thread (the test waits for
            // the thread to leave the list before it drops the gate).
            let gate = unsafe { &*(arg as *const Gate) };
            OWN.store(hilo_current(), std::sync::atomic::Ordering::SeqCst);
            gate.wait();
            ptr::null_mut()
        }
        static OWN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let gate = Arc::new(Gate::default());
        let t = started(
            Some(own_handle_then_gate),
            Arc::as_ptr(&gate) as *mut c_void,
            Some("released-worker"),
        );
        wait_until_blocked(hilo_native_id(t), "the worker blocked at its gate");
        assert_eq!(hilo_release(t), HILO_OK);
        let now = listed();
        assert!(now.contains(&t), "released and running: listed");
        assert_eq!(OWN.load(std::sync::atomic::Ordering::SeqCst), t);
        assert!(hilo_active_count() >= 2);
        assert_fails(
            hilo_is_alive(t),
            HILO_ESRCH,
            "no such thread: the handle was never issued or has been released",
        );
        assert_eq!(hilo_get_name(t, ptr::null_mut(), 0), HILO_ESRCH);
        assert_eq!(hilo_join(t, 0.0, ptr::null_mut()), HILO_ESRCH);
        gate.open();
        while listed().contains(&t) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    })
}

// ---- 4. Stack size, version -------------------------------------------

#[test]
fn stack_size_is_checked_and_used() {
    common::limited(120, "its waits and joins to end", || {
        assert_eq!(hilo_get_stack_size(), 0);
        assert_fails(
            hilo_set_stack_size(32 * 1024 - 1),
            HILO_EINVAL,
            "size not valid: 32767 bytes (0 for the default, or at least 32768)",
        );
        assert_eq!(hilo_get_stack_size(), 0, "unchanged by a refused size");
        assert_eq!(hilo_set_stack_size(64 * 1024 + 1), HILO_OK);
        assert_eq!(hilo_get_stack_size(), 64 * 1024 + 1);
        unsafe extern "C-unwind" fn stack_bytes(_: *mut c_void) -> *mut c_void {
            let mut attr = std::mem::MaybeUninit::<libc::pthread_attr_t>::uninit();
            let mut size = 0usize;
            // SAFETY: attr is initialised by pthread_getattr_np and destroyed.
            unsafe {
                libc::pthread_getattr_np(libc::pthread_self(), attr.as_mut_ptr());
                libc::pthread_attr_getstacksize(attr.as_ptr(), &mut size);
                libc::pthread_attr_destroy(attr.as_mut_ptr());
            }
            size as *mut c_void
        }
        let t = started(Some(stack_bytes), ptr::null_mut(), None);
        // Rounded up to a page.
        assert_eq!(join(t) as usize, 68 * 1024);

        // One thread's own size, between create and start, wins over the
        // process-wide one; 0 gives it the process-wide one back.
        let own = create(Some(stack_bytes), ptr::null_mut(), None);
        assert_fails(
            hilo_set_thread_stack_size(own, 32 * 1024 - 1),
            HILO_EINVAL,
            "size not valid: 32767 bytes (0 for the default, or at least 32768)",
        );
        assert_eq!(hilo_set_thread_stack_size(own, 128 * 1024 + 1), HILO_OK);
        let back = create(Some(stack_bytes), ptr::null_mut(), None);
        assert_eq!(hilo_set_thread_stack_size(back, 128 * 1024), HILO_OK);
        assert_eq!(hilo_set_thread_stack_size(back, 0), HILO_OK);
        assert_eq!(hilo_start(own), HILO_OK);
        assert_eq!(hilo_start(back), HILO_OK);
        assert_eq!(join(own) as usize, 132 * 1024);
        assert_eq!(join(back) as usize, 68 * 1024);
        // Started (even finished), the main thread, unknown handles.
        for started in [own, back, hilo_main_thread()] {
            assert_fails(
                hilo_set_thread_stack_size(started, 64 * 1024),
                HILO_ESTATE,
                "cannot set stack size of active thread",
            );
        }
        assert_eq!(hilo_release(own), HILO_OK);
        assert_eq!(hilo_release(back), HILO_OK);
        assert_fails(
            hilo_set_thread_stack_size(own, 64 * 1024),
            HILO_ESRCH,
            "no such thread: the handle was never issued or has been released",
        );
        assert_eq!(hilo_set_stack_size(0), HILO_OK);
        assert_eq!(hilo_get_stack_size(), 0);
        assert_eq!(hilo_release(t), HILO_OK);
    })
}

#[test]
fn version_matches_cargo_toml() {
    common::limited(120, "its waits and joins to end", || {
        // SAFETY: static, never NULL.
        let v = unsafe { CStr::from_ptr(hilo_version()) }.to_str().unwrap();
        assert_eq!(v, env!("CARGO_PKG_VERSION"));
        assert_eq!(
            v,
            format!("{HILO_VERSION_MAJOR}.{HILO_VERSION_MINOR}.{HILO_VERSION_PATCH}")
        );
    })
}
