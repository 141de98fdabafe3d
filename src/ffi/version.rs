//! The version, for Rust callers; `hilo_version` is in thread.rs. Cargo.toml
//! is the one source: these constants parse it, and build.rs writes the
//! header's `HILO_VERSION_*` macros from it (cbindgen cannot evaluate these
//! expressions, so cbindgen.toml leaves them out of the header).

/// The major version; `hilo_version()` gives the whole version string.
pub const HILO_VERSION_MAJOR: u32 = parse_u32(env!("CARGO_PKG_VERSION_MAJOR"));
/// The minor version.
pub const HILO_VERSION_MINOR: u32 = parse_u32(env!("CARGO_PKG_VERSION_MINOR"));
/// The patch version.
pub const HILO_VERSION_PATCH: u32 = parse_u32(env!("CARGO_PKG_VERSION_PATCH"));

/// A decimal number at compile time (cargo gives the parts as strings).
const fn parse_u32(text: &str) -> u32 {
    let bytes = text.as_bytes();
    assert!(!bytes.is_empty(), "an empty version part");
    let mut value: u32 = 0;
    let mut i = 0;
    while i < bytes.len() {
        assert!(
            bytes[i].is_ascii_digit(),
            "a version part that is not a number"
        );
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}
