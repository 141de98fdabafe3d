#!/bin/sh
# Builds hilo/_hilo*.so next to hilo/__init__.py against the repository's
# include/hilo.h and a libhilo.so (directory $1, default target/release), for
# running the binding from the source tree; `pip install` builds it itself.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
libdir=${1:-$root/target/release}
python=${PYTHON:-python3}
inc=$("$python" -c "import sysconfig; print(sysconfig.get_paths()['include'])")
suffix=$("$python" -c "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))")
${CC:-cc} -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wpedantic -Werror -O2 \
    -fPIC -shared -I"$inc" -I"$root/include" "$here/hilo/_hilo.c" \
    -L"$libdir" -lhilo -o "$here/hilo/_hilo$suffix.tmp"
mv "$here/hilo/_hilo$suffix.tmp" "$here/hilo/_hilo$suffix"
