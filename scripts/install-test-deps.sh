#!/usr/bin/env bash
# Installs what `cargo test` needs beyond a fresh machine's Rust toolchain,
# gcc/g++, make and python3: pkg-config (tests/install.rs), doxygen and man
# (`make docs`, the man pages: tests/docs.rs, tests/install.rs), cmake
# (find_package(hilo): tests/install.rs), luajit and Python's cffi
# (docs/ffi.md's examples: tests/ffi.rs), and, where Node.js and npm are
# already there, koffi (npm install -g; not worth installing Node for);
# and for `make -C c_examples bench`, GLib's and libuv's development
# packages, whose thread pools are the anchors of hilo's executor rows (a
# row prints "-" when its library is missing).
# CPython's own test package (test.test_threading, for the Python binding's
# peer suite in tests/python.rs), which Debian's python3 splits off into
# libpython3.X-testsuite (a python.org or pyenv build has it already).
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
# Libraries, not commands: asked of dpkg.
for package in libglib2.0-dev libuv1-dev; do
    if ! dpkg -s "$package" >/dev/null 2>&1; then
        missing+=("$package")
    fi
done
testsuite=""
if ! python3 -c "import test.test_threading" >/dev/null 2>&1; then
    version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    testsuite="libpython${version}-testsuite"
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if [ "${#missing[@]}" != 0 ] || [ -n "$testsuite" ]; then
    $SUDO apt-get update -qq
fi
if [ "${#missing[@]}" != 0 ]; then
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [ -n "$testsuite" ]; then
    # Only Debian's own python3 has this package; with another build the
    # peer suite prints "skipped" rather than failing.
    $SUDO apt-get install -y -qq --no-install-recommends "$testsuite" ||
        echo "note: $testsuite not installable: the peer suite will print skipped"
fi
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    if ! NODE_PATH="$(npm root -g)" node -e "require('koffi')" >/dev/null 2>&1; then
        $SUDO npm install -g --no-audit --no-fund koffi
    fi
fi
