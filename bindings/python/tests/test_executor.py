"""hilo.ThreadPoolExecutor (issue 14): concurrent.futures.ThreadPoolExecutor
on a hilo executor, checked against CPython's where they must agree."""

import concurrent.futures as cf
import threading
import time
import unittest

import support
import hilo


def blocker():
    """An Event and a task that waits on it (at most 30 s)."""
    gate = threading.Event()
    return gate, lambda: gate.wait(30)


class Basics(unittest.TestCase):
    def setUp(self):
        self.ex = hilo.ThreadPoolExecutor(max_workers=2, thread_name_prefix="T")
        self.addCleanup(self.ex.shutdown, cancel_futures=True)

    def test_is_an_executor_whose_futures_are_concurrent_futures(self):
        self.assertIsInstance(self.ex, cf.Executor)
        f = self.ex.submit(divmod, 17, 5)
        self.assertIsInstance(f, cf.Future)
        self.assertEqual(f.result(30), (3, 2))
        self.assertTrue(f.done())
        self.assertRegex(repr(f), r"^<Future at 0x[0-9a-f]+ state=finished returned tuple>$")

    def test_kwargs_reach_the_callable(self):
        f = self.ex.submit(lambda a, *, b: a - b, 10, b=3)
        self.assertEqual(f.result(30), 7)

    def test_exception_is_stored_with_its_traceback(self):
        def fail():
            raise KeyError("boom")
        f = self.ex.submit(fail)
        exc = f.exception(30)
        self.assertIsInstance(exc, KeyError)
        self.assertIsNotNone(exc.__traceback__)
        self.assertIn("fail", [tb.tb_frame.f_code.co_name for tb in
                               _walk(exc.__traceback__)])
        with self.assertRaises(KeyError):
            f.result(30)

    def test_base_exception_is_stored_too(self):
        f = self.ex.submit(lambda: (_ for _ in ()).throw(SystemExit(3)))
        self.assertIsInstance(f.exception(30), SystemExit)

    def test_map_keeps_order_and_times_out(self):
        def slow_square(x):
            time.sleep(0.01 * (5 - x))
            return x * x
        self.assertEqual(list(self.ex.map(slow_square, range(5))), [0, 1, 4, 9, 16])
        self.assertEqual(list(self.ex.map(pow, [2, 3], [5, 2])), [32, 9])
        gate, wait = blocker()
        try:
            results = self.ex.map(lambda _: wait(), range(2), timeout=0.05)
            with self.assertRaises(cf.TimeoutError):
                list(results)
        finally:
            gate.set()

    def test_result_timeout(self):
        gate, wait = blocker()
        f = self.ex.submit(wait)
        with self.assertRaises(cf.TimeoutError):
            f.result(0.05)
        gate.set()
        self.assertTrue(f.result(30))

    def test_cancel_succeeds_only_while_queued(self):
        gate, wait = blocker()
        running = [self.ex.submit(wait) for _ in range(2)]
        queued = self.ex.submit(lambda: "ran")
        for f in running:
            _until(f.running)
        self.assertFalse(running[0].cancel())
        self.assertTrue(queued.cancel())
        self.assertTrue(queued.cancel())  # again: True, as CPython's
        self.assertTrue(queued.cancelled())
        self.assertTrue(queued.done())
        with self.assertRaises(cf.CancelledError):
            queued.result(0)
        gate.set()
        for f in running:
            self.assertTrue(f.result(30))
        self.assertFalse(running[1].cancel())  # finished

    def test_wait_and_as_completed_take_our_futures(self):
        gate, wait = blocker()
        slow = self.ex.submit(wait)
        fast = self.ex.submit(lambda: 1)
        done, not_done = cf.wait([slow, fast], timeout=30, return_when=cf.FIRST_COMPLETED)
        self.assertEqual(done, {fast})
        self.assertEqual(not_done, {slow})
        queued = self.ex.submit(wait)
        queued2 = self.ex.submit(wait)
        self.assertTrue(queued2.cancel())
        # A future cancelled while queued is done for wait() at once.
        done, _ = cf.wait([queued2, fast], timeout=30, return_when=cf.ALL_COMPLETED)
        self.assertEqual(done, {queued2, fast})
        gate.set()
        self.assertEqual(set(cf.as_completed([slow, fast, queued, queued2], timeout=30)),
                         {slow, fast, queued, queued2})

    def test_done_callbacks_run_once(self):
        seen = []
        f = self.ex.submit(lambda: 5)
        f.add_done_callback(lambda g: seen.append(("late-or-worker", g.result())))
        f.result(30)
        f.add_done_callback(lambda g: seen.append(("at once", g.result())))
        _until(lambda: len(seen) == 2)
        self.assertEqual(sorted(s[1] for s in seen), [5, 5])
        self.assertEqual(seen[-1][0], "at once")

    def test_workers_are_hilo_threads_named_prefix_i(self):
        gate, wait = blocker()
        fs = [self.ex.submit(wait) for _ in range(2)]
        for f in fs:
            _until(f.running)
        names = {t.name for t in hilo.enumerate()}
        self.assertLessEqual({"T_0", "T_1"}, names)
        self.assertNotIn("T_2", names)  # never more than max_workers
        gate.set()
        for f in fs:
            f.result(30)

    def test_tasks_see_their_worker_as_current_thread(self):
        seen = self.ex.submit(lambda: (threading.current_thread().name,
                                       hilo.current_thread().name,
                                       threading.current_thread().ident ==
                                       threading.get_ident())).result(30)
        self.assertRegex(seen[0], r"^T_[01]$")
        self.assertEqual(seen[0], seen[1])
        self.assertTrue(seen[2])
        with cf.ThreadPoolExecutor(1, "C") as ex:  # CPython's, the same
            self.assertEqual(ex.submit(lambda: threading.current_thread().name).result(30),
                             "C_0")

    def test_ended_workers_leave_threading_active(self):
        ex = hilo.ThreadPoolExecutor(2, "Gone")
        for f in [ex.submit(time.sleep, 0.01) for _ in range(4)]:
            f.result(30)
        ex.shutdown(wait=True)
        # A worker drops its entry in its thread-exit destructor, which may
        # run just after hilo counts the worker ended (shutdown returns).
        _until(lambda: not [t for t in threading.enumerate() if t.name.startswith("Gone_")])
        _until(lambda: not [t for t in hilo.enumerate() if t.name.startswith("Gone_")])

    def test_default_prefix_and_max_workers(self):
        with hilo.ThreadPoolExecutor() as ex:
            self.assertRegex(ex._thread_name_prefix, r"^ThreadPoolExecutor-\d+$")
            self.assertEqual(ex._max_workers,
                             cf.ThreadPoolExecutor()._max_workers)
            ex.submit(time.sleep, 0).result(30)
            prefix = ex._thread_name_prefix
            self.assertIn(prefix + "_0", {t.name for t in hilo.enumerate()})

    def test_bad_max_workers_is_value_error(self):
        for bad in (0, -1):
            with self.assertRaisesRegex(ValueError, "max_workers must be greater than 0"):
                hilo.ThreadPoolExecutor(bad)
            with self.assertRaises(ValueError):  # CPython's, the same
                cf.ThreadPoolExecutor(bad)
        with self.assertRaises(TypeError):
            hilo.ThreadPoolExecutor(1, initializer=5)


class Shutdown(unittest.TestCase):
    def test_submit_after_shutdown_is_refused_with_pythons_text(self):
        texts = []
        for cls in (hilo.ThreadPoolExecutor, cf.ThreadPoolExecutor):
            ex = cls(1)
            ex.shutdown()
            with self.assertRaises(RuntimeError) as caught:
                ex.submit(print)
            texts.append(str(caught.exception))
            ex.shutdown()  # a second call is fine
        self.assertEqual(texts[0], "cannot schedule new futures after shutdown")
        self.assertEqual(texts[0], texts[1])

    def test_context_manager_waits_for_the_work(self):
        with hilo.ThreadPoolExecutor(2) as ex:
            fs = [ex.submit(time.sleep, 0.02) for _ in range(6)]
        self.assertTrue(all(f.done() and not f.cancelled() for f in fs))

    def test_cancel_futures_cancels_the_queued_work_only(self):
        ex = hilo.ThreadPoolExecutor(1)
        gate, wait = blocker()
        first = ex.submit(wait)
        _until(first.running)
        queued = [ex.submit(lambda: "ran") for _ in range(5)]
        threading.Timer(0.05, gate.set).start()
        ex.shutdown(wait=True, cancel_futures=True)
        self.assertTrue(first.result(0))
        self.assertTrue(all(f.cancelled() for f in queued))
        done, not_done = cf.wait(queued, timeout=30)
        self.assertEqual(not_done, set())

    def test_shutdown_without_wait_still_runs_the_queue(self):
        ex = hilo.ThreadPoolExecutor(1)
        fs = [ex.submit(time.sleep, 0.01) for _ in range(3)]
        ex.shutdown(wait=False)
        self.assertEqual(len(list(cf.as_completed(fs, timeout=30))), 3)
        self.assertFalse(any(f.cancelled() for f in fs))

    def test_initializer_runs_once_per_worker(self):
        seen = []
        with hilo.ThreadPoolExecutor(2, initializer=seen.append, initargs=("x",)) as ex:
            for f in [ex.submit(time.sleep, 0.01) for _ in range(10)]:
                f.result(30)
        self.assertIn(len(seen), (1, 2))
        self.assertEqual(set(seen), {"x"})

    def test_failed_initializer_breaks_the_pool(self):
        def bad():
            raise ValueError("init")
        with self.assertLogs("concurrent.futures", "CRITICAL"):
            ex = hilo.ThreadPoolExecutor(1, initializer=bad)
            f = ex.submit(lambda: "ran")
            with self.assertRaises(hilo.BrokenThreadPool):
                f.result(30)
        with self.assertRaises(hilo.BrokenThreadPool):
            ex.submit(print)
        ex.shutdown()

    def test_a_collected_executor_still_runs_its_work(self):
        f = hilo.ThreadPoolExecutor(1).submit(lambda: "ran")
        self.assertEqual(f.result(30), "ran")


class Exit(unittest.TestCase):
    def test_exit_waits_for_submitted_work_as_cpython(self):
        code = """
            import time, {mod}
            ex = {cls}(1)
            ex.submit(time.sleep, 0.2)
            for i in range(3):
                ex.submit(print, "ran", i, flush=True)
            print("main returns", flush=True)
        """
        for mod, cls in (("hilo", "hilo.ThreadPoolExecutor"),
                         ("concurrent.futures", "concurrent.futures.ThreadPoolExecutor")):
            r = support.run_code(code.format(mod=mod, cls=cls))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout.split("\n"),
                             ["main returns", "ran 0", "ran 1", "ran 2", ""], cls)

    def test_submit_from_an_exit_hook_is_refused(self):
        code = """
            import atexit, {mod}
            ex = {cls}(1)
            ex.submit(print, "before")
            def late():
                try:
                    ex.submit(print, "after")
                except RuntimeError as e:
                    print(e)
            atexit.register(late)
        """
        outputs = []
        for mod, cls in (("hilo", "hilo.ThreadPoolExecutor"),
                         ("concurrent.futures", "concurrent.futures.ThreadPoolExecutor")):
            r = support.run_code(code.format(mod=mod, cls=cls))
            self.assertEqual(r.returncode, 0, r.stderr)
            outputs.append(r.stdout.split("\n"))
        # CPython 3.11 answers "cannot schedule new futures after shutdown".
        self.assertEqual(outputs[0][0], "before")
        self.assertRegex(outputs[0][1], "^cannot schedule new futures after")
        self.assertEqual(outputs[0], outputs[1])

    def test_fork_child_runs_new_work_and_exits(self):
        r = support.run_code("""
            import os, warnings, hilo
            warnings.simplefilter("ignore")  # fork() with threads
            ex = hilo.ThreadPoolExecutor(2, "F")
            ex.submit(int).result(30)
            pid = os.fork()
            if pid == 0:
                print(ex.submit(lambda: "child ran").result(30), flush=True)
                names = [t.name for t in hilo.enumerate() if t.name != "MainThread"]
                print(len(names) == 1 and names[0].startswith("F_"), flush=True)
                ex.submit(print, "child queued", flush=True)
            else:
                _, status = os.waitpid(pid, 0)
                print("parent", ex.submit(os.waitstatus_to_exitcode, status).result(30))
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split("\n"), [
            "child ran", "True", "child queued", "parent 0", ""])


def _walk(tb):
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _until(predicate, limit=30):
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("not reached in %d s" % limit)
        time.sleep(0.001)


if __name__ == "__main__":
    unittest.main()
