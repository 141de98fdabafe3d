//! What no other thread library gives C, and the reliability promises of issue 5: join cycles,
//! fork safety, the thread dump, the OS refusing a thread.

mod common;

use std::ffi::c_void;
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use common::{compile_c, dump_text, last_error, root, run_with_limit, stdout_of, Link};
use hilo::*;

fn reliability_program() -> &'static PathBuf {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| compile_c(&root().join("tests/c/reliability.c"), Link::Static))
}

fn run_case(case: &str) -> String {
    let out = run_with_limit(reliability_program(), &[case], 120);
    assert!(
        out.status.success(),
        "{case}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_of(&out)
}

// ---- join cycles -------------------------------------------------------

/// Shared by the threads of one cycle test: their handles, and a barrier so
/// that each starts joining only when all handles are known.
struct Ring {
    handles: Vec<AtomicU64>,
    ready: Barrier,
    /// How long each thread's join waits (negative: forever).
    timeouts: Vec<f64>,
}

struct Member {
    ring: Arc<Ring>,
    index: usize,
}

/// Joins the next member of the ring; returns the join's status. The last
/// member waits until the others are blocked before it closes the cycle.
unsafe extern "C-unwind" fn join_next(arg: *mut c_void) -> *mut c_void {
    // SAFETY: a Member boxed by the test, alive until every join returned.
    let member = unsafe { &*(arg as *const Member) };
    let ring = &member.ring;
    ring.ready.wait();
    let n = ring.handles.len();
    if member.index == n - 1 {
        // Let the others block first: wait until each is in the graph, which
        // hilo_dump shows; bounded, so that a graph that never shows them
        // fails the test with the dump rather than spinning for ever.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !others_blocked(ring) {
            if Instant::now() > deadline {
                let text = format!(
                    "the other members never showed as joining in 30s:\n{}",
                    dump_text()
                );
                return Box::into_raw(Box::new((i32::MIN, text))).cast();
            }
            std::thread::yield_now();
        }
    }
    let next = ring.handles[(member.index + 1) % n].load(Ordering::SeqCst);
    let rc = hilo_join(next, ring.timeouts[member.index], ptr::null_mut());
    let text = last_error();
    Box::into_raw(Box::new((rc, text))).cast()
}

fn others_blocked(ring: &Ring) -> bool {
    let dump = dump_text();
    let n = ring.handles.len();
    (0..n - 1).all(|i| {
        let me = format!("{:#x} ", ring.handles[i].load(Ordering::SeqCst));
        let next = format!("{:#x} (", ring.handles[i + 1].load(Ordering::SeqCst));
        dump.lines()
            .any(|line| line.starts_with(&me) && line.contains(&next))
    })
}

/// How long the test waits for each member of a ring to end.
const RING_LIMIT: f64 = 30.0;

fn run_ring(names: &[&str], timeouts: &[f64]) -> Vec<(i32, String)> {
    let n = names.len();
    let ring = Arc::new(Ring {
        handles: (0..n).map(|_| AtomicU64::new(0)).collect(),
        ready: Barrier::new(n),
        timeouts: timeouts.to_vec(),
    });
    let members: Vec<Box<Member>> = (0..n)
        .map(|index| {
            Box::new(Member {
                ring: ring.clone(),
                index,
            })
        })
        .collect();
    let handles: Vec<hilo_thread_t> = names
        .iter()
        .zip(&members)
        .map(|(name, member)| {
            let name = std::ffi::CString::new(*name).unwrap();
            let mut t = 0;
            let arg = &**member as *const Member as *mut c_void;
            assert_eq!(
                hilo_create(Some(join_next), arg, name.as_ptr(), &mut t),
                HILO_OK
            );
            t
        })
        .collect();
    for (slot, &t) in ring.handles.iter().zip(&handles) {
        slot.store(t, Ordering::SeqCst);
    }
    for &t in &handles {
        assert_eq!(hilo_start(t), HILO_OK);
    }
    // Bounded joins: a cycle hilo failed to refuse leaves every member
    // blocked for ever, which fails here with what each one is joining
    // instead of hanging until CI's step limit.
    let mut results = Vec::new();
    for (&t, name) in handles.iter().zip(names) {
        let mut out = ptr::null_mut();
        let rc = hilo_join(t, RING_LIMIT, &mut out);
        if rc != HILO_OK {
            let dump = dump_text();
            // The blocked members still point at their Member: leak them.
            std::mem::forget(members);
            panic!(
                "{name} still running after {RING_LIMIT}s (join status {rc}): its join of the \
                 next member never returned, so a join cycle among {names:?} was not refused; \
                 what each thread is joining:\n{dump}"
            );
        }
        assert_eq!(hilo_release(t), HILO_OK);
        // SAFETY: join_next returned a boxed (status, text).
        results.push(*unsafe { Box::from_raw(out as *mut (i32, String)) });
    }
    drop(members);
    for (name, (rc, text)) in names.iter().zip(&results) {
        assert_ne!(*rc, i32::MIN, "{name}: {text}");
    }
    results
}

#[test]
fn a_two_thread_join_cycle_is_refused_at_once() {
    common::limited(120, "its waits and joins to end", || {
        let results = run_ring(&["Ana", "Beto"], &[HILO_FOREVER, HILO_FOREVER]);
        // Ana blocked joining Beto; Beto's join of Ana would close the cycle.
        assert_eq!(results[1].0, HILO_EDEADLK);
        assert_eq!(
            results[1].1,
            "cannot join Ana: it would close a cycle of joins (Beto joins Ana, Ana joins Beto)"
        );
        // The other join is unaffected: Beto ended, so Ana's join succeeded.
        assert_eq!(results[0].0, HILO_OK);
    })
}

#[test]
fn a_three_thread_join_cycle_is_refused_at_once() {
    common::limited(120, "its waits and joins to end", || {
        let results = run_ring(&["A", "B", "C"], &[HILO_FOREVER; 3]);
        assert_eq!(results[2].0, HILO_EDEADLK);
        assert_eq!(
            results[2].1,
            "cannot join A: it would close a cycle of joins (C joins A, A joins B, B joins C)"
        );
        assert_eq!(results[0].0, HILO_OK);
        assert_eq!(results[1].0, HILO_OK);
    })
}

#[test]
fn a_timed_join_counts_while_it_waits() {
    common::limited(120, "its waits and joins to end", || {
        let results = run_ring(&["Timed", "Closer"], &[60.0, HILO_FOREVER]);
        assert_eq!(results[1].0, HILO_EDEADLK);
        assert_eq!(results[0].0, HILO_OK);
    })
}

#[test]
fn a_timed_join_that_gave_up_leaves_no_trace() {
    common::limited(120, "its waits and joins to end", || {
        // A joins B with a short timeout and gives up; then B joins A forever:
        // no cycle, so B simply waits for A to end.
        struct Pair {
            a: AtomicU64,
            b: AtomicU64,
            a_gave_up: Barrier,
        }
        unsafe extern "C-unwind" fn a_main(arg: *mut c_void) -> *mut c_void {
            // SAFETY: the Pair outlives both threads.
            let pair = unsafe { &*(arg as *const Pair) };
            while pair.b.load(Ordering::SeqCst) == 0
                || hilo_is_alive(pair.b.load(Ordering::SeqCst)) != 1
            {
                std::thread::yield_now();
            }
            let rc = hilo_join(pair.b.load(Ordering::SeqCst), 0.05, ptr::null_mut());
            pair.a_gave_up.wait();
            // End only once B is blocked joining us, as the dump shows.
            let (a, b) = (pair.a.load(Ordering::SeqCst), pair.b.load(Ordering::SeqCst));
            let (me, joining) = (format!("{b:#x} "), format!("{a:#x} ("));
            let deadline = Instant::now() + Duration::from_secs(30);
            while !dump_text()
                .lines()
                .any(|line| line.starts_with(&me) && line.contains(&joining))
            {
                if Instant::now() > deadline {
                    return i32::MIN as isize as *mut c_void;
                }
                std::thread::yield_now();
            }
            rc as isize as *mut c_void
        }
        unsafe extern "C-unwind" fn b_main(arg: *mut c_void) -> *mut c_void {
            // SAFETY: as above.
            let pair = unsafe { &*(arg as *const Pair) };
            pair.a_gave_up.wait();
            hilo_join(pair.a.load(Ordering::SeqCst), HILO_FOREVER, ptr::null_mut()) as isize
                as *mut c_void
        }
        let pair = Box::new(Pair {
            a: AtomicU64::new(0),
            b: AtomicU64::new(0),
            a_gave_up: Barrier::new(2),
        });
        let arg = &*pair as *const Pair as *mut c_void;
        let (mut a, mut b) = (0, 0);
        assert_eq!(hilo_create(Some(a_main), arg, ptr::null(), &mut a), HILO_OK);
        assert_eq!(hilo_create(Some(b_main), arg, ptr::null(), &mut b), HILO_OK);
        pair.a.store(a, Ordering::SeqCst);
        pair.b.store(b, Ordering::SeqCst);
        assert_eq!(hilo_start(a), HILO_OK);
        assert_eq!(hilo_start(b), HILO_OK);
        let (mut ra, mut rb) = (ptr::null_mut(), ptr::null_mut());
        assert_eq!(hilo_join(a, RING_LIMIT, &mut ra), HILO_OK, "A never ended");
        assert_eq!(
            hilo_join(b, RING_LIMIT, &mut rb),
            HILO_OK,
            "B never ended: its join of A is still blocked; dump:\n{}",
            dump_text()
        );
        assert_ne!(
            ra as isize as i32,
            i32::MIN,
            "B never showed as joining A in the dump within 30s"
        );
        assert_eq!(ra as isize as i32, HILO_ETIMEDOUT);
        assert_eq!(rb as isize as i32, HILO_OK);
        hilo_release(a);
        hilo_release(b);
    })
}

#[test]
fn the_main_thread_can_close_a_cycle_too() {
    common::limited(120, "its waits and joins to end", || {
        assert_eq!(
            run_case("main_cycle"),
            "cannot join Waiter: it would close a cycle of joins \
         (MainThread joins Waiter, Waiter joins MainThread)\n"
        );
    })
}

// ---- fork ----------------------------------------------------------------

#[test]
fn fork_from_the_main_thread() {
    common::limited(120, "its waits and joins to end", || {
        let out = run_case("fork_from_main");
        assert!(out.ends_with("fork from main: ok\n"), "{out}");
        assert!(out.contains("running, main"), "{out}");
    })
}

#[test]
fn fork_from_another_thread_makes_it_the_childs_main_thread() {
    common::limited(120, "its waits and joins to end", || {
        let out = run_case("fork_from_thread");
        assert!(out.ends_with("fork from thread: ok\n"), "{out}");
        let row = out.lines().find(|l| l.contains("Forker")).unwrap();
        assert!(row.contains("running, main"), "{out}");
    })
}

#[test]
fn fork_while_other_threads_use_hilo_leaves_every_lock_usable() {
    common::limited(120, "its waits and joins to end", || {
        assert_eq!(run_case("fork_under_load"), "30 forks under load: ok\n");
    })
}

// ---- dump ----------------------------------------------------------------

#[test]
fn dump_lists_every_known_thread() {
    common::limited(120, "its waits and joins to end", || {
        let out = run_case("dump");
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("hilo thread dump: pid "), "{out}");
        assert!(lines[0].ends_with(", 3 threads"), "{out}");
        let header: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            header,
            ["HANDLE", "NAME", "DAEMON", "STATE", "NATIVE_ID", "JOINING"]
        );
        let main: Vec<&str> = lines[2].split("  ").filter(|c| !c.is_empty()).collect();
        assert_eq!(main[1].trim(), "MainThread");
        assert_eq!(main[2].trim(), "no");
        assert_eq!(main[3].trim(), "running, main");
        assert!(lines[3].contains("Volcado") && lines[3].contains("running"));
        assert!(lines[4].contains("SinEmpezar") && lines[4].contains("unstarted"));
    })
}

#[test]
fn dump_shows_what_a_thread_is_joining() {
    common::limited(120, "its waits and joins to end", || {
        let results = {
            // A two-member ring whose dump check (in join_next) only passes when
            // the dump shows the first member joining the second.
            run_ring(&["Mostrado", "Cerrador"], &[HILO_FOREVER, HILO_FOREVER])
        };
        assert_eq!(results[1].0, HILO_EDEADLK);
    })
}

#[test]
fn dump_to_a_bad_fd_is_invalid() {
    common::limited(120, "its waits and joins to end", || {
        assert_eq!(hilo_dump(-1), HILO_EINVAL);
        assert_eq!(last_error(), "fd -1 is not an open file descriptor");
        assert_eq!(hilo_dump(1 << 20), HILO_EINVAL);
        assert_eq!(
            last_error(),
            format!("fd {} is not an open file descriptor", 1 << 20)
        );
    })
}

// ---- the OS refuses a thread ---------------------------------------------

#[test]
fn a_refused_start_leaves_the_thread_unstarted_and_startable() {
    common::limited(120, "its waits and joins to end", || {
        assert_eq!(
            run_case("os_refusal"),
            "can't start new thread: Resource temporarily unavailable (os error 11)\nactive: 1\n"
        );
    })
}
