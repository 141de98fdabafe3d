#!/usr/bin/env bash
# valgrind memcheck over every C example and every case of every C test
# program, against the release library: zero errors and zero definitely-lost
# bytes, or it fails. Each run must also end with the status the program
# gives outside valgrind (the exit cases that call exit(3) or _exit(5) are
# checked with that status), within a time limit.
# (Daemon threads still running at exit keep their stacks: those are
# "possibly lost" or "still reachable", which the promise does not cover.
# The fork cases are checked for memory errors only: see below.)
# Anything not run prints "skipped: <case>: <reason>".
# --fair-sched=yes: valgrind runs one thread at a time, and its default lock
# is unfair; two threads taking a contended hilo_lock in a loop kept the
# main thread of reliability's fork_under_load from running at all (over
# 600 s, killed; 6 s with fair scheduling), the variance behind valgrind
# steps of 145 s in one CI run and 484 s in another.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "valgrind missing: installing it"
    if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq valgrind; else sudo apt-get update -qq && sudo apt-get install -y -qq valgrind; fi
fi

started=$SECONDS
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
ran=0
# check LABEL STATUS LIMIT PROGRAM ARGS...: runs PROGRAM under memcheck; it
# must exit with STATUS (definite leaks and memory errors give 97 instead)
# within LIMIT seconds.
check() {
    local label="$1" expected="$2" secs="$3"; shift 3
    local log="$out/$label.log" status=0 t0=$SECONDS
    ran=$((ran + 1))
    timeout --kill-after=10 "$secs" valgrind --quiet --fair-sched=yes --child-silent-after-fork=yes --leak-check=full \
        --errors-for-leak-kinds="${LEAK_KINDS:-definite}" --error-exitcode=97 \
        --log-file="$log" "$@" >"$out/$label.out" 2>&1 || status=$?
    if [ "$status" = "$expected" ]; then
        echo "valgrind: $label: clean (status $status, $((SECONDS - t0))s)"
    else
        case "$status" in
            97) why="memory errors or definite leaks" ;;
            124 | 137) why="still running after ${secs}s: killed" ;;
            *) why="expected status $expected" ;;
        esac
        echo "valgrind: $label: failed with status $status ($why)"
        cat "$log" "$out/$label.out"
        failed=1
    fi
}

# The cases a test program accepts, read from its source, so that a new case
# is run here without editing this script.
cases_of() {
    # Each once, in the order of the source (a case may be tested twice).
    grep -o 'strcmp(which, "[a-z_]*")' "$1" | sed 's/.*"\(.*\)")/\1/' | awk '!seen[$0]++'
}

# Every example the Makefile builds: the numbered C ones and the C++ ones.
for src in c_examples/[0-9]*.c c_examples/*.cpp; do
    name=$(basename "${src%.*}")
    check "example-$name" 0 300 "c_examples/build/$name"
done
echo "skipped: c_examples/bench.c: a benchmark (10,000 live threads, millions of calls a round), not an example; hours under valgrind"

for case in $(cases_of tests/c/exit_cases.c); do
    case "$case" in
        exit_from_thread | exit_from_nondaemon_skips_itself) status=3 ;;
        abandon_nondaemon | abandon_executor) status=4 ;;
        underscore_exit) status=5 ;;
        *) status=0 ;;
    esac
    check "exit_cases-$case" "$status" 300 "$out/exit_cases" "$case"
done

check semantics 0 300 "$out/semantics"
# hilo_set_interruptible: every kind of wait interrupted, with and without
# SA_RESTART (under 2 s each under memcheck here).
for mode in norestart restart; do
    check "interruptible-$mode" 0 300 "$out/interruptible" "$mode"
done
check installed 0 300 "$out/installed"

# The fork cases: memory errors count, leaks do not. valgrind also checks the
# forked child (--error-exitcode applies to it), and a child keeps what the
# threads that do not exist in it held (their cached names), which valgrind
# may call definitely lost; the parent's side is covered by the cases above.
for case in $(cases_of tests/c/reliability.c); do
    case "$case" in
        fork_*) LEAK_KINDS=none check "reliability-$case" 0 600 "$out/reliability" "$case" ;;
        *) check "reliability-$case" 0 300 "$out/reliability" "$case" ;;
    esac
done
# The executor's cases (tests/c/executor.c), the stress among them (a few
# seconds here): every future, callback and worker freed. The fork case, as
# above, for memory errors only: the child leaks what the parent's queue held.
for case in $(cases_of tests/c/executor.c); do
    case "$case" in
        fork) LEAK_KINDS=none check "executor-$case" 0 300 "$out/executor" "$case" ;;
        # It limits the address space (RLIMIT_AS), which valgrind, living
        # in the same process, runs out of first.
        out_of_memory) echo "skipped: executor-$case: an address-space limit that valgrind itself cannot run under" ;;
        *) check "executor-$case" 0 300 "$out/executor" "$case" ;;
    esac
done
# The thread-end destructor cases of the adversarial suite (tests/edges): a
# thread's identity, dummy records and cached names must all be freed with
# the thread, whatever its destructors ask of hilo.
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -D_POSIX_C_SOURCE=200809L -g -Iinclude \
    tests/edges/destructors.c -o "$out/destructors" -L"$lib" -Wl,-rpath,"$lib" -lhilo -lpthread
for case in $(cases_of tests/edges/destructors.c); do
    check "destructors-$case" 0 300 "$out/destructors" "$case"
done
# Joins asleep on the joined thread's exit word, pinned to one CPU
# (tests/edges/exit_word.c); joined_thread_exits ends with the thread's
# exit(7).
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -D_POSIX_C_SOURCE=200809L -g -Iinclude \
    tests/edges/exit_word.c -o "$out/exit_word" -L"$lib" -Wl,-rpath,"$lib" -lhilo -lpthread
for case in $(cases_of tests/edges/exit_word.c); do
    case "$case" in
        joined_thread_exits) check "exit_word-$case" 7 300 "$out/exit_word" "$case" ;;
        *) check "exit_word-$case" 0 300 "$out/exit_word" "$case" ;;
    esac
done
# Joins held at their exit-word futex calls while glibc frees and unmaps
# the thread's stack (tests/edges/exit_word_freed.c, which replaces
# syscall()): no call may name the unmapped descriptor.
cc -std=c11 -Wall -Wextra -Wpedantic -Werror -D_POSIX_C_SOURCE=200809L -g -Iinclude \
    tests/edges/exit_word_freed.c -o "$out/exit_word_freed" -L"$lib" -Wl,-rpath,"$lib" -lhilo -lpthread
for case in $(cases_of tests/edges/exit_word_freed.c); do
    check "exit_word_freed-$case" 0 300 "$out/exit_word_freed" "$case"
done
# Dumps (tests/c/dumps.c): stacks taken by signal while threads start and
# end, the dump of a deadlock (two daemon threads left blocked), and of
# threads blocked on futures.
check dumps-churn 0 300 "$out/dumps" churn 20
check dumps-locks 0 300 "$out/dumps" locks
# A thread blocked on a future (the dump reads the future while its waiter
# is pinned) and a deadlock through one; the case ends with _exit(0).
check dumps-futures 0 300 "$out/dumps" futures
echo "valgrind: $ran runs in $((SECONDS - started))s"
exit "$failed"
