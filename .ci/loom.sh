#!/usr/bin/env bash
# Loom model checking of hilo's own locks (src/futex.rs) and of the join
# that sleeps on a thread's exit word (src/registry.rs, src/threads.rs):
# every interleaving of a few threads, up to 4 preemptions each run
# (LOOM_MAX_PREEMPTIONS overrides; a model may cap it lower, and says so),
# over loom's model of the C11 memory orderings. On 2 cores: 222 s in all
# from an empty target/loom (the build 109 s of it), 77 s after (the
# exit-word models about 40 s of that).
#
# How: under RUSTFLAGS="--cfg loom" the crate's unit tests build src/futex.rs
# on src/futex/shim.rs's loom side: loom's atomics for the lock words and a
# futex modelled with loom primitives (waiters queued per word under a loom
# mutex; the word compared and the waiter queued in one critical section,
# as the kernel does under its bucket lock; which of the waiters queued at a
# wake it takes is left open, and loom tries each). The models are
# src/futex/loom_models.rs and src/futex/loom_exit_word.rs; each runs as
# its own test process, so one failure (loom reports a lost wake-up as
# "deadlock", a missing Acquire/Release as a causality violation on the
# data the lock guards, a check of the models as their message) does not
# hide the others. Normal builds re-export std and src/os.rs unchanged.
#
# Covered:
# - FutexMutex through lock_api guards: mutual exclusion (a loom cell that
#   fails on unordered accesses) and no lost unlock wake-up, 2 threads twice
#   each, 3 threads once and twice each (a woken sleeper losing the race to
#   a newcomer and sleeping again); a timed locker whose deadline has passed
#   after it marked the word CONTENDED, and one whose futex waits return
#   early and retry, take nothing and strand nobody; hilo_lock's release by
#   any thread: two threads racing to release a held lock while its holder
#   sleeps to take it again undo each hold exactly once, and wake it.
# - Condvar: notify_one after a state change (made under the lock, notified
#   under it or after unlocking) wakes a waiter that checked the state under
#   the lock, also when the waiter's futex waits return spuriously;
#   notify_one with a timed waiter that leaves (a timeout, modelled as an
#   early return at any point after it queued) reaches the live waiter
#   unless the timed one was really woken by it; two notify_one calls, each
#   after adding a token under the lock, wake two waiters that take one
#   each (a semaphore's pattern); notify_all wakes 2 waiters.
# - Fork: hold_across_fork then release_in_parent wakes a thread that slept
#   on the lock meanwhile; a child's copy of a mutex word in any state
#   (UNLOCKED, LOCKED, CONTENDED) and condvar waiter count (0, 2), with no
#   futex waiters, after reset_in_child, hands over between the child's
#   thread and a thread it starts; without any reset, an internal lock held
#   since before the fork (an older generation in its word) is taken over by
#   one of two contending child threads at a time, while a hilo_lock-style
#   timed acquire leaves it held; and (a check that the models can fail) a
#   child that skips the reset of a lock of its own generation hangs.
# - The exit-word join (src/futex/loom_exit_word.rs): a transcription of
#   EndOfThread::drop, join (its Reap::Pending branch: wait_for_exit,
#   wait_exit_word_left, pthread_join), release, wait_while_running,
#   exit_word_of, sleep_on_exit_word, leave_exit_word, free_released and
#   the must_wake heuristic, on the crate's Mutex and Condvar, over a
#   modelled glibc descriptor (freed once the thread exited and is
#   detached or joined; the kernel's exit clears the word and wakes one
#   sleeper). Checked: every futex call and tid_of on the exit word runs
#   while the descriptor is allocated; every join returns (no lost wake);
#   each returns the thread's value, or ESRCH when released meanwhile; the
#   descriptor is freed exactly once, a released record exactly once. For
#   a thread that returns and one that calls pthread_exit (at most 3
#   preemptions for that one), each with two joins, each with one join and
#   a release (both answers of the CPU heuristic), and each with two joins
#   and a release (four threads: at most 2 preemptions). And (checks that
#   the model can fail) a thread that detaches itself while a join is
#   counted, and a reaper that does not wait for the counted joins, free
#   the descriptor under a futex call.
#
# Not covered:
# - The kernel: futex(2) itself is assumed to compare-and-queue atomically
#   against FUTEX_WAKE (src/os.rs's calls are not run). EINTR and spurious
#   returns are explored only on the threads of the models that ask for
#   them (one model) and on timed waits.
# - Real time: time_left and the deadline arithmetic; deadlines in the
#   models have either passed already or are never reached.
# - The spin phase runs once, not 100 times (same code per round).
# - Wrap-around of the condvar's 32-bit sequence between a waiter's read
#   and its futex wait (2^32 notifies in that window).
# - More threads, operations or preemptions than above; loom's own limits
#   (it does not produce every weak-memory outcome the hardware allows).
# - fork() itself and src/fork.rs's ordering of the locks; the locks' users
#   (registry, sync objects, timers), except the exit-word join.
# - The exit-word join's transcription is kept by hand: a change to the
#   functions it copies must be copied into it. Not in it: deadlines and
#   timeouts (the joins' timed-out branches), signals (EINTR), a thread
#   that calls exit(), the join graph, fork, slot reuse (one generation),
#   a join before the record knows the pthread, three or more joins;
#   glibc and the kernel only as modelled (CLONE_CHILD_CLEARTID's store
#   and one wake; the TID as pthread_getcpuclockid reads it). A join
#   whose wake is not passed on hangs in the model
#   (pthread_exit_joiner_keeping_the_wake_hangs, ignored: loom aborts the
#   process on that deadlock, so it is run by hand).
#
# The models catch, each in several models, these breakages of futex.rs
# (tried once by hand): no wake in unlock; Relaxed instead of Release in
# unlock or of Acquire in the sleeping lock path; sleeping lockers marking
# the word LOCKED, not CONTENDED; a condvar waiter counted, or its sequence
# read, after the mutex is released; notify_all waking one; no reset in a
# forked child.
set -euo pipefail
cd "$(dirname "$0")/.."
limit() { local secs="$1"; shift; timeout --kill-after=30 "$secs" "$@"; }

export RUSTFLAGS="--cfg loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-4}"
cargo_test=(cargo test --release --lib --target-dir target/loom)
start=$SECONDS

echo "== loom: building the unit tests with --cfg loom (target/loom)"
limit 600 "${cargo_test[@]}" --no-run

# The models of both files; not the ignored ones (a model that must fail
# but that loom cannot report as a panic, run by hand).
list() {
    limit 60 "${cargo_test[@]}" -q -- --list "$@" futex::loom_ 2>/dev/null |
        sed -n 's/^\(futex::loom_\(models\|exit_word\)::[a-z0-9_]*\): test$/\1/p'
}
ignored=$(list --ignored)
models=$(list | grep -vxF -e "$ignored" || true)
if [ -z "$models" ]; then
    echo "loom: found no models" >&2
    exit 1
fi

passed=0 failed=0
for model in $models; do
    echo "== loom: $model (preemption bound $LOOM_MAX_PREEMPTIONS)"
    if limit 240 "${cargo_test[@]}" -q -- --exact "$model" --nocapture; then
        passed=$((passed + 1))
    else
        echo "loom: $model FAILED"
        failed=$((failed + 1))
    fi
done
echo "loom: ran $((passed + failed)) models in $((SECONDS - start)) s"
echo "loom: $passed passed, $failed failed"
[ "$failed" = 0 ]
