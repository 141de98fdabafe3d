#!/usr/bin/env bash
# Installs what `cargo test` needs beyond a fresh machine's Rust toolchain,
# gcc/g++, make and python3: pkg-config (tests/install.rs). Does nothing when
# it is there already. Run as root (CI is) or with sudo.
set -euo pipefail

if command -v pkg-config >/dev/null 2>&1; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq pkg-config
