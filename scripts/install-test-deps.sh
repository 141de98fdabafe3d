#!/usr/bin/env bash
# Installs what `cargo test` needs beyond a fresh machine's Rust toolchain,
# gcc/g++, make and python3: pkg-config (tests/install.rs), doxygen and man
# (`make docs`, the man pages: tests/docs.rs, tests/install.rs), cmake
# (find_package(hilo): tests/install.rs), luajit and Python's cffi
# (docs/ffi.md's examples: tests/ffi.rs), and, where Node.js and npm are
# already there, koffi (npm install -g; not worth installing Node for).
# Installs only what is missing; does nothing when all are there. Run as
# root (CI is) or with sudo.
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
if ! python3 -c 'import cffi' >/dev/null 2>&1; then
    missing+=(python3-cffi)
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
if [ "${#missing[@]}" != 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    if ! NODE_PATH="$(npm root -g)" node -e "require('koffi')" >/dev/null 2>&1; then
        $SUDO npm install -g --no-audit --no-fund koffi
    fi
fi
