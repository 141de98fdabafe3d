//! Generates include/hilo.h from the Rust sources with cbindgen.
//!
//! The header is always written to OUT_DIR (the lib embeds it, so a test can
//! compare it with the committed one). Outside CI it is also written to
//! include/hilo.h, only when its content changed; under CI (env CI set) the
//! committed header is left as it is, so a stale one fails the test.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets it"));
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=CI");
    // The shared library's soname, as a C library's: programs record
    // libhilo.so.MAJOR, MAJOR from Cargo.toml's version (the one source of
    // the version), and `make install` adds that symlink.
    let major = env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets it");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libhilo.so.{major}");
    // Never unmapped: `dlclose` must not pull the code out from under hilo's
    // threads (a daemon still running, a thread in its last steps after
    // its target returned) or run the exit wait early. NODELETE makes
    // `dlclose` keep the library loaded until the process ends.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");

    // hilo_current_name()'s fast path reads an initial-exec thread-local,
    // which stable Rust cannot declare (src/current_cache.c says why).
    cc::Build::new()
        .file("src/current_cache.c")
        .std("c11")
        .flag("-Wpedantic")
        .warnings_into_errors(true)
        .compile("hilo_current_cache");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .with_after_include(version_macros())
        .generate()
        .expect("cbindgen generates the header");
    let mut header = Vec::new();
    bindings.write(&mut header);
    fs::write(out_dir.join("hilo.h"), &header).expect("write OUT_DIR/hilo.h");

    let in_ci = env::var_os("CI").is_some_and(|v| !v.is_empty());
    let target = crate_dir.join("include").join("hilo.h");
    if !in_ci && fs::read(&target).ok().as_deref() != Some(&header[..]) {
        fs::create_dir_all(target.parent().expect("include/")).expect("create include/");
        fs::write(&target, &header).expect("write include/hilo.h");
    }
}

/// The header's version macros, from Cargo.toml's version (the one source:
/// hilo_version(), the soname, hilo.pc and the CMake version file follow it
/// too; tests/install.rs checks that they agree).
fn version_macros() -> String {
    let part = |name: &str| env::var(format!("CARGO_PKG_VERSION_{name}")).expect("cargo sets it");
    format!(
        "\n\
         /**\n \
         * The major version; `hilo_version()` gives the whole version string.\n \
         */\n\
         #define HILO_VERSION_MAJOR {}\n\
         \n\
         /**\n \
         * The minor version.\n \
         */\n\
         #define HILO_VERSION_MINOR {}\n\
         \n\
         /**\n \
         * The patch version.\n \
         */\n\
         #define HILO_VERSION_PATCH {}",
        part("MAJOR"),
        part("MINOR"),
        part("PATCH")
    )
}
