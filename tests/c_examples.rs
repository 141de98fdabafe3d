//! Every C example in c_examples/ builds with -Werror against the library
//! cargo built for this run, and prints what it should.

mod common;

use common::{compile_c, root, run_with_limit, stdout_of, Link};

fn run_example(name: &str) -> String {
    let program = compile_c(
        &root().join("c_examples").join(format!("{name}.c")),
        Link::Shared,
    );
    let out = run_with_limit(&program, &[], 60);
    assert!(
        out.status.success(),
        "{name}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_of(&out)
}

fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort_unstable();
    lines
}

#[test]
fn workers() {
    assert_eq!(run_example("01_workers"), "Estoy trabajando...\n".repeat(3));
}

#[test]
fn pool() {
    assert_eq!(
        run_example("11_pool"),
        "Worker: 0\nWorker: 1\nWorker: 2\nWorker: 3\nWorker: 4\ndone callbacks run: 1\n"
    );
}

#[test]
fn names() {
    let out = run_example("02_names");
    // The order between threads varies; each thread's own order does not.
    assert_eq!(
        sorted_lines(&out),
        [
            "Servicio Deteniendo",
            "Servicio Lanzado",
            "Thread-1 Deteniendo",
            "Thread-1 Lanzado",
            "Worker Deteniendo",
            "Worker Lanzado",
        ]
    );
    for name in ["Servicio", "Worker", "Thread-1"] {
        let start = out.find(&format!("{name} Lanzado")).unwrap();
        let stop = out.find(&format!("{name} Deteniendo")).unwrap();
        assert!(start < stop, "{name}: {out}");
    }
}

#[test]
fn daemon_is_not_waited_for() {
    assert_eq!(run_example("03_daemon"), "[DEBUG] - Daemon     : Lanzado\n");
}

#[test]
fn daemon_joined() {
    let out = run_example("04_daemon_join");
    assert_eq!(
        sorted_lines(&out),
        [
            "Daemon vivo: False",
            "Daemon vivo: True",
            "[DEBUG] - Daemon     : Deteniendo",
            "[DEBUG] - Daemon     : Lanzado",
        ]
    );
    assert!(out.ends_with("[DEBUG] - Daemon     : Deteniendo\nDaemon vivo: False\n"));
}

#[test]
fn join_timeout() {
    assert_eq!(
        run_example("05_join_timeout"),
        "timed out at least once before it finished\nSlow returned 144\n"
    );
}

#[test]
fn enumerate() {
    assert_eq!(
        run_example("06_enumerate"),
        "active_count: 4\n  MainThread daemon=0 alive=1\n  Descarga   daemon=0 alive=1\n  \
         Indice     daemon=0 alive=1\n  Limpieza   daemon=0 alive=1\nafter join, active_count: 1\n"
    );
}

#[test]
fn every_numbered_example_has_a_test_here() {
    let mut examples: Vec<String> = std::fs::read_dir(root().join("c_examples"))
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".c") && n.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    examples.sort();
    let this = std::fs::read_to_string(root().join("tests/c_examples.rs")).unwrap();
    for example in examples {
        let stem = example.trim_end_matches(".c");
        assert!(
            this.contains(&format!("\"{stem}\"")),
            "c_examples/{example} is not run by tests/c_examples.rs"
        );
    }
}

#[test]
fn the_readme_example_builds_and_runs() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme.find("```c\n").expect("a C block in the README") + 5;
    let len = readme[start..].find("```").unwrap();
    let source = common::scratch().join("readme_example.c");
    std::fs::write(&source, &readme[start..start + len]).unwrap();
    let program = compile_c(&source, Link::Static);
    let out = run_with_limit(&program, &[], 60);
    assert!(out.status.success());
    assert_eq!(stdout_of(&out), "Worker Lanzado\n");
}

#[test]
fn heartbeat_stopped_by_an_event() {
    assert_eq!(
        run_example("07_heartbeat"),
        "[DEBUG] - Heartbeat  : beat 1\n[DEBUG] - Heartbeat  : beat 2\n\
         [DEBUG] - Heartbeat  : beat 3\n[DEBUG] - Heartbeat  : stopping after beat 3\n\
         heartbeat alive after stop: 0\n"
    );
}

#[test]
fn producer_consumer_on_a_condition() {
    assert_eq!(
        run_example("08_producer_consumer"),
        "produced 100 items 1..100, consumed 100 with sum 5050 (expected 5050)\n"
    );
}

#[test]
fn barrier_phases() {
    assert_eq!(
        run_example("09_barrier_phases"),
        "parties: 4, start: 1 2 3 4\nphase 1:   7   6   9   8\nphase 2:  21  22  23  24\n\
         phase 3:  67  66  69  68\nphases: 3, broken: 0\n"
    );
}

#[test]
fn cxx_raii_wrapper() {
    // The C++ example, built as C++11 with -Werror against the same library.
    let source = root().join("c_examples/cxx_raii.cpp");
    let program = common::scratch().join("cxx_raii");
    let dir = common::lib_dir();
    let out = std::process::Command::new("c++")
        .args([
            "-std=c++11",
            "-Wall",
            "-Wextra",
            "-Wpedantic",
            "-Werror",
            "-I",
        ])
        .arg(root().join("include"))
        .arg(&source)
        .arg("-o")
        .arg(&program)
        .arg(format!("-L{}", dir.display()))
        .arg(format!("-Wl,-rpath,{}", dir.display()))
        .args(["-lhilo", "-lpthread"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = run_with_limit(&program, &[], 60);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        stdout_of(&run),
        "after join(0.05): finished=0 alive=1\nslow slept 300 ms\n\
         after join(): finished=1 alive=0\ndefault name is Thread-N: 1\n\
         daemon (inherited from main): 0\nhello from Greeter\n\
         second start: not allowed in the current state: threads can only be started once\n\
         moved keeps the name: Greeter\nalive at the end: 1\n"
    );
}

#[test]
fn stuck() {
    let out = run_example("10_stuck");
    // The watchdog's dump, copied by main: both threads, what each waits
    // for and who holds it, their stacks, the deadlock.
    assert!(out.starts_with("hilo thread dump: pid "), "{out}");
    for (name, other, function) in [
        ("transfer", "audit", "transfer"),
        ("audit", "transfer", "audit"),
    ] {
        let at = out.find(&format!("\n\"{name}\" 0x")).expect(&out);
        let block = &out[at..at + out[at..].find("\n\n").expect(&out)];
        assert!(
            block.contains(&format!(", held by \"{other}\" 0x")),
            "{block}"
        );
        assert!(
            block.contains(&format!(" {function} (10_stuck.c:")),
            "{block}"
        );
    }
    assert!(out.contains("\nFound one deadlock:\n"), "{out}");
    assert!(out.ends_with("the program can still exit.\n"), "{out}");
}

/// `sh c_examples/cycle_runs.sh BENCH RUNS`, within `limit_secs`.
fn cycle_runs(bench: &std::ffi::OsStr, runs: &str, limit_secs: u64) -> std::process::Output {
    let mut command = std::process::Command::new("sh");
    command
        .arg(root().join("c_examples").join("cycle_runs.sh"))
        .arg(bench)
        .arg(runs);
    common::run_command_with_limit(command, limit_secs)
}

/// The benchmark builds with -Werror (without GLib and libuv too: their rows
/// print "-"), and `make bench-cycle`'s script runs it as separate pinned
/// processes and summarises both spawn-cycle rows. Nothing here is timed:
/// the figures only have to be there and be positive.
#[test]
fn bench_cycle_runs_summarise_both_rows() {
    let bench = compile_c(&root().join("c_examples").join("bench.c"), Link::Shared);
    let out = cycle_runs(bench.as_os_str(), "3", 120);
    let text = stdout_of(&out);
    assert!(out.status.success(), "{:?}\n{text}", out.status);
    assert!(text.contains("3 runs of 'bench --cycle'"), "{text}");
    for what in [
        "create+start+join+release vs create+join ",
        "the same vs create+join, named by hand ",
    ] {
        let line = text
            .lines()
            .find(|line| line.starts_with(what))
            .unwrap_or_else(|| panic!("no row {what:?}:\n{text}"));
        // hilo, anchor and ratio: a median, then its (lowest-highest).
        let figures: Vec<f64> = line[what.len()..]
            .split(|c: char| c.is_whitespace() || "()-".contains(c))
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse()
                    .unwrap_or_else(|_| panic!("{part:?} in {line}"))
            })
            .collect();
        assert_eq!(figures.len(), 9, "{line}");
        for (i, triple) in figures.chunks(3).enumerate() {
            let (median, low, high) = (triple[0], triple[1], triple[2]);
            assert!(
                low > 0.0 && low <= median && median <= high,
                "column {i}: {line}"
            );
        }
    }
}

/// A count that is not a whole number is refused with a message.
#[test]
fn bench_cycle_runs_refuse_a_bad_count() {
    let out = cycle_runs("/bin/true".as_ref(), "many", 30);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("RUNS must be a whole number"));
}

/// A benchmark that fails (here one that prints nothing and answers 1) is
/// reported with its status and fails the summary, rather than giving an
/// empty table that looks like a run.
#[test]
fn bench_cycle_runs_report_a_failing_bench() {
    let out = cycle_runs("false".as_ref(), "2", 30);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'false --cycle' failed (status 1) in run 1"),
        "{stderr}"
    );
    assert!(!stdout_of(&out).contains("median"), "{out:?}");
}
