//! Walks every exported function with bad input: NULL pointers, handle 0,
//! random handles, released handles, NaN and huge timeouts, zero-size
//! buffers, names of 0 and 100,000 bytes. Each call must answer one of its
//! documented statuses and set a message; none may crash.

mod common;

use std::ffi::{c_void, CStr, CString};
use std::ptr;

use common::last_error;
use hilo::*;

unsafe extern "C-unwind" fn echo(arg: *mut c_void) -> *mut c_void {
    arg
}

#[track_caller]
fn expect(rc: i32, allowed: &[i32]) {
    assert!(allowed.contains(&rc), "status {rc} not in {allowed:?}");
    if rc < 0 {
        assert!(!last_error().is_empty(), "status {rc} without a message");
    }
}

/// Handles that name no thread: 0, random values, a released handle.
fn bad_handles() -> Vec<hilo_thread_t> {
    let mut released = 0;
    assert_eq!(
        hilo_create(Some(echo), ptr::null_mut(), ptr::null(), &mut released),
        HILO_OK
    );
    assert_eq!(hilo_release(released), HILO_OK);
    let mut handles = vec![
        0,
        1,
        2,
        0xffff_ffff,
        u64::MAX,
        u64::MAX - 1,
        1 << 63,
        released,
    ];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        handles.push(x);
    }
    let main = hilo_main_thread();
    handles.retain(|&h| h != main);
    handles
}

const TIMEOUTS: [f64; 7] = [
    f64::NAN,
    -f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    1e300,
    f64::MAX,
    f64::MIN_POSITIVE,
];

/// A `hilo_cond_wait_for` predicate that is never true.
unsafe extern "C" fn never(_: *mut c_void) -> bool {
    false
}

#[test]
fn every_thread_function_survives_bad_handles() {
    common::limited(120, "its waits and joins to end", || {
        let long = CString::new("x".repeat(100_000)).unwrap();
        let empty = CString::new("").unwrap();
        let mut buf = [0i8; 16];
        for h in bad_handles() {
            expect(hilo_start(h), &[HILO_ESRCH]);
            for timeout in TIMEOUTS {
                let mut result = 7 as *mut c_void;
                let rc = hilo_join(h, timeout, &mut result);
                expect(rc, &[HILO_ESRCH, HILO_EINVAL]);
                assert_eq!(result, 7 as *mut c_void);
            }
            expect(hilo_join(h, 0.0, ptr::null_mut()), &[HILO_ESRCH]);
            expect(hilo_is_alive(h), &[HILO_ESRCH]);
            expect(hilo_is_daemon(h), &[HILO_ESRCH]);
            expect(hilo_set_daemon(h, true), &[HILO_ESRCH]);
            expect(hilo_release(h), &[HILO_ESRCH]);
            expect(hilo_set_name(h, long.as_ptr()), &[HILO_ESRCH]);
            expect(hilo_set_name(h, empty.as_ptr()), &[HILO_ESRCH]);
            expect(hilo_set_name(h, ptr::null()), &[HILO_EINVAL, HILO_ESRCH]);
            expect(hilo_get_name(h, buf.as_mut_ptr(), buf.len()), &[HILO_ESRCH]);
            expect(hilo_get_name(h, ptr::null_mut(), 0), &[HILO_ESRCH]);
            expect(
                hilo_get_name(h, ptr::null_mut(), 16),
                &[HILO_EINVAL, HILO_ESRCH],
            );
            let tid = hilo_native_id(h);
            expect(i32::try_from(tid).unwrap(), &[HILO_ESRCH]);
        }
    })
}

#[test]
fn every_thread_function_survives_null_pointers_and_odd_sizes() {
    common::limited(120, "its waits and joins to end", || {
        let mut t = 0;
        expect(
            hilo_create(None, ptr::null_mut(), ptr::null(), &mut t),
            &[HILO_EINVAL],
        );
        expect(
            hilo_create(None, ptr::null_mut(), ptr::null(), ptr::null_mut()),
            &[HILO_EINVAL],
        );
        expect(
            hilo_create(Some(echo), ptr::null_mut(), ptr::null(), ptr::null_mut()),
            &[HILO_EINVAL],
        );
        assert_eq!(t, 0);
        // Names of 0 and 100,000 bytes are fine, in create and in set_name.
        let long = CString::new("ñ".repeat(50_000)).unwrap();
        let empty = CString::new("").unwrap();
        for name in [&long, &empty] {
            expect(
                hilo_create(Some(echo), ptr::null_mut(), name.as_ptr(), &mut t),
                &[HILO_OK],
            );
            expect(hilo_set_name(t, long.as_ptr()), &[HILO_OK]);
            expect(hilo_set_name(t, empty.as_ptr()), &[HILO_OK]);
            expect(hilo_set_name(t, long.as_ptr()), &[HILO_OK]);
            expect(hilo_start(t), &[HILO_OK]);
            for size in [0usize, 1, 2, 3] {
                let mut small = [0x55i8; 4];
                let ptr = if size == 0 {
                    ptr::null_mut()
                } else {
                    small.as_mut_ptr()
                };
                expect(hilo_get_name(t, ptr, size), &[100_000]);
                if size > 0 {
                    assert_eq!(small[size - 1], 0, "NUL-terminated at size {size}");
                    assert_eq!(small[3], 0x55, "nothing written past size {size}");
                }
            }
            for timeout in TIMEOUTS {
                let rc = hilo_join(t, timeout, ptr::null_mut());
                expect(rc, &[HILO_OK, HILO_EINVAL]);
                assert_eq!(rc == HILO_EINVAL, timeout.is_nan());
            }
            expect(hilo_release(t), &[HILO_OK]);
        }
        for size in [
            0usize,
            1,
            31 * 1024,
            32 * 1024 - 1,
            usize::MAX,
            usize::MAX / 2,
        ] {
            let rc = hilo_set_stack_size(size);
            expect(rc, &[HILO_OK, HILO_EINVAL]);
            assert_eq!(rc == HILO_OK, size == 0, "size {size}");
            for t in [0, u64::MAX, hilo_current()] {
                expect(
                    hilo_set_thread_stack_size(t, size),
                    &[HILO_EINVAL, HILO_ESRCH, HILO_ESTATE],
                );
            }
        }
        assert_eq!(hilo_get_stack_size(), 0);
        // A bool has no bad value; both are answered, and the setting read
        // back (a thread of the test harness: not interruptible after).
        expect(hilo_set_interruptible(true), &[HILO_OK]);
        expect(hilo_is_interruptible(), &[1]);
        expect(hilo_set_interruptible(false), &[HILO_OK]);
        expect(hilo_is_interruptible(), &[0]);
        expect(
            hilo_enumerate(ptr::null_mut(), 0) as i32,
            &[1, 2, 3, 4, 5, 6, 7, 8],
        );
        expect(i32::from(hilo_enumerate(ptr::null_mut(), 100) >= 1), &[1]);
        for fd in [-1, -100, i32::MAX, 1 << 20] {
            expect(hilo_dump(fd), &[HILO_EINVAL]);
            expect(hilo_dump_on_signal(libc::SIGUSR2, fd), &[HILO_EINVAL]);
            expect(hilo_watchdog(1.0, fd), &[HILO_EINVAL]);
        }
        for signo in [-1, i32::MIN, i32::MAX, 65, libc::SIGKILL, libc::SIGSEGV] {
            expect(hilo_dump_on_signal(signo, 2), &[HILO_EINVAL]);
        }
        expect(hilo_watchdog(f64::NAN, 2), &[HILO_EINVAL]);
        // Off, whatever the fd.
        expect(hilo_watchdog(0.0, -1), &[HILO_OK]);
        expect(hilo_watchdog(-1.0, -1), &[HILO_OK]);
        expect(hilo_dump_on_signal(0, -1), &[HILO_OK]);
        for status in [i32::MIN, -11, -1000, 1, 2, i32::MAX] {
            // SAFETY: never NULL.
            let text = unsafe { CStr::from_ptr(hilo_strerror(status)) };
            assert_eq!(text.to_str().unwrap(), "unknown status code");
        }
    })
}

#[test]
fn calls_from_a_thread_hilo_did_not_create_are_answered() {
    common::limited(120, "its waits and joins to end", || {
        std::thread::spawn(|| {
            let me = hilo_current();
            expect(hilo_release(me), &[HILO_ESTATE]);
            expect(hilo_start(me), &[HILO_ESTATE]);
            expect(hilo_set_daemon(me, false), &[HILO_ESTATE]);
            expect(hilo_join(me, 0.0, ptr::null_mut()), &[HILO_EDEADLK]);
            expect(
                hilo_join(hilo_main_thread(), 0.0, ptr::null_mut()),
                &[HILO_ETIMEDOUT],
            );
            expect(hilo_release(hilo_main_thread()), &[HILO_ESTATE]);
        })
        .join()
        .unwrap();
    })
}

/// The functions include/hilo.h declares, each with its parameter list,
/// read from the header with its comments and preprocessor lines removed.
fn declared_functions() -> Vec<(String, String)> {
    let header = std::fs::read_to_string(common::root().join("include/hilo.h")).unwrap();
    let mut code = String::new();
    let mut rest = header.as_str();
    while let Some(start) = rest.find("/*") {
        code.push_str(&rest[..start]);
        let end = rest[start..].find("*/").expect("comments are closed");
        rest = &rest[start + end + 2..];
    }
    code.push_str(rest);
    let code: String = code
        .lines()
        .filter(|line| !line.trim_start().starts_with('#') && !line.contains("extern \"C\""))
        .collect::<Vec<_>>()
        .join("\n");
    code.split(';')
        .filter(|decl| !decl.contains("typedef") && !decl.contains('{'))
        .filter_map(|decl| {
            let open = decl.find('(')?;
            let name_start = decl[..open].rfind("hilo_")?;
            let close = decl.rfind(')')?;
            let params = decl[open + 1..close].split_whitespace().collect::<Vec<_>>();
            Some((decl[name_start..open].to_string(), params.join(" ")))
        })
        .collect()
}

/// Every exported function that takes an argument is walked here with bad
/// input: a function added to the header without a bad-input case fails
/// this test. (Those taking no argument have no bad input to give.)
#[test]
fn every_exported_function_with_arguments_is_walked() {
    common::limited(120, "its waits and joins to end", || {
        let declared = declared_functions();
        assert!(
            declared.len() > 50,
            "the header parse found only {declared:?}"
        );
        assert!(declared
            .iter()
            .any(|(name, params)| name == "hilo_create" && params.starts_with("hilo_fn")));
        let source = std::fs::read_to_string(common::root().join("tests/bad_input.rs")).unwrap();
        let missing: Vec<&str> = declared
            .iter()
            .filter(|(_, params)| params != "void")
            .map(|(name, _)| name.as_str())
            .filter(|name| !source.contains(&format!("{name}(")))
            .collect();
        assert!(
            missing.is_empty(),
            "exported functions this file never calls with bad input: {missing:?}"
        );
    })
}

#[test]
fn every_sync_function_survives_null_objects() {
    common::limited(120, "its waits and joins to end", || {
        let null_ok = [HILO_EINVAL];
        expect(hilo_event_set(ptr::null_mut()), &null_ok);
        expect(hilo_event_clear(ptr::null_mut()), &null_ok);
        expect(hilo_event_is_set(ptr::null()), &null_ok);
        expect(hilo_lock_release(ptr::null_mut()), &null_ok);
        expect(hilo_lock_locked(ptr::null()), &null_ok);
        expect(hilo_rlock_release(ptr::null_mut()), &null_ok);
        expect(hilo_rlock_locked(ptr::null()), &null_ok);
        expect(hilo_cond_release(ptr::null_mut()), &null_ok);
        expect(hilo_cond_notify(ptr::null_mut(), 1), &null_ok);
        expect(hilo_cond_notify_all(ptr::null_mut()), &null_ok);
        expect(hilo_sem_release(ptr::null_mut(), 1), &null_ok);
        expect(
            i32::try_from(hilo_sem_value(ptr::null())).unwrap(),
            &null_ok,
        );
        expect(hilo_barrier_abort(ptr::null_mut()), &null_ok);
        expect(hilo_barrier_reset(ptr::null_mut()), &null_ok);
        expect(hilo_barrier_n_waiting(ptr::null()), &null_ok);
        expect(hilo_barrier_parties(ptr::null()), &null_ok);
        expect(hilo_barrier_broken(ptr::null()), &null_ok);
        expect(hilo_local_set(ptr::null_mut(), 1 as *mut c_void), &null_ok);
        assert!(hilo_local_get(ptr::null()).is_null());
        for timeout in TIMEOUTS.iter().copied().chain([0.0, -1.0]) {
            for blocking in [true, false] {
                expect(
                    hilo_lock_acquire(ptr::null_mut(), blocking, timeout),
                    &null_ok,
                );
                expect(
                    hilo_rlock_acquire(ptr::null_mut(), blocking, timeout),
                    &null_ok,
                );
                expect(
                    hilo_cond_acquire(ptr::null_mut(), blocking, timeout),
                    &null_ok,
                );
                expect(
                    hilo_sem_acquire(ptr::null_mut(), blocking, timeout),
                    &null_ok,
                );
            }
            expect(hilo_event_wait(ptr::null_mut(), timeout), &null_ok);
            expect(hilo_cond_wait(ptr::null_mut(), timeout), &null_ok);
            expect(
                hilo_cond_wait_for(ptr::null_mut(), Some(never), ptr::null_mut(), timeout),
                &null_ok,
            );
            expect(hilo_barrier_wait(ptr::null_mut(), timeout), &null_ok);
        }
        assert!(hilo_cond_new_with_lock(ptr::null_mut()).is_null());
        assert!(hilo_cond_new_with_rlock(ptr::null_mut()).is_null());
        // Freeing NULL is fine.
        hilo_event_free(ptr::null_mut());
        hilo_lock_free(ptr::null_mut());
        hilo_rlock_free(ptr::null_mut());
        hilo_cond_free(ptr::null_mut());
        hilo_sem_free(ptr::null_mut());
        hilo_barrier_free(ptr::null_mut());
        hilo_local_free(ptr::null_mut());
    })
}

#[test]
fn every_sync_function_survives_bad_arguments_on_live_objects() {
    common::limited(120, "its waits and joins to end", || {
        let e = hilo_event_new();
        let l = hilo_lock_new();
        let r = hilo_rlock_new();
        let c = hilo_cond_new();
        let s = hilo_sem_new_bounded(1);
        let b = hilo_barrier_new(2, None, ptr::null_mut(), HILO_FOREVER);
        let local = hilo_local_new(None);
        for object in [
            e.cast::<c_void>(),
            l.cast(),
            r.cast(),
            c.cast(),
            s.cast(),
            b.cast(),
            local.cast(),
        ] {
            assert!(!object.is_null());
        }
        // A set event answers every wait at once, however long its timeout.
        expect(hilo_event_set(e), &[HILO_OK]);
        for timeout in TIMEOUTS {
            let nan = timeout.is_nan();
            expect(
                hilo_event_wait(e, timeout),
                if nan { &[HILO_EINVAL] } else { &[1] },
            );
            if timeout < 0.0 {
                continue; // negative means "no timeout": a valid non-blocking call
            }
            // Non-blocking with a timeout is refused; NaN is refused either way.
            expect(hilo_lock_acquire(l, false, timeout), &[HILO_EINVAL]);
            expect(hilo_rlock_acquire(r, false, timeout), &[HILO_EINVAL]);
            expect(hilo_sem_acquire(s, false, timeout), &[HILO_EINVAL]);
            expect(hilo_cond_acquire(c, false, timeout), &[HILO_EINVAL]);
            // Waiting or notifying without holding the condition's lock.
            expect(hilo_cond_wait(c, timeout), &[HILO_ESTATE, HILO_EINVAL]);
            expect(
                hilo_cond_wait_for(c, Some(never), ptr::null_mut(), timeout),
                &[HILO_ESTATE, HILO_EINVAL],
            );
            // No predicate: refused whatever else is wrong.
            expect(
                hilo_cond_wait_for(c, None, ptr::null_mut(), timeout),
                &[HILO_EINVAL],
            );
        }
        expect(hilo_cond_notify(c, 0), &[HILO_ESTATE]);
        expect(hilo_cond_notify(c, usize::MAX), &[HILO_ESTATE]);
        expect(hilo_cond_notify_all(c), &[HILO_ESTATE]);
        expect(hilo_cond_release(c), &[HILO_ESTATE]);
        expect(hilo_lock_release(l), &[HILO_ESTATE]);
        expect(hilo_rlock_release(r), &[HILO_ESTATE]);
        expect(hilo_sem_release(s, 0), &[HILO_EINVAL]);
        expect(hilo_sem_release(s, u32::MAX), &[HILO_ESTATE]);
        assert_eq!(hilo_sem_value(s), 1, "value unchanged by a refused release");
        expect(hilo_barrier_wait(b, f64::NAN), &[HILO_EINVAL]);
        expect(hilo_barrier_wait(b, 0.0), &[HILO_EBROKEN]);
        expect(hilo_barrier_broken(b), &[1]);
        expect(hilo_barrier_reset(b), &[HILO_OK]);
        assert!(hilo_barrier_new(0, None, ptr::null_mut(), HILO_FOREVER).is_null());
        assert!(hilo_barrier_new(1, None, ptr::null_mut(), f64::NAN).is_null());
        let zero = hilo_sem_new(0);
        assert!(!zero.is_null(), "a semaphore may start at 0");
        expect(hilo_sem_acquire(zero, false, HILO_FOREVER), &[0]);
        hilo_sem_free(zero);
        expect(hilo_local_set(local, ptr::null_mut()), &[HILO_OK]);
        assert!(hilo_local_get(local).is_null());

        // Timers: NULL function or out, NaN interval, bad handles to cancel.
        let mut t = 0;
        expect(
            hilo_timer_create(1.0, None, ptr::null_mut(), &mut t),
            &[HILO_EINVAL],
        );
        expect(
            hilo_timer_create(1.0, Some(echo), ptr::null_mut(), ptr::null_mut()),
            &[HILO_EINVAL],
        );
        expect(
            hilo_timer_create(f64::NAN, Some(echo), ptr::null_mut(), &mut t),
            &[HILO_EINVAL],
        );
        assert_eq!(t, 0);
        for h in bad_handles() {
            expect(hilo_timer_cancel(h), &[HILO_ESRCH]);
        }
        expect(hilo_timer_cancel(hilo_main_thread()), &[HILO_EINVAL]);
        for interval in [f64::INFINITY, 1e300, -5.0, 0.0] {
            expect(
                hilo_timer_create(interval, Some(echo), ptr::null_mut(), &mut t),
                &[HILO_OK],
            );
            expect(hilo_timer_cancel(t), &[HILO_OK]);
            expect(hilo_start(t), &[HILO_OK]);
            expect(hilo_timer_cancel(t), &[HILO_OK]);
            expect(hilo_join(t, HILO_FOREVER, ptr::null_mut()), &[HILO_OK]);
            expect(hilo_release(t), &[HILO_OK]);
        }

        hilo_event_free(e);
        hilo_lock_free(l);
        hilo_rlock_free(r);
        hilo_cond_free(c);
        hilo_sem_free(s);
        hilo_barrier_free(b);
        hilo_local_free(local);
    })
}

unsafe extern "C-unwind" fn ignore_future(_: *mut hilo_future, _: *mut c_void) {}

#[test]
fn every_executor_function_survives_bad_input() {
    common::limited(120, "its waits and the workers to end", || {
        let null_ok = [HILO_EINVAL];
        let mut f: *mut hilo_future = ptr::null_mut();
        let mut value = ptr::null_mut();
        expect(
            hilo_executor_submit(ptr::null_mut(), Some(echo), ptr::null_mut(), &mut f),
            &null_ok,
        );
        assert!(f.is_null());
        expect(
            hilo_executor_shutdown(ptr::null_mut(), true, true),
            &null_ok,
        );
        hilo_executor_free(ptr::null_mut());
        expect(
            hilo_future_result(ptr::null_mut(), 0.0, &mut value),
            &null_ok,
        );
        expect(hilo_future_done(ptr::null()), &null_ok);
        expect(hilo_future_running(ptr::null()), &null_ok);
        expect(hilo_future_cancelled(ptr::null()), &null_ok);
        expect(hilo_future_cancel(ptr::null_mut()), &null_ok);
        expect(
            hilo_future_add_done_callback(ptr::null_mut(), Some(ignore_future), ptr::null_mut()),
            &null_ok,
        );
        hilo_future_free(ptr::null_mut());
        expect(hilo_wait(ptr::null(), 3, 0.0, HILO_ALL_COMPLETED), &null_ok);

        // A 100,000-byte prefix, an empty one, the default; a huge limit.
        let long = CString::new("x".repeat(100_000)).unwrap();
        let empty = CString::new("").unwrap();
        for (prefix, limit) in [
            (long.as_ptr(), 2),
            (empty.as_ptr(), 0),
            (ptr::null(), usize::MAX),
        ] {
            let ex = hilo_executor_new(limit, prefix);
            assert!(!ex.is_null());
            expect(
                hilo_executor_submit(ex, None, ptr::null_mut(), &mut f),
                &null_ok,
            );
            expect(
                hilo_executor_submit(ex, Some(echo), ptr::null_mut(), ptr::null_mut()),
                &null_ok,
            );
            expect(
                hilo_executor_submit(ex, Some(echo), 7 as *mut c_void, &mut f),
                &[HILO_OK],
            );
            for timeout in TIMEOUTS {
                let rc = hilo_future_result(f, timeout, &mut value);
                if timeout.is_nan() {
                    expect(rc, &null_ok);
                } else {
                    expect(rc, &[HILO_OK, HILO_ETIMEDOUT]);
                }
                let fs = [f];
                for when in [HILO_FIRST_COMPLETED, HILO_ALL_COMPLETED, 0, -1, 3] {
                    let rc = hilo_wait(fs.as_ptr(), 1, timeout, when);
                    if timeout.is_nan() || !(1..=2).contains(&when) {
                        expect(rc, &null_ok);
                    } else {
                        expect(rc, &[HILO_OK, HILO_ETIMEDOUT]);
                    }
                }
            }
            expect(hilo_future_result(f, -1.0, ptr::null_mut()), &[HILO_OK]);
            expect(
                hilo_future_add_done_callback(f, None, ptr::null_mut()),
                &null_ok,
            );
            expect(hilo_future_cancel(f), &[0]);
            hilo_future_free(f);
            expect(hilo_executor_shutdown(ex, false, true), &[HILO_OK]);
            expect(hilo_executor_shutdown(ex, true, false), &[HILO_OK]);
            expect(
                hilo_executor_submit(ex, Some(echo), ptr::null_mut(), &mut f),
                &[HILO_ESTATE],
            );
            hilo_executor_free(ex);
        }
    })
}
