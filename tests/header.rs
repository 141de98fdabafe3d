//! include/hilo.h is the header the current sources generate, and it
//! compiles cleanly as C99, C11 and C++11.

mod common;

use std::process::Command;

use common::{root, scratch};

/// The header the sources generate is the committed one. Outside CI,
/// build.rs rewrites include/hilo.h itself, so the working file always
/// matches: the check that means something is against what git has (the
/// index, so a staged header passes before the commit). Under CI, or
/// outside a git checkout, the working file is what was committed.
#[test]
fn committed_header_is_the_generated_one() {
    let working =
        std::fs::read_to_string(root().join("include/hilo.h")).expect("include/hilo.h exists");
    assert!(
        working == hilo::GENERATED_HEADER,
        "include/hilo.h is stale: build outside CI (cargo build) to regenerate it, and commit it"
    );
    let git = Command::new("git")
        .arg("-C")
        .arg(root())
        .args(["show", ":include/hilo.h"])
        .output();
    match git {
        Ok(out) if out.status.success() => {
            assert!(
                out.stdout == hilo::GENERATED_HEADER.as_bytes(),
                "include/hilo.h in git differs from the header the sources generate \
                 (build.rs has rewritten the working file): git add include/hilo.h, and commit it"
            );
        }
        Ok(out) => {
            // Not a git checkout (a source tarball): the working file is it.
            println!(
                "no include/hilo.h in a git index here ({}): checked the working file only",
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Err(e) => println!("git not runnable ({e}): checked the working file only"),
    }
}

fn compile_header(compiler: &str, std: &str, ext: &str) {
    let source = scratch().join(format!("header_{}.{ext}", std.replace('+', "x")));
    // Use every type and a few functions so that the declarations are
    // checked, not only parsed.
    std::fs::write(
        &source,
        "#include \"hilo.h\"\n\
         #ifdef HILO_OK\n\
         #error \"statuses must be enum constants, not macros (header-reading FFIs lose macros)\"\n\
         #endif\n\
         static void *target(void *arg) { return arg; }\n\
         int main(void) {\n\
             hilo_thread_t t = 0;\n\
             hilo_fn fn = target;\n\
             hilo_status expected = HILO_OK;\n\
             int rc = hilo_create(fn, 0, \"x\", &t);\n\
             if (rc == expected) { rc = hilo_join(t, HILO_FOREVER, 0); }\n\
             return rc == HILO_OK && HILO_VERSION_MAJOR >= 0 ? 0 : 1;\n\
         }\n",
    )
    .unwrap();
    let out = Command::new(compiler)
        .arg(format!("-std={std}"))
        .args([
            "-pedantic",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
            "-I",
        ])
        .arg(root().join("include"))
        .arg(&source)
        .output()
        .unwrap_or_else(|e| panic!("run {compiler}: {e}"));
    assert!(
        out.status.success(),
        "{compiler} -std={std}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn header_compiles_as_c99() {
    compile_header("cc", "c99", "c");
}

#[test]
fn header_compiles_as_c11() {
    compile_header("cc", "c11", "c");
}

#[test]
fn header_compiles_as_cxx11() {
    compile_header("c++", "c++11", "cpp");
}

/// The shared library exports the header's functions and nothing else: no
/// helper of hilo's own (src/current_cache.c's are hidden) and no Rust
/// symbol leaks into programs' namespace.
#[test]
fn shared_library_exports_only_the_headers_functions() {
    if !common::have("nm") {
        println!("skipped: no nm");
        return;
    }
    let lib = common::lib_dir().join("libhilo.so");
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(&lib)
        .output()
        .expect("run nm");
    assert!(out.status.success(), "nm -D {}", lib.display());
    let listing = String::from_utf8_lossy(&out.stdout);
    let mut functions = 0;
    for line in listing.lines() {
        // "<address> <type> <name>", e.g. "000000000002b230 T hilo_current_name"
        let name = line.split_whitespace().last().unwrap_or_default();
        let declared = hilo::GENERATED_HEADER.contains(&format!(" {name}("))
            || hilo::GENERATED_HEADER.contains(&format!("*{name}("));
        assert!(
            name.starts_with("hilo_") && declared,
            "libhilo.so exports {line:?}, which include/hilo.h does not declare"
        );
        functions += 1;
    }
    assert!(
        listing.contains(" T hilo_current_name\n") && functions > 50,
        "the listing has hilo's functions:\n{listing}"
    );
}
