//! C programs compiled with -Werror against the library, run in child
//! processes, their status and output checked: exact process-wide semantics
//! and process-exit behaviour (the header's thread and exit sections).

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use common::{compile_c, root, run_with_limit, stdout_of, Link};

fn program(name: &str, link: Link) -> PathBuf {
    compile_c(&root().join("tests/c").join(format!("{name}.c")), link)
}

fn exit_cases() -> &'static PathBuf {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| program("exit_cases", Link::Shared))
}

/// Runs one exit case; returns (status code, stdout).
fn exit_case(case: &str) -> (i32, String) {
    let out = run_with_limit(exit_cases(), &[case], 30);
    let code = out.status.code().expect("exited, not killed by a signal");
    assert!(
        out.stderr.is_empty(),
        "{case}: stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (code, stdout_of(&out))
}

#[test]
fn a_working_non_daemon_thread_is_waited_for_when_main_returns() {
    let (code, out) = exit_case("nondaemon");
    assert_eq!(code, 0);
    assert_eq!(out, "main returns\nworker done\n");
}

#[test]
fn a_sleeping_daemon_thread_is_not_waited_for() {
    // The daemon sleeps 60 s; the run limit is 30 s.
    let (code, out) = exit_case("daemon");
    assert_eq!(code, 0);
    assert_eq!(out, "main returns\n");
}

#[test]
fn a_non_daemon_grandchild_started_during_exit_is_waited_for() {
    let (code, out) = exit_case("grandchild");
    assert_eq!(code, 0);
    assert_eq!(out, "main returns\nchild done\ngrandchild done\n");
}

#[test]
fn exit_from_a_thread_keeps_its_status_and_waits_for_the_others() {
    // Main's join of the exiting thread returns once exit() has begun; main
    // then joins the worker. The exit waits for the worker, not for main
    // (as in C, exit() from a thread ends main too), so main's last line
    // may or may not come before the process ends; if main gets to return,
    // its exit() blocks, and the first one's status stands.
    let (code, out) = exit_case("exit_from_thread");
    assert_eq!(code, 3);
    assert!(
        out == "worker done\n" || out == "worker done\nmain returns\n",
        "{out:?}"
    );
}

/// The flake of the test above, made certain (glibc before 2.41 does not
/// serialise `exit()`). The first `exit()` (status 3) runs all of hilo's
/// hooks, then a handler registered before hilo's that takes 300 ms; main
/// returns meanwhile, and its `exit(0)` found no hilo hook left to block it
/// and reached `_exit(0)` first. Under load the same happened when the
/// first exit was merely preempted past hilo's last hook. Main's exit now
/// blocks in a thread-local destructor of its own, which glibc runs before
/// the handlers (src/exit.rs `main_exits`).
#[test]
fn a_later_exit_after_the_first_ran_hilos_hooks_keeps_the_first_status() {
    let mut command = std::process::Command::new(exit_cases());
    command
        .arg("exit_from_thread")
        .env("EXIT_CASES_MAIN_DELAY_MS", "50")
        .env("EXIT_CASES_SLOW_HANDLER_MS", "300");
    let out = common::run_command_with_limit(command, 30);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn exit_from_a_non_daemon_thread_does_not_wait_for_itself() {
    let (code, out) = exit_case("exit_from_nondaemon_skips_itself");
    assert_eq!(code, 3);
    assert_eq!(out, "");
}

#[test]
fn a_thread_joining_the_main_thread_returns_when_exit_begins() {
    let (code, out) = exit_case("join_main");
    assert_eq!(code, 0);
    assert_eq!(out, "main returns\njoined main: 0\n");
}

#[test]
fn forty_busy_daemon_threads_do_not_hold_the_exit() {
    let (code, out) = exit_case("busy_daemons");
    assert_eq!(code, 0);
    assert_eq!(out, "main returns\n");
}

#[test]
fn underscore_exit_waits_for_nothing() {
    let (code, out) = exit_case("underscore_exit");
    assert_eq!(code, 5);
    assert_eq!(out, "main calls _exit\n");
}

/// `pthread_cancel` of a hilo thread is a documented end: destructors,
/// `HILO_OK` with `PTHREAD_CANCELED` to every join, and the exit wait does
/// not wait for a cancelled non-daemon thread (the 30 s limit would end a
/// process whose exit hung).
#[test]
fn pthread_cancel_ends_a_hilo_thread_and_joins_give_pthread_canceled() {
    let (code, out) = exit_case("cancel");
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "local destructor ran: Cancelled\n\
         event wait with a cancel pending: 1\n\
         join: 0, PTHREAD_CANCELED: yes, alive: 0\n\
         joined again: 0, PTHREAD_CANCELED: yes\n\
         main returns\n"
    );
}

#[test]
fn shutdown_waits_now_and_is_idempotent() {
    let (code, out) = exit_case("shutdown");
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "worker done\nshutdown: 0, worker alive: 0, daemon alive: 1\nagain: 0\n"
    );
}

/// `hilo_abandon_exit_wait` from another thread while main's exit waits
/// for a non-daemon thread that never ends: the wait returns and the
/// process ends with main's status; later calls are fine, `hilo_shutdown()`
/// returns at once, and a start after the exit began is refused (an
/// `atexit` handler that runs after hilo's tries one). Without the wake-up
/// the exit would hang until the harness's limit.
#[test]
fn abandoning_the_exit_wait_ends_the_process_with_mains_status() {
    let (code, out) = exit_case("abandon_nondaemon");
    assert_eq!(code, 4);
    assert_eq!(out, format!("main returns 4\n{ABANDONED}"));
}

/// The same while main's exit waits for an executor's worker stuck in its
/// task with more work queued: that wait gives up too.
#[test]
fn abandoning_the_exit_wait_stops_waiting_for_executor_work() {
    let (code, out) = exit_case("abandon_executor");
    assert_eq!(code, 4);
    assert_eq!(out, format!("main returns 4\n{ABANDONED}"));
}

/// A `hilo_shutdown()` in progress returns once another thread gives the
/// wait up (the thread it waited for still runs); the exit waits for
/// nothing either.
#[test]
fn abandoning_the_exit_wait_ends_a_shutdown_in_progress() {
    let (code, out) = exit_case("abandon_shutdown");
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "abandon: 0\nagain: 0\nshutdown after it: 0, within 10 s: yes\n\
         shutdown: 0, stuck alive: 1\nmain returns 0\n\
         start after the exit began: -3 can't create new thread at interpreter shutdown\n"
    );
}

const ABANDONED: &str = "\
abandon: 0
again: 0
shutdown after it: 0, within 10 s: yes
start after the exit began: -3 can't create new thread at interpreter shutdown
";

const SEMANTICS: &str = "\
main: MainThread
active: 1
in thread: Thread-1
in thread: Named
in thread: Thread-2
main's threads are daemons: 0
foreign: Dummy-3
foreign is daemon: 1, alive: 1
created by foreign: daemon 1
dummy after its end: -2
next default: Thread-5
pthread_exit: value 0x5a, alive 0
joined again: value 0x5a
released and running: active 2, enumerate 2, listed 1, alive -2
after its end: active 1, enumerate 1
in thread: Servicio-de-nombres-largos
active at the end: 1
read before the call: -2 no such thread: the handle was never issued or has been released
read after the call: -3 cannot set daemon status of active thread
same pointer: yes, now: cannot set daemon status of active thread
main's OS name unchanged: yes
";

#[test]
fn process_semantics_with_the_static_library() {
    let out = run_with_limit(&program("semantics", Link::Static), &[], 30);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_of(&out), SEMANTICS);
}

#[test]
fn process_semantics_with_the_shared_library() {
    let out = run_with_limit(&program("semantics", Link::Shared), &[], 30);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_of(&out), SEMANTICS);
}

/// `hilo_set_interruptible` (tests/c/interruptible.c): every kind of
/// blocking wait, untimed and timed (an executor shutdown's wait for its
/// workers, untimed), returns `HILO_EINTR` with its text when a handler
/// without `SA_RESTART` ran during it, leaving the object as it was; a
/// thread that did not ask keeps waiting, then succeeds. `hilo_executor_free`
/// keeps waiting in an interruptible thread too, and its queued work runs.
#[test]
fn interruptible_waits_end_on_a_handler_without_sa_restart() {
    interruptible_case("norestart");
}

/// As above with an `SA_RESTART` handler (what glibc's `signal()` installs),
/// which the kernel would silently restart an untimed futex wait for.
#[test]
fn interruptible_waits_end_on_a_handler_with_sa_restart() {
    interruptible_case("restart");
}

fn interruptible_case(mode: &str) {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    let program = PROGRAM.get_or_init(|| program("interruptible", Link::Shared));
    let out = run_with_limit(program, &[mode], 60);
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "{mode}: {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout_of(&out), "cases: 37, failures: 0\n", "{mode}");
}

/// The harness itself: a program that hangs, with a child that hangs and
/// holds its output pipes, is killed with its child at the limit, so a
/// hang fails its test instead of stalling the whole run.
#[test]
fn the_harness_ends_a_hung_program_and_what_it_forked() {
    let started = std::time::Instant::now();
    let outcome = std::panic::catch_unwind(|| {
        run_with_limit(
            std::path::Path::new("/bin/sh"),
            &["-c", "echo started; sleep 600 & sleep 600"],
            1,
        )
    });
    let message = match outcome {
        Ok(out) => panic!("the hung program was not reported: {out:?}"),
        Err(payload) => payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default(),
    };
    assert!(message.contains("still ran after 1s"), "{message}");
    assert!(message.contains("stdout:\nstarted\n"), "{message}");
    // Without the group kill, collecting the output waits for the
    // background sleep: 600 s.
    assert!(started.elapsed() < std::time::Duration::from_secs(300));
}
