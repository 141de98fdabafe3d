#!/usr/bin/env bash
# valgrind memcheck over the C examples and the C test programs, against the
# release library: zero errors and zero definitely-lost bytes, or it fails.
# (Daemon threads still running at exit keep their stacks: those are
# "possibly lost" or "still reachable", which the promise does not cover.
# The fork cases are checked for memory errors only: see below.)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "valgrind missing: installing it"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq valgrind; else sudo apt-get update -qq && sudo apt-get install -y -qq valgrind; fi
fi

make -s -C c_examples all
lib="$PWD/target/release"
out="$PWD/target/valgrind"
mkdir -p "$out"
for src in tests/c/*.c; do
    name=$(basename "$src" .c)
    cc -std=c11 -Wall -Wextra -Wpedantic -Werror -D_POSIX_C_SOURCE=200809L -g -Iinclude \
        "$src" -o "$out/$name" -L"$lib" -Wl,-rpath,"$lib" -lhilo -lpthread
done

failed=0
check() {
    local label="$1"; shift
    local log="$out/$label.log"
    # Every program here exits 0; definite leaks count as errors (97).
    if timeout --kill-after=10 300 valgrind --quiet --child-silent-after-fork=yes --leak-check=full \
        --errors-for-leak-kinds="${LEAK_KINDS:-definite}" --error-exitcode=97 \
        --log-file="$log" "$@" >"$out/$label.out" 2>&1; then
        echo "valgrind: $label: clean"
    else
        echo "valgrind: $label: failed with status $? (errors, definite leaks, or a crash)"
        cat "$log" "$out/$label.out"
        failed=1
    fi
}

for p in c_examples/build/[0-9]* c_examples/build/cxx_*; do
    check "example-$(basename "$p")" "$p"
done
for case in nondaemon daemon grandchild join_main shutdown; do
    check "exit_cases-$case" "$out/exit_cases" "$case"
done
check semantics "$out/semantics"
for case in dump main_cycle; do
    check "reliability-$case" "$out/reliability" "$case"
done
# The fork cases: memory errors count, leaks do not. valgrind also checks the
# forked child (--error-exitcode applies to it), and a child keeps what the
# threads that do not exist in it held (their cached names), which valgrind
# may call definitely lost; the parent's side is covered by the cases above.
for case in fork_from_main fork_from_thread; do
    LEAK_KINDS=none check "reliability-$case" "$out/reliability" "$case"
done
exit "$failed"
