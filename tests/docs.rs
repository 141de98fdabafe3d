//! The documentation builds and holds together: `make docs` (Doxygen over
//! include/hilo.h, HTML and man pages) gives no warning.
//!
//! Needs `make` and Doxygen; without Doxygen the test prints "skipped"
//! (`scripts/install-test-deps.sh` installs it).

mod common;

use std::process::Command;

use common::{have, root, scratch};

/// `make docs` with a fresh output directory: it fails on any Doxygen
/// warning (an undocumented parameter or return value, a broken reference)
/// and on man page lines troff would drop; the pages it must make are there.
#[test]
fn make_docs_builds_without_warnings() {
    if !have("doxygen") {
        println!("skipped: doxygen is not installed (scripts/install-test-deps.sh)");
        return;
    }
    let out_dir = scratch().join("docs");
    let _ = std::fs::remove_dir_all(&out_dir);
    let mut make = Command::new("make");
    make.arg("-C")
        .arg(root())
        .args(["--no-print-directory", "docs"])
        .arg(format!("DOCS_OUT={}", out_dir.display()));
    let out = common::run_command_with_limit(make, 300);
    assert!(
        out.status.success(),
        "make docs failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(out_dir.join("warnings.log")).unwrap_or_default();
    assert!(log.trim().is_empty(), "Doxygen warned:\n{log}");
    for page in ["html/index.html", "html/hilo_8h.html", "man/man3/hilo.h.3"] {
        assert!(out_dir.join(page).is_file(), "make docs made no {page}");
    }
    // Every exported function has its man page (a link to hilo.h.3).
    let header = std::fs::read_to_string(root().join("include/hilo.h")).unwrap();
    let functions: Vec<&str> = header
        .lines()
        .filter(|line| !line.starts_with(' ') && !line.starts_with('#'))
        .filter_map(|line| line.split_once('(').map(|(head, _)| head))
        .filter_map(|head| head.rsplit([' ', '*']).next())
        .filter(|name| name.starts_with("hilo_"))
        .collect();
    assert!(functions.len() > 50, "found only {functions:?} in hilo.h");
    for function in functions {
        assert!(
            out_dir
                .join("man/man3")
                .join(format!("{function}.3"))
                .is_file(),
            "no man page for {function}"
        );
    }
}
