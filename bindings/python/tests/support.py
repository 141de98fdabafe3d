"""Shared helpers for hilo's Python tests: the import path of the binding and
child interpreters that run a script with it."""

import os
import subprocess
import sys
import textwrap
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
