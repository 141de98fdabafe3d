//! The Python binding's tests, against the libhilo.so cargo built for this
//! test run (HILO_LIB), with its compiled module hilo._hilo built first
//! (`bindings/python/build_inplace.sh`, -Werror):
//!
//! - its unittest suite (`bindings/python/tests`, `python3 -m unittest -v`).
//!   Every test's outcome is read from the verbose output: the counts are
//!   printed as passed, skipped and failed, and each skipped test is listed
//!   by name with its reason, so a skip is never counted as a pass. That
//!   report goes straight to stderr, so it shows in every run, not only with
//!   `--nocapture`. A hung suite prints every Python thread's stack
//!   (faulthandler) and fails before the limit.
//! - CPython's own threading tests run against it as a peer
//!   (`peer_suite.py`), with CPython's count from the same run.
//! - `pip install ./bindings/python` into a fresh virtual environment.

mod common;

use std::io::Write;
use std::process::Command;
use std::sync::OnceLock;

/// Builds the binding's compiled module (hilo/_hilo*.so, next to
/// hilo/__init__.py, as `build_ext --inplace` would) from hilo/_hilo.c with
/// `-Wall -Wextra -Wpedantic -Werror`, against include/hilo.h and this run's
/// libhilo.so: once per test binary; panics with the compiler's output.
fn build_extension() {
    static BUILT: OnceLock<Result<(), String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let script = common::root().join("bindings/python/build_inplace.sh");
        let out = Command::new("sh")
            .arg(&script)
            .arg(common::lib_dir())
            .output()
            .map_err(|e| format!("run {}: {e}", script.display()))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    });
    if let Err(text) = built {
        panic!("building hilo._hilo failed:\n{text}");
    }
}

/// One test's outcome as `unittest -v` reports it.
#[derive(Debug, PartialEq)]
enum Outcome {
    Passed,
    Skipped(String),
    Failed(String),
}

/// Reads `unittest -v` output: a line `test_x (module.Class.test_x) ... ok`,
/// or the name alone on a line (a docstring or a thread's output follows),
/// with the outcome after the last " ... " of a later line, or alone on a
/// line of its own.
fn outcomes(stderr: &str) -> Vec<(String, Outcome)> {
    let mut found = Vec::new();
    let mut current: Option<String> = None;
    for line in stderr.lines() {
        if line.starts_with("test") {
            if let (Some(open), Some(close)) = (line.find(" ("), line.find(')')) {
                if open < close {
                    current = Some(line[open + 2..close].to_string());
                }
            }
        }
        let outcome = match line.rfind(" ... ") {
            Some(at) => &line[at + 5..],
            None => line,
        };
        let outcome = if outcome == "ok" {
            Outcome::Passed
        } else if let Some(reason) = outcome.strip_prefix("skipped ") {
            Outcome::Skipped(reason.trim_matches('\'').to_string())
        } else if matches!(outcome, "FAIL" | "ERROR" | "unexpected success") {
            Outcome::Failed(outcome.to_string())
        } else {
            continue;
        };
        if let Some(name) = current.take() {
            found.push((name, outcome));
        }
    }
    found
}

#[test]
fn outcomes_are_read_from_verbose_output() {
    let text = "test_a (m.C.test_a) ... ok\n\
                test_b (m.C.test_b) ... skipped 'no hilo_event_new'\n\
                test_c (m.C.test_c)\n\
                Docstring line ... FAIL\n\
                test_d (m.C.test_d) ... Exception in thread Thread-5:\n\
                Traceback (most recent call last):\n\
                ok\n";
    assert_eq!(
        outcomes(text),
        vec![
            ("m.C.test_a".into(), Outcome::Passed),
            (
                "m.C.test_b".into(),
                Outcome::Skipped("no hilo_event_new".into())
            ),
            ("m.C.test_c".into(), Outcome::Failed("FAIL".into())),
            ("m.C.test_d".into(), Outcome::Passed),
        ]
    );
}

/// Seconds the whole suite may take.
const PYTHON_LIMIT: u64 = 300;

#[test]
fn python_binding_unittest_suite() {
    build_extension();
    let tests = common::root().join("bindings/python/tests");
    // unittest as `python3 -m unittest discover -v -s tests` runs it, with
    // faulthandler set to print every thread's stack (what each one waits
    // for) and exit shortly before the harness's limit kills a hung suite.
    let script = format!(
        "import faulthandler, sys, unittest\n\
         faulthandler.dump_traceback_later({}, exit=True)\n\
         unittest.main(module=None, argv=['python3 -m unittest', 'discover', '-v', '-s', sys.argv[1]])\n",
        PYTHON_LIMIT - 20
    );
    let mut command = Command::new("python3");
    command
        .args(["-c", &script])
        .arg(&tests)
        .current_dir(&tests)
        .env("HILO_LIB", common::lib_dir().join("libhilo.so"))
        .env_remove("PYTHONPATH");
    let out = common::run_command_with_limit(command, PYTHON_LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let results = outcomes(&stderr);
    let count = |want: fn(&Outcome) -> bool| results.iter().filter(|(_, o)| want(o)).count();
    let passed = count(|o| *o == Outcome::Passed);
    let skipped = count(|o| matches!(o, Outcome::Skipped(_)));
    let failed = count(|o| matches!(o, Outcome::Failed(_)));
    let ran = stderr.lines().find_map(|line| {
        line.strip_prefix("Ran ")?
            .split(' ')
            .next()?
            .parse::<usize>()
            .ok()
    });
    let mut report =
        format!("python unittest: {passed} passed, {skipped} skipped (not run), {failed} failed");
    match ran {
        Some(ran) if ran == results.len() => report.push_str(&format!(" of {ran} tests\n")),
        Some(ran) => report.push_str(&format!(
            " of {ran} tests ({} outcomes not read from the output)\n",
            ran.abs_diff(results.len())
        )),
        None => report.push_str(" (no \"Ran N tests\" line)\n"),
    }
    for (name, outcome) in &results {
        if let Outcome::Skipped(reason) = outcome {
            report.push_str(&format!("skipped: {name}: {reason}\n"));
        }
    }
    // Past the harness's capture: shown on every run.
    let _ = std::io::stderr().write_all(report.as_bytes());
    assert!(
        out.status.success(),
        "python3 -m unittest failed:\n{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Tests of CPython's own suite that pass against hilo. The count may only
/// go up: raise it when a change makes more pass (docs/python-parity.md
/// lists those that still differ, and why).
const PEER_FLOOR: usize = 207;

/// Seconds each of the peer suite's two runs may take (it kills a run that
/// hangs and reports it); the harness's own limit is above both.
const PEER_RUN_LIMIT: u64 = 600;

/// CPython 3.11's test_threading and test_threading_local (with
/// test.lock_tests through it), run with `sys.modules['threading'] = hilo`
/// and again with CPython's threading, by bindings/python/tests/peer_suite.py.
/// Prints both counts and each test whose outcome differs; fails when hilo's
/// count falls below PEER_FLOOR or a run crashed or hung.
#[test]
fn cpython_threading_suite_as_a_peer() {
    let probe = Command::new("python3")
        .args([
            "-c",
            "import test.test_threading, test.test_threading_local",
        ])
        .output();
    if !matches!(probe, Ok(ref out) if out.status.success()) {
        eprintln!(
            "skipped: CPython's test package (test.test_threading) is not installed; \
             scripts/install-test-deps.sh installs it"
        );
        return;
    }
    build_extension();
    let tests = common::root().join("bindings/python/tests");
    let mut command = Command::new("python3");
    command
        .arg(tests.join("peer_suite.py"))
        .current_dir(&tests)
        .env("HILO_LIB", common::lib_dir().join("libhilo.so"))
        .env("PEER_SUITE_LIMIT", PEER_RUN_LIMIT.to_string())
        .env_remove("PYTHONPATH");
    let out = common::run_command_with_limit(command, 2 * PEER_RUN_LIMIT + 60);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Past the harness's capture: both counts show on every run.
    let _ = std::io::stderr().write_all(format!("peer suite:\n{stdout}").as_bytes());
    let count = |mode: &str| -> Option<(usize, usize)> {
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{mode}: passed ")))?;
        let mut words = line.split(' ');
        let passed = words.next()?.parse().ok()?;
        let of = words.nth(1)?.parse().ok()?;
        Some((passed, of))
    };
    let (hilo, total) = count("hilo").unwrap_or_else(|| panic!("no hilo count:\n{stderr}"));
    let (threading, _) = count("threading").unwrap_or_else(|| panic!("no count:\n{stderr}"));
    assert!(
        out.status.success(),
        "a peer suite run crashed or hung:\n{stderr}"
    );
    assert!(
        total > 150 && threading > 150,
        "the suite did not run: {threading} of {total} under CPython's threading\n{stderr}"
    );
    assert!(
        hilo >= PEER_FLOOR,
        "hilo passes {hilo} of {total} of CPython's tests, below the floor {PEER_FLOOR}"
    );
}

/// Seconds `pip install` may take: a release build of the library when
/// cargo has none yet, and setuptools from PyPI into pip's build environment.
const PIP_LIMIT: u64 = 900;

/// `pip install ./bindings/python` into a fresh virtual environment builds
/// libhilo with cargo and bundles it: the installed `hilo` imports with no
/// HILO_LIB and no PYTHONPATH, from a directory outside the repository, loads
/// the library from its own package directory and runs a thread. Skipped
/// (and says so) when python3 has no venv or pip.
#[test]
fn pip_install_into_a_fresh_venv() {
    let venv = common::scratch().join("venv");
    let _ = std::fs::remove_dir_all(&venv);
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output();
    let python = venv.join("bin/python");
    if !matches!(made, Ok(ref out) if out.status.success()) || !python.exists() {
        eprintln!("skipped: python3 -m venv is not available (Debian: python3-venv)");
        return;
    }
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ])
    .arg(common::root().join("bindings/python"))
    .current_dir(common::scratch())
    .env_remove("HILO_LIB")
    .env_remove("PYTHONPATH");
    let out = common::run_command_with_limit(pip, PIP_LIMIT);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && stderr.contains("No module named pip") {
        eprintln!("skipped: the venv has no pip (Debian: python3-venv)");
        return;
    }
    assert!(out.status.success(), "pip install failed:\n{stderr}");
    let script = "import os, hilo\n\
                  here = os.path.dirname(hilo.__file__)\n\
                  assert hilo.LIBRARY_PATH == os.path.join(here, 'libhilo.so.0'), hilo.LIBRARY_PATH\n\
                  assert os.path.dirname(hilo._hilo.__file__) == here, hilo._hilo.__file__\n\
                  names = []\n\
                  t = hilo.Thread(target=lambda: names.append(hilo.current_thread().name), name='pip-worker')\n\
                  t.start(); t.join()\n\
                  print(names[0], hilo.LIBRARY_PATH)\n";
    let mut run = Command::new(&python);
    run.args(["-c", script])
        .current_dir(common::scratch())
        .env_remove("HILO_LIB")
        .env_remove("PYTHONPATH");
    let out = common::run_command_with_limit(run, 60);
    assert!(
        out.status.success(),
        "the installed hilo failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = common::stdout_of(&out);
    assert!(
        stdout.starts_with("pip-worker ") && stdout.contains(&venv.display().to_string()),
        "{stdout}"
    );
}
