#!/usr/bin/env python3
"""Runs every case of the C test programs over and over, looking for the
rare failure that one `cargo test` run does not show.

    python3 scripts/hunt.py [--budget SECONDS] [--jobs N] [--only PROG:CASE ...]
                            [--valgrind] [--out DIR]

Each case (`strcmp(which, "<case>")` in tests/c/*.c and tests/edges/*.c) is
run as often as fits in --budget seconds (at least 4 and at most 40 times),
--jobs cases at once (two by default: the load is part of the hunt), each
run under a 60 s limit, against target/release/libhilo.so.

A case is FAILED when a run hangs (killed at 60 s), dies by a signal, writes
to stderr, or ends with a status other than its first run's (unless the
case is in VARYING_STATUS). A case whose
stdout differs between runs is listed as VARIES with its commonest outputs:
some differ by design (pids, counts of a race), which the reader judges.
Exit status: 1 when a case failed, else 0 (2 for a bad argument).

--valgrind runs each case under memcheck as .ci/valgrind.sh does (a 300 s
limit, status 97 for memory errors or definite leaks, leaks not counted for
the fork cases), at least 2 and at most 10 times, and prints the first
error of a run that has one. It found what one CI valgrind step showed
once: a join's futex call on a thread descriptor glibc had unmapped
(destructors ok_joins_follow_destructors, 13 of 120 runs, two at once).

Found this way: a join of a thread ended with pthread_exit that never
woke (executor behind_pthread_exit, 8 of 300 runs), a fork child's heap
corrupted by a rename (fork_races rename_during_fork, 1 of 25), a dump
showing a just-started thread with native id 0 (reliability dump).
"""
import argparse
import collections
import concurrent.futures
import fcntl
import os
import re
import shutil
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Programs whose cases are named by `strcmp(which, ...)`; the others (no
# case argument, or a host with its own arguments) are left to cargo test.
PROGRAMS = {
    "executor": "tests/c", "exit_cases": "tests/c", "reliability": "tests/c",
    "destructors": "tests/edges", "exit_races": "tests/edges",
    "exit_word": "tests/edges", "exit_word_freed": "tests/edges",
    "fork_races": "tests/edges",
    "hunts": "tests/edges", "misc": "tests/edges",
}
LIMIT = 60
VALGRIND_LIMIT = 300
# Under --valgrind: cases not run (an address-space limit that valgrind,
# in the same process, runs out of first), and cases whose leaks are not
# counted (a forked child keeps what the parent's other threads held).
NOT_UNDER_VALGRIND = {("executor", "out_of_memory")}


def leaks_counted(name, case):
    return "fork" not in case and name != "fork_races"
# Cases whose exit status may differ between runs by design (their tests
# accept each): a changed status is VARIES there, not FAILED.
VARYING_STATUS = {
    # main's return and a thread's exit(3) race; the first exit's status
    # stands, whichever it is (tests/edges.rs).
    ("exit_races", "exit_as_main_returns"),
}


def build(out):
    """Builds the library and the programs into `out`. Several hunts may
    run at once (cargo test runs its three hunt tests in parallel), so the
    builds take turns under a lock, and each program is linked under a
    name of this process's own, then renamed over the old one: a hunt
    still running the old binary keeps it, and none ever runs (or links
    over) a half-written file."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, ".build-lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        lib = os.path.join(ROOT, "target", "release")
        for name, folder in PROGRAMS.items():
            partial = os.path.join(out, "%s.%d.partial" % (name, os.getpid()))
            subprocess.run(
                ["cc", "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                 "-D_POSIX_C_SOURCE=200809L", "-g", "-I", os.path.join(ROOT, "include"),
                 os.path.join(ROOT, folder, name + ".c"), "-o", partial,
                 "-L" + lib, "-Wl,-rpath," + lib, "-lhilo", "-lpthread"],
                check=True)
            os.replace(partial, os.path.join(out, name))


def cases():
    found = []
    for name, folder in PROGRAMS.items():
        with open(os.path.join(ROOT, folder, name + ".c")) as f:
            text = f.read()
        for case in dict.fromkeys(re.findall(r'strcmp\(which, "([a-z_0-9]+)"\)', text)):
            found.append((name, case))
    return found


def run(out, name, case, valgrind):
    began = time.monotonic()
    command = [os.path.join(out, name), case]
    limit = LIMIT
    log = None
    if valgrind:
        log = os.path.join(out, "valgrind-%s-%s-%d-%d.log"
                           % (name, case, os.getpid(), threading.get_ident()))
        kinds = "definite" if leaks_counted(name, case) else "none"
        command = ["valgrind", "--quiet", "--fair-sched=yes", "--child-silent-after-fork=yes",
                   "--leak-check=full", "--errors-for-leak-kinds=" + kinds,
                   "--error-exitcode=97", "--log-file=" + log] + command
        limit = VALGRIND_LIMIT
    try:
        r = subprocess.run(command, capture_output=True, timeout=limit, cwd=out)
        status = r.returncode if r.returncode >= 0 else "signal %d" % -r.returncode
        stderr = r.stderr.decode(errors="replace")
        if valgrind and status == 97:
            with open(log, errors="replace") as f:
                stderr = "valgrind: " + f.read() + stderr
        return status, r.stdout.decode(errors="replace"), stderr, time.monotonic() - began
    except subprocess.TimeoutExpired as e:
        return "hung", (e.stdout or b"").decode(errors="replace"), \
            (e.stderr or b"").decode(errors="replace"), limit


def hunt(out, budget, name, case, valgrind):
    runs = [run(out, name, case, valgrind)]
    least, most = (2, 10) if valgrind else (4, 40)
    times = int(min(most, max(least, budget / max(runs[0][3], 0.05))))
    runs += [run(out, name, case, valgrind) for _ in range(times - 1)]
    return name, case, runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=float, default=25.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=None, metavar="PROG:CASE")
    parser.add_argument("--out", default=os.path.join(ROOT, "target", "hunt"),
                        help="where the programs are built (target/hunt)")
    parser.add_argument("--valgrind", action="store_true",
                        help="each run under valgrind memcheck, as .ci/valgrind.sh")
    args = parser.parse_args()
    if args.valgrind and shutil.which("valgrind") is None:
        print("valgrind not found: install it (apt-get install valgrind) for --valgrind")
        return 2
    todo = cases()
    if args.only is not None:
        todo = [tuple(item.split(":", 1)) for item in args.only]
        unknown = [item for item in todo if item[0] not in PROGRAMS or len(item) != 2]
        if unknown:
            print("unknown program or no case: %s" % ", ".join(":".join(u) for u in unknown))
            return 2
    if args.valgrind:
        todo = [item for item in todo if item not in NOT_UNDER_VALGRIND]
    out = os.path.abspath(args.out)
    build(out)
    failed = 0
    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        jobs = [pool.submit(hunt, out, args.budget, name, case, args.valgrind)
                for name, case in todo]
        for job in jobs:
            name, case, runs = job.result()
            statuses = collections.Counter(str(r[0]) for r in runs)
            outputs = collections.Counter(r[1] for r in runs)
            errors = [r[2] for r in runs if r[2]]
            changed = len(statuses) > 1 and (name, case) not in VARYING_STATUS
            bad = changed or errors or any(
                s == "hung" or s.startswith("signal") for s in statuses)
            varies = len(outputs) > 1 or len(statuses) > 1
            word = "FAILED" if bad else ("VARIES" if varies else "ok")
            failed += bool(bad)
            print("%s %s %s: %d runs, status %s, %d different outputs, %d with stderr"
                  % (word, name, case, len(runs), dict(statuses), len(outputs), len(errors)),
                  flush=True)
            if word != "ok":
                for text, count in outputs.most_common(3):
                    print("    %dx stdout: %r" % (count, text[:300]))
                for text in errors[:2]:
                    if text.startswith("valgrind: "):
                        # The log's first error, as valgrind wrote it.
                        print("\n".join("    " + line for line in text[:3000].splitlines()))
                    else:
                        print("    stderr: %r" % text[:300])
    print("hunt: %d cases, %d failed, in %.0f s" % (len(todo), failed, time.monotonic() - began))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
