//! The thread dump of a stuck program (tests/c/dumps.c, each case in a child
//! process): what each thread waits for and who holds it, stacks with the
//! program's own function names, deadlocks found; RLock and join cycles
//! refused at once; dumps on a signal and from the watchdog.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use common::{compile_c, root, run_command_with_limit, stdout_of, Link};

fn program() -> &'static PathBuf {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| compile_c(&root().join("tests/c/dumps.c"), Link::Shared))
}

/// Runs a case; its stdout, after checking it exited 0.
fn run(case: &str, env: &[(&str, &str)]) -> String {
    let mut command = Command::new(program());
    command.arg(case);
    for (key, value) in env {
        command.env(key, value);
    }
    let out = run_command_with_limit(command, 60);
    let text = stdout_of(&out);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{case}: stdout:\n{text}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The value after `key ` on the line that starts with it.
fn value<'a>(text: &'a str, key: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{key} ")))
        .unwrap_or_else(|| panic!("no line '{key} ...' in:\n{text}"))
}

/// The block of the dump about the thread named `name`: its header line up
/// to the next empty line.
fn block<'a>(dump: &'a str, name: &str) -> &'a str {
    let start = dump
        .find(&format!("\n\"{name}\" 0x"))
        .unwrap_or_else(|| panic!("no thread {name} in:\n{dump}"))
        + 1;
    let end = dump[start..].find("\n\n").map_or(dump.len(), |e| start + e);
    &dump[start..end]
}

/// The address in "for KIND 0x...," or "for KIND 0x... (" of a thread's
/// wait line.
fn waited_address(thread: &str, kind: &str) -> String {
    let at = thread
        .find(&format!(" for {kind} 0x"))
        .unwrap_or_else(|| panic!("no wait for a {kind} in:\n{thread}"))
        + kind.len()
        + 6;
    thread[at..].split([',', ' ']).next().unwrap().to_string()
}

#[test]
fn an_ab_ba_deadlock_on_two_locks_is_shown_with_holders_stacks_and_the_cycle() {
    let out = run("locks", &[]);
    let alpha = block(&out, "alpha");
    let beta = block(&out, "beta");
    let (b, a) = (waited_address(alpha, "lock"), waited_address(beta, "lock"));
    assert_ne!(a, b);
    assert!(
        alpha.contains(&format!("for lock {b}, held by \"beta\" 0x")),
        "{alpha}"
    );
    assert!(
        beta.contains(&format!("for lock {a}, held by \"alpha\" 0x")),
        "{beta}"
    );
    // The test's own (static) functions, found in the symbol table.
    assert!(alpha.contains(" alpha_takes_a_then_b "), "{alpha}");
    assert!(beta.contains(" beta_takes_b_then_a "), "{beta}");
    assert!(alpha.contains(" hilo_lock_acquire "), "{alpha}");
    let deadlock = &out[out.find("Found one deadlock:").expect(&out)..];
    let lines: Vec<&str> = deadlock.lines().skip(1).take(2).collect();
    assert!(
        lines[0].starts_with("    \"alpha\" 0x")
            && lines[0].contains(&format!(" waits for lock {b} held by \"beta\" 0x")),
        "{deadlock}"
    );
    assert!(
        lines[1].starts_with("    \"beta\" 0x")
            && lines[1].contains(&format!(" waits for lock {a} held by \"alpha\" 0x")),
        "{deadlock}"
    );
}

#[test]
fn an_ab_ba_cycle_on_two_rlocks_is_refused_at_once_naming_both_threads() {
    let out = run("rlocks", &[]);
    assert_eq!(value(&out, "status"), "-4", "{out}"); // HILO_EDEADLK
    let message = value(&out, "message");
    assert!(
        message.starts_with("cannot acquire rlock 0x")
            && message.ends_with(
                ": it would close a cycle of waits \
                 (beta waits for alpha's rlock, alpha waits for beta's rlock)"
            ),
        "{out}"
    );
    assert_eq!(value(&out, "timed"), "-4", "{out}");
    assert!(out.contains("alpha got rb\n"), "{out}");
}

#[test]
fn a_cycle_of_a_join_and_an_rlock_wait_is_refused_from_either_side() {
    let out = run("mixed", &[]);
    let acquire = value(&out, "acquire");
    assert!(
        acquire.starts_with("-4 cannot acquire rlock 0x")
            && acquire.ends_with(
                ": it would close a cycle of waits \
                 (beta waits for alpha's rlock, alpha joins beta)"
            ),
        "{out}"
    );
    assert_eq!(
        value(&out, "join"),
        "-4 cannot join delta: it would close a cycle of waits \
         (gamma joins delta, delta waits for gamma's rlock)"
    );
}

#[test]
fn the_dump_says_what_a_thread_blocked_on_each_kind_of_object_waits_for() {
    let out = run("kinds", &[]);
    let expect = [
        ("w-lock", "for lock 0x", ", held by \"holder\" 0x"),
        ("w-rlock", "for rlock 0x", ", owned by \"holder\" 0x"),
        ("w-cond", "for condition 0x", " to be notified (its lock 0x"),
        ("w-sem", "for semaphore 0x", " (value 0)"),
        ("w-event", "for event 0x", " (not set)"),
        ("w-barrier", "for barrier 0x", " (1 of 3 parties waiting)"),
        ("w-join", "for joining thread \"w-barrier\" 0x", ""),
    ];
    for (name, what, state) in expect {
        let thread = block(&out, name);
        let wait = thread
            .lines()
            .find(|line| line.starts_with("    waiting "))
            .unwrap_or_else(|| panic!("{name} waits for nothing:\n{thread}"));
        assert!(
            wait.contains(what) && wait.contains(state),
            "{name}: {wait}"
        );
    }
    let timer = block(&out, "w-timer");
    assert!(
        timer.lines().next().unwrap().ends_with("running, timer"),
        "{timer}"
    );
    assert!(out.contains("\nNo deadlock found.\n"), "{out}");
}

#[test]
fn a_thread_blocked_on_a_future_shows_what_runs_it_and_a_cycle_through_it() {
    let out = run("futures", &[]);
    let (running, queued) = (value(&out, "running"), value(&out, "queued"));
    let wait_line = |name: &str| {
        let thread = block(&out, name);
        thread
            .lines()
            .find(|line| line.starts_with("    waiting "))
            .unwrap_or_else(|| panic!("{name} waits for nothing:\n{thread}"))
            .to_string()
    };
    let result = wait_line("w-result");
    assert!(
        result.contains(&format!(
            " s for future {running}, running in \"Pool_0\" 0x"
        )),
        "{result}"
    );
    let pending = wait_line("w-queued");
    assert!(
        pending.ends_with(&format!(" s for future {queued}, queued in Pool")),
        "{pending}"
    );
    let first = wait_line("w-first");
    assert!(
        first.ends_with(&format!(
            " s for the first of its futures to end, among them future {queued}, queued in Pool"
        )),
        "{first}"
    );
    let worker = wait_line("Pool_0");
    assert!(worker.contains(", held by \"w-result\" 0x"), "{worker}");
    let deadlock = &out[out.find("Found one deadlock:").expect(&out)..];
    let lines: Vec<&str> = deadlock.lines().skip(1).take(2).collect();
    assert!(
        lines[0].starts_with("    \"w-result\" 0x")
            && lines[0].contains(&format!(" waits for future {running} run by \"Pool_0\" 0x")),
        "{deadlock}"
    );
    assert!(
        lines[1].starts_with("    \"Pool_0\" 0x") && lines[1].contains(" held by \"w-result\" 0x"),
        "{deadlock}"
    );
}

#[test]
fn kill_quit_with_hilo_dump_signal_dumps_and_the_program_goes_on() {
    let mut child = Command::new(program())
        .arg("signal")
        .env("HILO_DUMP_SIGNAL", "QUIT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    // SAFETY: a signal to our own child.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGQUIT) }, 0);
    // The dump goes to stderr; read it up to its last line.
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut dump = String::new();
    while !dump.contains("End of hilo thread dump.\n") {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        dump.push_str(&line);
    }
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}\n{dump}");
    // read(2) went on after the signal (SA_RESTART) and got the line.
    assert_eq!(rest, "read 3\ndone\n", "{dump}");
    assert!(dump.starts_with("hilo thread dump: pid "), "{dump}");
    let main = block(&dump, "MainThread");
    assert!(main.contains(" case_signal "), "{main}");
    let sleeper = block(&dump, "sleeper");
    assert!(sleeper.contains("for event 0x"), "{sleeper}");
    assert!(dump.contains("No deadlock found."), "{dump}");
}

#[test]
fn a_signal_the_program_handles_is_refused_and_hilos_own_can_be_moved_and_removed() {
    let out = run("refuse", &[]);
    assert_eq!(
        value(&out, "usr1"),
        format!(
            "-3 signal {} already has a handler of the program's; hilo leaves it alone",
            libc::SIGUSR1
        )
    );
    assert_eq!(value(&out, "usr2"), "0");
    assert_eq!(value(&out, "usr2 again"), "0");
    assert_eq!(value(&out, "kill"), "-1");
    assert_eq!(value(&out, "bad fd"), "-1");
    assert_eq!(out.matches("hilo thread dump: pid").count(), 1, "{out}");
    assert_eq!(value(&out, "off"), "0");
    assert_eq!(value(&out, "usr1 still"), "1");
    assert_eq!(value(&out, "usr2 default"), "1");
}

#[test]
fn the_watchdog_dumps_once_for_one_stall() {
    let out = run("watchdog", &[]);
    assert_eq!(out.matches("hilo thread dump: pid").count(), 1, "{out}");
    let staller = block(&out, "staller");
    assert!(staller.contains("for event 0x"), "{staller}");
    // No second dump in the pipe (read of an empty non-blocking pipe: -1).
    assert_eq!(value(&out, "more"), "-1", "{out}");
    assert!(out.ends_with("end\n"), "{out}");
}

#[test]
fn a_dump_does_not_interrupt_an_interruptible_wait() {
    // 1: the event was set; HILO_EINTR (-10) would mean the dump's signal
    // ended the wait.
    assert_eq!(run("interruptible", &[]), "wait 1\n");
}

#[test]
fn dumps_while_threads_start_and_end_do_not_crash() {
    assert_eq!(run("churn", &[]), "ok\n");
}

/// A dump taken right after `hilo_start`, before the new thread has run, shows
/// its native id and its stack under its name. The dump read the id the
/// thread publishes as it begins, and showed 0 (and the stack again under no
/// name) in 9 of 200 rounds here.
#[test]
fn a_dump_right_after_a_start_shows_the_new_threads_native_id() {
    assert_eq!(
        run("fresh", &[]),
        "rounds that showed a started thread otherwise: 0 of 300\n"
    );
}
