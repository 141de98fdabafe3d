//! The version constants of the header, checked against Cargo.toml at
//! compile time; `hilo_version` is in thread.rs.

/// The major version; `hilo_version()` gives the whole version string.
pub const HILO_VERSION_MAJOR: u32 = 0;
/// The minor version.
pub const HILO_VERSION_MINOR: u32 = 1;
/// The patch version.
pub const HILO_VERSION_PATCH: u32 = 0;

const fn parse_u32(text: &str) -> u32 {
    let bytes = text.as_bytes();
    let mut value = 0;
    let mut i = 0;
    while i < bytes.len() {
        value = value * 10 + (bytes[i] - b'0') as u32;
        i += 1;
    }
    value
}

// The header's version macros must match Cargo.toml.
const _: () = assert!(HILO_VERSION_MAJOR == parse_u32(env!("CARGO_PKG_VERSION_MAJOR")));
const _: () = assert!(HILO_VERSION_MINOR == parse_u32(env!("CARGO_PKG_VERSION_MINOR")));
const _: () = assert!(HILO_VERSION_PATCH == parse_u32(env!("CARGO_PKG_VERSION_PATCH")));
