//! The Python binding's unittest suite (`bindings/python/tests`), run with
//! `python3 -m unittest` against the libhilo.so cargo built for this test run
//! (HILO_LIB). Fails when unittest fails; unittest's summary (with the number
//! of skipped tests) is printed, so `cargo test -- --nocapture` shows it.

use std::path::PathBuf;
use std::process::Command;

/// The cdylib of this test run: `cargo test` leaves libhilo.so in
/// `target/<profile>/deps` next to the test binary (and `cargo build` in
/// `target/<profile>`).
fn shared_library() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("target/<profile>/deps");
    [deps, deps.parent().expect("target/<profile>")]
        .iter()
        .map(|dir| dir.join("libhilo.so"))
        .find(|lib| lib.exists())
        .unwrap_or_else(|| panic!("libhilo.so not found next to {}", exe.display()))
}

#[test]
fn python_binding_unittest_suite() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tests = root.join("bindings/python/tests");
    let out = Command::new("python3")
        .args(["-m", "unittest", "discover", "-v", "-s"])
        .arg(&tests)
        .current_dir(&tests)
        .env("HILO_LIB", shared_library())
        .env_remove("PYTHONPATH")
        .output()
        .expect("run python3 (is it installed?)");
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
