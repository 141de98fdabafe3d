#!/usr/bin/env bash
# Installs what `cargo test` needs beyond a fresh machine's Rust toolchain,
# gcc/g++, make and python3: pkg-config (tests/install.rs); CPython's own test
# package (test.test_threading, for the Python binding's peer suite in
# tests/python.rs), which Debian's python3 splits off into
# libpython3.X-testsuite (a python.org or pyenv build has it already). Does
# nothing for what is there already. Run as root (CI is) or with sudo.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
updated=""
apt_install() {
    if [ -z "$updated" ]; then
        $SUDO apt-get update -qq
        updated=1
    fi
    $SUDO apt-get install -y -qq "$@"
}

if ! command -v pkg-config >/dev/null 2>&1; then
    apt_install pkg-config
fi
if command -v python3 >/dev/null 2>&1 &&
    ! python3 -c "import test.test_threading" >/dev/null 2>&1; then
    version=$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    # Only Debian's own python3 gets it this way; for another build, say so.
    apt_install "libpython${version}-testsuite" ||
        echo "note: no libpython${version}-testsuite package: the peer suite will print skipped"
fi
