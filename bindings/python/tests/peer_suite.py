"""CPython's own threading tests, run against hilo as a peer would run them.

    python3 peer_suite.py            # both runs, then the tests that differ
    python3 peer_suite.py hilo       # one run in this process
    python3 peer_suite.py threading

With `hilo` as the mode, `sys.modules['threading'] = hilo` is installed before
CPython 3.11's test.lock_tests, test.test_threading and
test.test_threading_local are imported, so every `threading.X` in them (and
in test.support's helpers) is hilo's, and the helper threads the tests start
are hilo threads. With `threading` as the mode the same modules run against
CPython's own threading, the reference count. With no mode, each runs in a
child interpreter under a time limit (a hang is reported, not waited for),
and the report ends with

    hilo: passed X of N
    threading: passed Y of N

and one line per test whose outcome differs ("differs: <test>: hilo <outcome>,
threading <outcome>"). The exit status is 0 when both runs finished (whatever
their counts: the caller compares them with its floor), 1 when a run crashed
or hung.

Children started by a test with script_helper run a fresh interpreter, in
which `threading` is CPython's: those tests check CPython there, not hilo
(docs/python-parity.md lists them).
"""

import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BINDING = os.path.dirname(HERE)
# test.lock_tests holds base classes that test_threading runs with threading's
# types; it is imported through test_threading, not loaded on its own.
MODULES = ("test.test_threading", "test.test_threading_local")
# Seconds one run may take (a clean run takes about 40 s on 2 busy cores).
LIMIT = int(os.environ.get("PEER_SUITE_LIMIT", "600"))
MARK = "PEER-RESULT "


def run_here(mode):
    """Runs the suite in this interpreter and prints one MARK line per test."""
    import faulthandler
    faulthandler.dump_traceback_later(LIMIT - 10, exit=True)
    if mode == "hilo":
        sys.path.insert(0, BINDING)
        import threading  # noqa: F401  CPython's, which hilo builds on, first
        import hilo
        sys.modules["threading"] = hilo
    import importlib
    import unittest

    class Result(unittest.TextTestResult):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.outcomes = {}

        def _note(self, test, outcome):
            self.outcomes[test.id()] = outcome
            print(MARK + json.dumps([test.id(), outcome]), flush=True)

        def addFailure(self, test, err):
            super().addFailure(test, err)
            self._note(test, "failed")

        def addError(self, test, err):
            super().addError(test, err)
            self._note(test, "error")

        def addSkip(self, test, reason):
            super().addSkip(test, reason)
            self._note(test, "skipped")

        def addExpectedFailure(self, test, err):
            super().addExpectedFailure(test, err)
            self._note(test, "passed")

        def addSubTest(self, test, subtest, err):
            super().addSubTest(test, subtest, err)
            # A failed subtest fails its test (which unittest then reports
            # with no outcome of its own).
            if err is not None:
                kind = "failed" if issubclass(err[0], test.failureException) else "error"
                self._note(test, kind)

        def addSuccess(self, test):
            super().addSuccess(test)
            # A test whose subtest failed stays failed.
            if self.outcomes.get(test.id()) not in ("failed", "error"):
                self._note(test, "passed")

        def addUnexpectedSuccess(self, test):
            super().addUnexpectedSuccess(test)
            self._note(test, "failed")

    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    for name in MODULES:
        suite.addTests(loader.loadTestsFromModule(importlib.import_module(name)))
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=Result)
    runner.run(suite)
    # The suite's own leftovers (daemon threads a test leaves blocked) must
    # not turn a finished run into a hang at exit.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def run_child(mode):
    """(outcomes by test id, None or why the run did not finish)."""
    env = dict(os.environ)
    env.pop("PYTHONWARNINGS", None)
    began = time.monotonic()
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), mode], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=LIMIT)
        problem = None if proc.returncode == 0 else "exit status %d" % proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        out, err = proc.communicate()
        problem = "hung: killed after %d s" % LIMIT
    outcomes = {}
    for line in out.splitlines():
        if line.startswith(MARK):
            test, outcome = json.loads(line[len(MARK):])
            outcomes[test] = outcome
    if problem:
        sys.stderr.write("%s run: %s; its stderr ends:\n%s\n" % (mode, problem, err[-6000:]))
    sys.stderr.write("%s run: %.1f s\n" % (mode, time.monotonic() - began))
    return outcomes, problem


def main():
    if len(sys.argv) > 1:
        run_here(sys.argv[1])
        return 0
    runs = {mode: run_child(mode) for mode in ("hilo", "threading")}
    tests = sorted(set().union(*(outcomes for outcomes, _ in runs.values())))
    for mode, (outcomes, problem) in runs.items():
        passed = sum(1 for o in outcomes.values() if o == "passed")
        print("%s: passed %d of %d%s" % (mode, passed, len(tests),
                                          " (%s)" % problem if problem else ""))
    hilo, threading = runs["hilo"][0], runs["threading"][0]
    for test in tests:
        a, b = hilo.get(test, "not run"), threading.get(test, "not run")
        if a != b:
            print("differs: %s: hilo %s, threading %s" % (test, a, b))
    return 1 if any(problem for _, problem in runs.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
