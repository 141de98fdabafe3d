//! hilo from other languages' FFIs, as docs/ffi.md shows: LuaJIT's `ffi`
//! and Python's cffi read the preprocessed header (the statuses come from
//! its enum), drive hilo threads whose targets are C functions in a small
//! library built here (tests/ffi/targets.c), and join them.
//!
//! Node.js's koffi, which takes prototypes rather than the header, starts
//! the same C targets through a C helper and shows a JS callback target
//! running on the JS main thread.
//!
//! Needs `cc`; each host is skipped ("skipped") when it is missing:
//! `luajit` and Python's `cffi` (scripts/install-test-deps.sh installs
//! them), koffi (installed by it with npm where Node.js is).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use common::{have, lib_dir, root, run_command_with_limit, scratch, stdout_of};

/// hilo.h as header-reading FFIs take it: the preprocessor has run (no
/// `#include`, `#define` or `#ifdef` left; `bool`, `size_t` and the
/// `<stdint.h>` types are built into both FFIs).
fn preprocessed_header() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let header = std::fs::read_to_string(root().join("include/hilo.h")).unwrap();
        let without_includes: String = header
            .lines()
            .filter(|line| !line.starts_with("#include"))
            .map(|line| format!("{line}\n"))
            .collect();
        let source = scratch().join("hilo_for_ffi.h");
        std::fs::write(&source, without_includes).unwrap();
        let out = Command::new("cc")
            .args(["-E", "-P", "-x", "c"])
            .arg(&source)
            .output()
            .expect("run cc -E");
        assert!(
            out.status.success(),
            "cc -E: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("HILO_ETIMEDOUT = -5"),
            "no status enum in:\n{text}"
        );
        let path = scratch().join("hilo_ffi.h");
        std::fs::write(&path, text).unwrap();
        path
    })
    .clone()
}

/// tests/ffi/targets.c as a shared library linked with libhilo.
fn targets_library() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let library = scratch().join("libffi_targets.so");
        let dir = lib_dir();
        let out = Command::new("cc")
            .args(common::C_FLAGS)
            .args(["-shared", "-fPIC", "-I"])
            .arg(root().join("include"))
            .arg(root().join("tests/ffi/targets.c"))
            .arg(format!("-L{}", dir.display()))
            .arg(format!("-Wl,-rpath,{}", dir.display()))
            .arg("-lhilo")
            .arg("-o")
            .arg(&library)
            .output()
            .expect("run cc");
        assert!(
            out.status.success(),
            "building targets.c: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        library
    })
    .clone()
}

/// What a script prints for its named workers: each one's hilo name and the
/// sum its C target computed (1..=100 i).
fn worker_lines(prefix: &str, workers: u64) -> String {
    (1..=workers)
        .map(|i| {
            let n = 100 * i;
            format!("{prefix}-worker-{i} sum {}\n", n * (n + 1) / 2)
        })
        .collect()
}

/// Runs a host's script with the header (for hosts that read it),
/// libhilo.so, the targets and the number of workers, and returns its
/// output.
fn run_script(mut command: Command, script: &str, reads_header: bool, workers: u64) -> String {
    let host = format!("{:?}", command.get_program());
    command.arg(root().join("tests/ffi").join(script));
    if reads_header {
        command.arg(preprocessed_header());
    }
    command
        .arg(lib_dir().join("libhilo.so"))
        .arg(targets_library())
        .arg(workers.to_string());
    let out = run_command_with_limit(command, 120);
    assert!(
        out.status.success(),
        "{host} {script} failed ({}):\n{}\n{}",
        out.status,
        stdout_of(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_of(&out)
}

#[test]
fn luajit_drives_hilo_threads_with_c_targets_and_the_header_enum() {
    if !have("luajit") {
        println!("skipped: luajit is not installed (scripts/install-test-deps.sh)");
        return;
    }
    let workers = 4;
    let expected = format!(
        "before go: timed out (HILO_ETIMEDOUT)\n\
         alive: {workers} workers\n\
         {}\
         self-join: HILO_EDEADLK (cannot join current thread)\n",
        worker_lines("lua", workers)
    );
    assert_eq!(
        run_script(Command::new("luajit"), "threads.lua", true, workers),
        expected
    );
}

#[test]
fn cffi_drives_hilo_threads_with_c_and_python_targets_and_the_header_enum() {
    let cffi = Command::new("python3").args(["-c", "import cffi"]).output();
    if !cffi.is_ok_and(|out| out.status.success()) {
        println!("skipped: Python's cffi is not installed (apt-get install python3-cffi)");
        return;
    }
    let workers = 3;
    let python_n = 100 * workers;
    let expected = format!(
        "before go: timed out (HILO_ETIMEDOUT)\n\
         {}\
         cffi-python sum {}\n\
         self-join: HILO_EDEADLK (cannot join current thread)\n",
        worker_lines("cffi", workers),
        python_n * (python_n + 1) / 2
    );
    assert_eq!(
        run_script(Command::new("python3"), "threads_cffi.py", true, workers),
        expected
    );
}

/// `node` with koffi resolvable (NODE_PATH as set, else npm's global
/// modules, where scripts/install-test-deps.sh puts it), or None.
fn node_with_koffi() -> Option<Command> {
    let node_path = std::env::var_os("NODE_PATH").or_else(|| {
        let out = Command::new("npm").args(["root", "-g"]).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().into())
    })?;
    let probe = Command::new("node")
        .args(["-e", "require('koffi')"])
        .env("NODE_PATH", &node_path)
        .output();
    if !probe.is_ok_and(|out| out.status.success()) {
        return None;
    }
    let mut node = Command::new("node");
    node.env("NODE_PATH", node_path);
    Some(node)
}

#[test]
fn koffi_drives_c_targets_and_shows_a_js_target_runs_on_the_main_thread() {
    let Some(node) = node_with_koffi() else {
        println!("skipped: node with koffi is not installed (scripts/install-test-deps.sh installs koffi where node and npm are)");
        return;
    };
    let workers = 3;
    let expected = format!(
        "before go: timed out (HILO_ETIMEDOUT)\n\
         {}\
         js target, synchronous join: timed out\n\
         js target ran on MainThread\n\
         js target, asynchronous join: success\n",
        worker_lines("js", workers)
    );
    assert_eq!(
        run_script(node, "threads_koffi.js", false, workers),
        expected
    );
}
