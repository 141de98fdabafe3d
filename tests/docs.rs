//! The documentation builds and holds together: `make docs` (Doxygen over
//! include/hilo.h, HTML and man pages) gives no warning, the Markdown
//! files' relative links resolve, and docs/api.md lists every function.
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
    for function in header_functions(&header) {
        assert!(
            out_dir
                .join("man/man3")
                .join(format!("{function}.3"))
                .is_file(),
            "no man page for {function}"
        );
    }
}

/// The functions hilo.h declares: `type name(args);` lines at the left
/// margin (comments are indented, macros start with `#`).
fn header_functions(header: &str) -> Vec<&str> {
    let functions: Vec<&str> = header
        .lines()
        .filter(|line| !line.starts_with(' ') && !line.starts_with('#'))
        .filter(|line| !line.starts_with("typedef"))
        .filter_map(|line| line.split_once('(').map(|(head, _)| head))
        .filter_map(|head| head.rsplit([' ', '*']).next())
        .filter(|name| name.starts_with("hilo_"))
        .collect();
    assert!(functions.len() > 50, "found only {functions:?} in hilo.h");
    functions
}

/// GitHub's anchor for a heading: lower case, punctuation other than `-`
/// and `_` dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> Vec<String> {
    prose_lines(text)
        .filter_map(|line| line.strip_prefix('#'))
        .map(|heading| anchor(heading.trim_start_matches('#')))
        .collect()
}

/// A Markdown file's lines outside fenced code blocks.
fn prose_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut in_code = false;
    text.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            return false;
        }
        !in_code
    })
}

/// The targets of a Markdown file's inline links, `[text](target)`, outside
/// code blocks.
fn link_targets(text: &str) -> Vec<String> {
    let prose: Vec<&str> = prose_lines(text).collect();
    let prose = prose.join("\n");
    let mut targets = Vec::new();
    let mut rest = prose.as_str();
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        if let Some(end) = rest.find(')') {
            targets.push(rest[..end].trim().to_owned());
            rest = &rest[end..];
        }
    }
    targets
}

/// Every relative link in README.md, CHANGELOG.md and docs/*.md names a file
/// of the repository (and a heading there, for `#anchor` links), so the
/// links work in a clone and on the forge. Links to web pages are not
/// fetched.
#[test]
fn relative_links_in_the_documentation_resolve() {
    let mut files = vec![root().join("README.md"), root().join("CHANGELOG.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "md") {
            files.push(path);
        }
    }
    let mut broken = Vec::new();
    let mut checked = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, fragment) = match target.split_once('#') {
                Some((path, fragment)) => (path, Some(fragment)),
                None => (target.as_str(), None),
            };
            let resolved = if path.is_empty() {
                file.clone()
            } else {
                file.parent().unwrap().join(path)
            };
            let shown = file.strip_prefix(root()).unwrap().display();
            if !resolved.exists() {
                broken.push(format!("{shown}: ({target}): no such file"));
                continue;
            }
            if let Some(fragment) = fragment {
                let headings = std::fs::read_to_string(&resolved)
                    .map(|text| anchors(&text))
                    .unwrap_or_default();
                if !headings.iter().any(|heading| heading == fragment) {
                    broken.push(format!("{shown}: ({target}): no such heading"));
                }
            }
        }
    }
    assert!(checked > 10, "found only {checked} relative links");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// docs/api.md, the reference's map, lists every function and status the
/// header declares (a function added without its row fails here).
#[test]
fn the_api_page_lists_every_function_and_status() {
    let header = std::fs::read_to_string(root().join("include/hilo.h")).unwrap();
    let api = std::fs::read_to_string(root().join("docs/api.md")).unwrap();
    let mut missing = Vec::new();
    for function in header_functions(&header) {
        if !api.contains(&format!("{function}(")) {
            missing.push(function.to_owned());
        }
    }
    let statuses: Vec<&str> = header
        .lines()
        .filter_map(|line| line.trim().strip_prefix("HILO_"))
        .filter_map(|line| line.split_once(" = "))
        .map(|(name, _)| name)
        .collect();
    assert!(statuses.len() >= 9, "statuses in hilo.h: {statuses:?}");
    for status in statuses {
        if !api.contains(&format!("| `HILO_{status}` |")) {
            missing.push(format!("HILO_{status} (a row of the status table)"));
        }
    }
    assert!(missing.is_empty(), "docs/api.md lacks: {missing:?}");
}
