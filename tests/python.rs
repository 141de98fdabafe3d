//! The Python binding's unittest suite (`bindings/python/tests`), run with
//! `python3 -m unittest` against the libhilo.so cargo built for this test run
//! (HILO_LIB). Fails when unittest fails; unittest's summary (with the number
//! of skipped tests) is printed, so `cargo test -- --nocapture` shows it.

mod common;

use std::process::Command;

#[test]
fn python_binding_unittest_suite() {
    let tests = common::root().join("bindings/python/tests");
    let mut command = Command::new("python3");
    command
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(&tests)
        .current_dir(&tests)
        .env("HILO_LIB", common::lib_dir().join("libhilo.so"))
        .env_remove("PYTHONPATH");
    let out = common::run_command_with_limit(command, 300);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let summary: Vec<&str> = stderr
        .lines()
        .filter(|line| {
            line.starts_with("Ran ") || line.starts_with("OK") || line.starts_with("FAILED")
        })
        .collect();
    println!("python unittest: {}", summary.join("; "));
    assert!(
        out.status.success(),
        "python3 -m unittest failed:\n{stderr}\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
