"""Shared helpers for hilo's Python tests: the import path of the binding and
child interpreters that run a script with it."""

import os
import subprocess
import sys
import textwrap
import time
import unittest

TESTS = os.path.dirname(os.path.abspath(__file__))
BINDING = os.path.dirname(TESTS)
if BINDING not in sys.path:
    sys.path.insert(0, BINDING)

import hilo  # noqa: E402  (after the path is set)


def child_env():
    """The environment of a child interpreter: it imports this hilo, loading
    the same library as the tests (HILO_LIB)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = BINDING + os.pathsep + env.get("PYTHONPATH", "")
    env["HILO_LIB"] = hilo.LIBRARY_PATH
    env.pop("PYTHONWARNINGS", None)
    return env


def start_python(args, cwd=None):
    return subprocess.Popen([sys.executable] + list(args), env=child_env(), cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, limit=30):
    """Waits for a child started by start_python; fails the test (after
    killing it) if it outlives `limit` seconds: a hang."""
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("child hung (killed after %d s)\nstdout:\n%s\nstderr:\n%s"
                             % (limit, out, err))
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def run_code(code, limit=30):
    """Runs `code` (dedented) in a child interpreter."""
    return finish(start_python(["-c", textwrap.dedent(code)]), limit)


def has(*symbols):
    return hilo._has(*symbols)


def skip_unless_lib_has(*symbols):
    return unittest.skipUnless(
        has(*symbols), "%s does not export %s yet" % (hilo.LIBRARY_PATH, ", ".join(symbols)))


def _task_state(tid):
    """(state letter, wait channel, system call number) of thread `tid` of this
    process, from /proc."""
    base = "/proc/self/task/%d/" % tid
    try:
        with open(base + "stat") as f:
            stat = f.read()
        state = stat[stat.rindex(")") + 1:].split()[0]
    except (OSError, ValueError, IndexError):
        state = "?"
    try:
        with open(base + "wchan") as f:
            wchan = f.read().strip()
    except OSError:
        wchan = ""
    try:
        with open(base + "syscall") as f:
            syscall = f.read().split()[0]
    except (OSError, IndexError):
        syscall = ""
    return state, wchan, syscall


FUTEX_SYSCALL = {"x86_64": "202", "aarch64": "98"}.get(os.uname().machine, "202")


def blocked_in_futex(tid):
    state, wchan, syscall = _task_state(tid)
    return state == "S" and ("futex" in wchan or syscall == FUTEX_SYSCALL)


def wait_until_blocked(tid, what, limit=30):
    """Waits until thread `tid` (a native id: hilo.Thread.native_id or
    threading.get_native_id()) is observably blocked: asleep in a futex wait,
    which every hilo wait ends in. Seen so on three polls in a row, with this
    thread sleeping (GIL released) between them, so that a thread merely
    waiting for the GIL gets it and is not taken for blocked. Fails the test,
    saying what it waited for, after `limit` seconds. Observed, never slept
    for."""
    if tid is None:
        raise AssertionError("no native id for %s" % what)
    deadline = time.monotonic() + limit
    seen = 0
    while seen < 3:
        if blocked_in_futex(tid):
            seen += 1
        else:
            seen = 0
            if time.monotonic() > deadline:
                raise AssertionError(
                    "thread %d never blocked in %d s (waited for: %s); it is in "
                    "state %r, wchan %r, syscall %r" % ((tid, limit, what) + _task_state(tid)))
        time.sleep(0.002)
