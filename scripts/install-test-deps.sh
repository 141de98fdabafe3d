#!/usr/bin/env bash
# Installs what `cargo test` and `make -C c_examples bench` need beyond a
# fresh machine's Rust toolchain, gcc/g++, make and python3: pkg-config
# (tests/install.rs), and GLib's and libuv's development packages, whose
# thread pools are the bench's anchors for hilo's executor (the bench prints
# "-" for a row whose library is missing). Does nothing when all are there
# already. Run as root (CI is) or with sudo.
set -euo pipefail

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
dpkg -s libglib2.0-dev >/dev/null 2>&1 || missing+=(libglib2.0-dev)
dpkg -s libuv1-dev >/dev/null 2>&1 || missing+=(libuv1-dev)
if [ "${#missing[@]}" = 0 ]; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}"
