//! include/hilo.h is the header the current sources generate, and it
//! compiles cleanly as C99, C11 and C++11.

mod common;

use std::process::Command;

use common::{root, scratch};

#[test]
fn committed_header_is_the_generated_one() {
    let committed =
        std::fs::read_to_string(root().join("include/hilo.h")).expect("include/hilo.h exists");
    assert!(
        committed == hilo::GENERATED_HEADER,
        "include/hilo.h is stale: build outside CI (cargo build) to regenerate it, and commit it"
    );
}

fn compile_header(compiler: &str, std: &str, ext: &str) {
    let source = scratch().join(format!("header_{}.{ext}", std.replace('+', "x")));
    // Use every type and a few functions so that the declarations are
    // checked, not only parsed.
    std::fs::write(
        &source,
        "#include \"hilo.h\"\n\
         static void *target(void *arg) { return arg; }\n\
         int main(void) {\n\
             hilo_thread_t t = 0;\n\
             hilo_fn fn = target;\n\
             int rc = hilo_create(fn, 0, \"x\", &t);\n\
             if (rc == HILO_OK) { rc = hilo_join(t, HILO_FOREVER, 0); }\n\
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
