"""hilo.Thread and the module functions as a drop-in for threading."""

import io
import logging
import os
import re
import threading
import time
import unittest
import warnings

import support
import hilo


def run_in_thread(fn, **kwargs):
    """Runs fn in a hilo thread and returns what it returned (or raises)."""
    box = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: B036 - handed to the test thread
            box["error"] = e

    t = hilo.Thread(target=target, **kwargs)
    t.start()
    t.join(30)
    assert not t.is_alive(), "thread did not finish"
    if "error" in box:
        raise box["error"]
    return box["value"]


class ThreadLife(unittest.TestCase):
    def test_target_gets_args_and_kwargs(self):
        seen = []
        t = hilo.Thread(target=lambda a, b, c=None: seen.append((a, b, c)), args=(1, 2),
                        kwargs={"c": 3})
        t.start()
        t.join()
        self.assertEqual(seen, [(1, 2, 3)])

    def test_is_alive_from_start_until_the_end(self):
        go = threading.Event()
        t = hilo.Thread(target=go.wait)
        self.assertFalse(t.is_alive())
        t.start()
        self.assertTrue(t.is_alive())
        go.set()
        t.join()
        self.assertFalse(t.is_alive())

    def test_join_with_timeout_returns_while_alive(self):
        go = threading.Event()
        t = hilo.Thread(target=go.wait)
        t.start()
        began = time.monotonic()
        self.assertIsNone(t.join(0.2))
        waited = time.monotonic() - began
        self.assertTrue(t.is_alive())
        self.assertGreaterEqual(waited, 0.15)
        self.assertLess(waited, 5)
        began = time.monotonic()
        t.join(-1)  # a negative timeout does not wait, as in CPython
        self.assertLess(time.monotonic() - began, 0.1)
        go.set()
        t.join()
        self.assertFalse(t.is_alive())

    def test_run_overridden_in_a_subclass(self):
        class Worker(hilo.Thread):
            def __init__(self):
                super().__init__(name="W")
                self.result = None

            def run(self):
                self.result = hilo.current_thread().name

        w = Worker()
        w.start()
        w.join()
        self.assertEqual(w.result, "W")

    def test_run_drops_target_and_args(self):
        t = hilo.Thread(target=len, args=([1],))
        t.start()
        t.join()
        self.assertFalse(hasattr(t, "_target"))
        self.assertFalse(hasattr(t, "_args"))

    def test_ident_and_native_id(self):
        t = hilo.Thread(target=lambda: None)
        self.assertIsNone(t.ident)
        self.assertIsNone(t.native_id)
        seen = {}
        t = hilo.Thread(target=lambda: seen.update(ident=hilo.get_ident(),
                                                   native=hilo.get_native_id()))
        t.start()
        t.join()
        self.assertEqual(t.ident, seen["ident"])
        self.assertEqual(t.native_id, seen["native"])
        self.assertEqual(hilo._lib.hilo_native_id(t._handle), seen["native"])
        self.assertNotEqual(t.native_id, os.getpid())

    def test_many_threads(self):
        results = []
        lock = threading.Lock()

        def work(i):
            with lock:
                results.append(i)

        threads = [hilo.Thread(target=work, args=(i,)) for i in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results), list(range(200)))
        self.assertFalse(any(t.is_alive() for t in threads))

    def test_thread_started_from_a_hilo_thread(self):
        def outer():
            inner = hilo.Thread(target=lambda: None, name="inner")
            inner.start()
            inner.join()
            return inner.is_alive(), inner.name
        self.assertEqual(run_in_thread(outer), (False, "inner"))

    def test_system_exit_in_target_is_silent(self):
        caught = []
        old = hilo.excepthook
        hilo.excepthook = caught.append
        try:
            t = hilo.Thread(target=lambda: exec("raise SystemExit(3)"))
            t.start()
            t.join()
        finally:
            hilo.excepthook = old
        self.assertEqual(caught, [])

    def test_exception_goes_to_excepthook(self):
        caught = []
        old = hilo.excepthook
        hilo.excepthook = caught.append
        try:
            def boom():
                raise KeyError("boom")
            t = hilo.Thread(target=boom, name="Boom")
            t.start()
            t.join()
        finally:
            hilo.excepthook = old
        self.assertEqual(len(caught), 1)
        self.assertIs(caught[0].exc_type, KeyError)
        self.assertIs(caught[0].thread, t)

    def test_default_excepthook_prints_like_cpython(self):
        r = support.run_code("""
            import hilo
            def boom():
                raise ValueError("bad value")
            t = hilo.Thread(target=boom, name="Boom")
            t.start(); t.join()
            print("still running")
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "still running\n")
        self.assertIn("Exception in thread Boom:\n", r.stderr)
        self.assertIn("ValueError: bad value", r.stderr)

    def test_repr(self):
        t = hilo.Thread(target=lambda: None, name="R", daemon=True)
        self.assertEqual(repr(t), "<Thread(R, initial daemon)>")
        t.start()
        t.join()
        self.assertEqual(repr(t), "<Thread(R, stopped daemon %d)>" % t.ident)


class Names(unittest.TestCase):
    def test_default_names_follow_cpython(self):
        def work():
            pass
        a = hilo.Thread(target=work)
        b = hilo.Thread()
        c = hilo.Thread(target=work, name="")
        m = re.fullmatch(r"Thread-(\d+) \(work\)", a.name)
        self.assertIsNotNone(m, a.name)
        n = int(m.group(1))
        self.assertEqual(b.name, "Thread-%d" % (n + 1))
        self.assertEqual(c.name, "Thread-%d (work)" % (n + 2))

    def test_explicit_name_is_str_of_it(self):
        self.assertEqual(hilo.Thread(name="Servicio").name, "Servicio")
        self.assertEqual(hilo.Thread(name=42).name, "42")

    def test_rename_while_running_reaches_c_and_the_kernel(self):
        go = threading.Event()
        renamed = threading.Event()
        seen = {}

        def work():
            renamed.wait()
            seen["c"] = hilo._lib.hilo_current_name().decode()
            with open("/proc/self/task/%d/comm" % hilo.get_native_id()) as f:
                seen["comm"] = f.read().rstrip("\n")
            go.wait()

        t = hilo.Thread(target=work, name="before")
        t.start()
        t.name = "catorce bytes.áé"
        renamed.set()
        go.set()
        t.join()
        self.assertEqual(t.name, "catorce bytes.áé")
        self.assertEqual(seen["c"], "catorce bytes.áé")
        # At most 15 bytes: the start, "..", the end (6 bytes here), cut on
        # character boundaries.
        self.assertEqual(seen["comm"], "catorce..s.áé")

    def test_cpython_current_thread_sees_the_hilo_thread(self):
        def inside():
            return threading.current_thread(), hilo.current_thread()
        t_cpython, t_hilo = run_in_thread(inside, name="Daemon")
        self.assertIs(t_cpython, t_hilo)
        self.assertEqual(t_cpython.name, "Daemon")
        self.assertNotIn(t_hilo, threading.enumerate())  # gone once it ended

    def test_logging_thread_name_is_the_hilo_name(self):
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(threadName)s:%(message)s"))
        log = logging.getLogger("hilo-test")
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
        try:
            run_in_thread(lambda: log.debug("hola"), name="Daemon")
        finally:
            log.removeHandler(handler)
        self.assertEqual(stream.getvalue(), "Daemon:hola\n")

    def test_main_thread(self):
        main = hilo.main_thread()
        self.assertEqual(main.name, "MainThread")
        self.assertIs(hilo.current_thread(), main)
        self.assertEqual(main.ident, threading.main_thread().ident)
        self.assertEqual(main.native_id, os.getpid())
        self.assertTrue(main.is_alive())
        self.assertFalse(main.daemon)
        self.assertIs(run_in_thread(hilo.main_thread), main)


class Daemon(unittest.TestCase):
    def test_inherited_from_the_creating_thread(self):
        self.assertFalse(hilo.Thread().daemon)
        self.assertTrue(run_in_thread(lambda: hilo.Thread().daemon, daemon=True))
        self.assertFalse(run_in_thread(lambda: hilo.Thread().daemon, daemon=False))

    def test_explicit(self):
        self.assertTrue(hilo.Thread(daemon=True).daemon)
        t = hilo.Thread()
        t.daemon = True
        self.assertTrue(t.daemon)
        self.assertEqual(hilo._lib.hilo_is_daemon(t._handle), 1)


class Errors(unittest.TestCase):
    def test_start_twice(self):
        t = hilo.Thread(target=lambda: None)
        t.start()
        t.join()
        with self.assertRaisesRegex(RuntimeError, r"^threads can only be started once$"):
            t.start()

    def test_join_before_start(self):
        with self.assertRaisesRegex(RuntimeError,
                                    r"^cannot join thread before it is started$"):
            hilo.Thread().join()

    def test_join_current_thread(self):
        def join_self():
            hilo.current_thread().join()
        with self.assertRaisesRegex(RuntimeError, r"^cannot join current thread$"):
            run_in_thread(join_self)
        with self.assertRaisesRegex(RuntimeError, r"^cannot join current thread$"):
            hilo.main_thread().join()

    def test_daemon_after_start(self):
        go = threading.Event()
        t = hilo.Thread(target=go.wait)
        t.start()
        try:
            with self.assertRaisesRegex(RuntimeError,
                                        r"^cannot set daemon status of active thread$"):
                t.daemon = True
        finally:
            go.set()
            t.join()

    def test_subclass_without_init(self):
        class Broken(hilo.Thread):
            def __init__(self):
                pass
        with self.assertRaisesRegex(RuntimeError, r"^thread.__init__\(\) not called$"):
            Broken().start()
        with self.assertRaisesRegex(RuntimeError, r"^Thread.__init__\(\) not called$"):
            Broken().join()

    def test_group_must_be_none(self):
        with self.assertRaises(AssertionError):
            hilo.Thread(group=object())

    def test_stack_size(self):
        self.assertEqual(hilo.stack_size(), 0)
        with self.assertRaisesRegex(ValueError, r"^size not valid: 1000 bytes$"):
            hilo.stack_size(1000)
        try:
            self.assertEqual(hilo.stack_size(1 << 20), 0)
            self.assertEqual(hilo.stack_size(), 1 << 20)
            self.assertEqual(run_in_thread(lambda: 7), 7)
        finally:
            self.assertEqual(hilo.stack_size(0), 1 << 20)
        self.assertEqual(hilo.stack_size(), 0)


class ModuleFunctions(unittest.TestCase):
    def test_enumerate_and_active_count(self):
        go = threading.Event()
        t = hilo.Thread(target=go.wait, name="listed")
        before = hilo.active_count()
        self.assertNotIn(t, hilo.enumerate())
        t.start()
        try:
            self.assertIn(t, hilo.enumerate())
            self.assertIn(hilo.main_thread(), hilo.enumerate())
            self.assertEqual(hilo.active_count(), before + 1)
            self.assertEqual(len(hilo.enumerate()), hilo.active_count())
            self.assertIn(t, threading.enumerate())  # CPython's view agrees
        finally:
            go.set()
            t.join()
        self.assertNotIn(t, hilo.enumerate())
        self.assertEqual(hilo.active_count(), before)

    def test_cpython_threads_are_listed_too(self):
        go = threading.Event()
        t = threading.Thread(target=go.wait)
        t.start()
        try:
            self.assertIn(t, hilo.enumerate())
        finally:
            go.set()
            t.join()

    def test_get_ident_and_native_id(self):
        self.assertEqual(hilo.get_ident(), threading.get_ident())
        self.assertEqual(hilo.get_native_id(), threading.get_native_id())

    def test_local_is_per_thread(self):
        data = hilo.local()
        data.x = "main"
        self.assertFalse(run_in_thread(lambda: hasattr(data, "x")))

        def set_and_read():
            data.x = "thread"
            return data.x
        self.assertEqual(run_in_thread(set_and_read), "thread")
        self.assertEqual(data.x, "main")

    def test_the_surface_exists(self):
        for name in ["Thread", "current_thread", "main_thread", "enumerate", "active_count",
                     "get_ident", "get_native_id", "stack_size", "Event", "Lock", "RLock",
                     "Condition", "Semaphore", "BoundedSemaphore", "Barrier",
                     "BrokenBarrierError", "Timer", "local", "currentThread", "activeCount",
                     "excepthook", "ExceptHookArgs", "TIMEOUT_MAX", "ThreadError"]:
            self.assertTrue(hasattr(hilo, name), name)
        self.assertTrue(issubclass(hilo.BrokenBarrierError, RuntimeError))
        self.assertTrue(issubclass(hilo.Timer, hilo.Thread))


class CamelCase(unittest.TestCase):
    def assert_deprecated(self, text, fn, *args):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = fn(*args)
        self.assertEqual([str(w.message) for w in caught], [text])
        self.assertIs(caught[0].category, DeprecationWarning)
        self.assertEqual(caught[0].filename, __file__)
        return value

    def test_aliases_work_and_warn_as_cpython(self):
        t = hilo.Thread(name="old")
        self.assertEqual(self.assert_deprecated(
            "getName() is deprecated, get the name attribute instead", t.getName), "old")
        self.assert_deprecated("setName() is deprecated, set the name attribute instead",
                               t.setName, "new")
        self.assertEqual(t.name, "new")
        self.assertFalse(self.assert_deprecated(
            "isDaemon() is deprecated, get the daemon attribute instead", t.isDaemon))
        self.assert_deprecated("setDaemon() is deprecated, set the daemon attribute instead",
                               t.setDaemon, True)
        self.assertTrue(t.daemon)
        self.assertFalse(self.assert_deprecated(
            "isAlive() is deprecated, use is_alive() instead", t.isAlive))
        self.assertIs(self.assert_deprecated(
            "currentThread() is deprecated, use current_thread() instead",
            hilo.currentThread), hilo.main_thread())
        self.assertEqual(self.assert_deprecated(
            "activeCount() is deprecated, use active_count() instead", hilo.activeCount),
            hilo.active_count())


if __name__ == "__main__":
    unittest.main()
