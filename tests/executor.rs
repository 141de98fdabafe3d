//! The thread pool with futures: tests/c/executor.c's cases, each in its own
//! process (exit and fork need one), their output checked line by line;
//! and the same API called from Rust in this process.

mod common;

use std::ffi::c_void;
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use common::{compile_c, root, run_with_limit, stdout_of, Link};
use hilo::*;

fn program() -> &'static PathBuf {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| compile_c(&root().join("tests/c/executor.c"), Link::Shared))
}

/// Runs one case; it must exit 0 with nothing on stderr. Returns stdout.
fn case(name: &str) -> String {
    let out = run_with_limit(program(), &[name], 120);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{name}: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        stdout_of(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_of(&out)
}

#[test]
fn python_semantics_translated() {
    assert_eq!(
        case("semantics"),
        "result: 0x2a, done 1, running 0, cancelled 0
worker name: Pool_
queued behind two workers: running 0, pending 1
result of running work, 0.05 s: timed out
cancel running: 0, cancel queued: 1, again: 1
cancelled: done 1, running 0, cancelled 1, result HILO_ECANCELED
callback of a cancel: 1, ran in MainThread
wait first, 0.05 s: timed out
wait first with a cancelled one: ok
wait all, 0.05 s: timed out
wait all: ok
callback of a worker: 2, ran in Pool_
callback when done: 3, ran in MainThread
at most 2 ran at once
worker threads: 2
freed before it ran, ran: 1
submit after shutdown: HILO_ESTATE (cannot schedule new futures after shutdown), out untouched 1
shutdown again: ok
default name: ThreadPoolExecutor-..._0: yes
cancel_futures: queued cancelled 1, running cancelled 0
"
    );
}

#[test]
fn misuse_answers_with_a_status() {
    assert_eq!(
        case("misuse"),
        "NULL executor: -1 -1 1
NULL fn, out: -1 -1
NULL future: -1 -1 -1 -1 -1 -1
NaN timeout: -1, NULL callback: -1, NULL result pointer: 0
wait: mixed executors -1 (hilo_wait: the futures come from different executors), NULL entry -1, NULL array -1, bad return_when -1, none 0
work submitted by a callback: 7
callback freeing its future at once: 0
shutdown with wait from its own worker: 0
double shutdown: 0 0
"
    );
}

#[test]
fn producers_submitting_cancelling_and_waiting_at_once() {
    assert_eq!(
        case("stress"),
        "futures: 12800, each ended once: yes, ran + cancelled: 12800, some of each: yes\n"
    );
}

#[test]
fn shutdown_while_work_runs() {
    assert_eq!(
        case("shutdown_running"),
        "shutdown(wait) returned after 4 of 4, all done: 1
shutdown(no wait) returned with the work running: 1
free waited: done 1
"
    );
}

#[test]
fn the_exit_runs_queued_work_and_refuses_more() {
    assert_eq!(
        case("exit_queued"),
        "main returns
task 0
task 1
task 2
task 3
task 4
refused: cannot schedule new futures after interpreter shutdown
"
    );
}

#[test]
fn a_forked_child_gets_cancelled_futures_and_a_working_executor() {
    assert_eq!(
        case("fork"),
        "child: running future: done 1, cancelled 1, result HILO_ECANCELED
child: queued future: cancelled 1, result HILO_ECANCELED, wait 0
child: new work: ran on Forked_0
child: executor freed
child exit status: 0
parent: both ran, ran 1
"
    );
}

#[test]
fn an_interruptible_thread_s_waits_end_with_eintr() {
    assert_eq!(
        case("interrupt"),
        "result: HILO_EINTR\nwait: HILO_EINTR, done 0\nresult once set: 0\n"
    );
}

#[test]
fn a_task_that_calls_pthread_exit_ends_its_future_with_the_value() {
    // Three workers ended by their tasks, each replaced for the next work
    // (Quit_3); an executor freed with one queued, and the exit with one
    // queued, run it without hanging.
    assert_eq!(
        case("pthread_exit"),
        "result: ok 0x77, done 1, cancelled 0
callbacks: 1
again: ok 0x80
again: ok 0x81
next work: ran on Quit_3
after free: ok 0x99
main returns
"
    );
}

#[test]
fn shutdown_and_exit_wait_for_work_queued_behind_a_task_that_ends_its_worker() {
    // shutdown(wait) joined the workers it knew of, the one that
    // pthread_exit ended among them, and returned while the work behind it
    // still ran on the worker started in its place.
    assert_eq!(
        case("behind_pthread_exit"),
        "the work behind it ran
shutdown returned, work behind run: 1
main returns
and at exit
"
    );
}

#[test]
fn submits_fail_cleanly_when_memory_runs_out_and_work_again_after() {
    // Under an address-space limit the futures' blocks stop fitting: the
    // submit answers HILO_EAGAIN with a message, nothing crashes, and once
    // the futures are freed their blocks make room again.
    assert_eq!(
        case("out_of_memory"),
        "refused: HILO_EAGAIN, out of memory for a new future; after more than 100,000: yes
after freeing them: ok 0x5
"
    );
}

static RUNS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C-unwind" fn add_one(arg: *mut c_void) -> *mut c_void {
    RUNS.fetch_add(1, Ordering::SeqCst);
    (arg as usize + 1) as *mut c_void
}

#[test]
fn from_rust_results_in_submit_order_and_wait_over_many() {
    let ex = hilo_executor_new(3, c"Rusty".as_ptr());
    let mut futures = Vec::new();
    for i in 0..1000usize {
        let mut f = ptr::null_mut();
        assert_eq!(
            hilo_executor_submit(ex, Some(add_one), i as *mut c_void, &mut f),
            HILO_OK
        );
        futures.push(f);
    }
    assert_eq!(
        hilo_wait(futures.as_ptr(), futures.len(), -1.0, HILO_ALL_COMPLETED),
        HILO_OK
    );
    assert_eq!(
        hilo_wait(futures.as_ptr(), futures.len(), 0.0, HILO_FIRST_COMPLETED),
        HILO_OK
    );
    for (i, &f) in futures.iter().enumerate() {
        let mut value = ptr::null_mut();
        assert_eq!(hilo_future_done(f), 1);
        assert_eq!(hilo_future_result(f, 0.0, &mut value), HILO_OK);
        assert_eq!(value as usize, i + 1);
        hilo_future_free(f);
    }
    assert!(RUNS.load(Ordering::SeqCst) >= 1000);
    hilo_executor_free(ex);
}
