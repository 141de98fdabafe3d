#!/usr/bin/env bash
# Installs what `cargo test` needs beyond a fresh machine's Rust toolchain,
# gcc/g++, make and python3: pkg-config (tests/install.rs), doxygen and man
# (`make docs`, the man pages: tests/docs.rs, tests/install.rs), cmake
# (find_package(hilo): tests/install.rs) and luajit (docs/ffi.md's example:
# tests/ffi.rs). Installs only what is missing; does nothing when all are
# there. Run as root (CI is) or with sudo.
set -euo pipefail

# command -> Debian package
declare -A packages=(
    [pkg-config]=pkg-config
    [doxygen]=doxygen
    [man]=man-db
    [cmake]=cmake
    [luajit]=luajit
)
missing=()
for command in "${!packages[@]}"; do
    if ! command -v "$command" >/dev/null 2>&1; then
        missing+=("${packages[$command]}")
    fi
done
if [ "${#missing[@]}" = 0 ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
