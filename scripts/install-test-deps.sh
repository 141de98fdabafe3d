#!/usr/bin/env bash
# Installs what `cargo test` needs beyond a fresh machine's Rust toolchain,
# gcc/g++, make and python3: pkg-config (tests/install.rs), doxygen and man
# (`make docs`, the man pages: tests/docs.rs, tests/install.rs), cmake
# (find_package(hilo): tests/install.rs) and luajit (docs/ffi.md's example:
# tests/ffi.rs); and for `make -C c_examples bench`, GLib's and libuv's
# development packages, whose thread pools are the anchors of hilo's
# executor rows (a row prints "-" when its library is missing). Installs
# only what is missing; does nothing when all are there. Run as root (CI
# is) or with sudo.
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
# Libraries, not commands: asked of dpkg.
for package in libglib2.0-dev libuv1-dev; do
    if ! dpkg -s "$package" >/dev/null 2>&1; then
        missing+=("$package")
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
