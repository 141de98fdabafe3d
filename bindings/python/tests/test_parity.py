"""Where hilo once differed from CPython's threading (issue 12), each checked
against CPython's own behaviour in the same run where it can be."""

import os
import threading
import unittest

import support
import hilo


def spawn(fn, *args):
    t = hilo.Thread(target=fn, args=args)
    t.start()
    return t


class Reprs(unittest.TestCase):
    def test_semaphore_shows_its_value(self):
        s = hilo.Semaphore(3)
        self.assertRegex(repr(s), r"^<hilo\.Semaphore at 0x[0-9a-f]+: value=3>$")
        s.acquire()
        self.assertRegex(repr(s), r": value=2>$")
        b = hilo.BoundedSemaphore(3)
        self.assertRegex(repr(b), r"^<hilo\.BoundedSemaphore at 0x[0-9a-f]+: value=3/3>$")
        b.acquire()
        self.assertRegex(repr(b), r": value=2/3>$")
        # CPython's, for the shape.
        self.assertRegex(repr(threading.BoundedSemaphore(3)), r": value=3/3>$")

    def test_condition_shows_lock_state_and_waiters(self):
        cond = hilo.Condition()
        self.assertRegex(repr(cond),
                         r"^<Condition\(<unlocked hilo\.RLock object owner=0 count=0 at .*>, 0\)>$")
        entered = hilo.Event()

        def waiter():
            with cond:
                entered.set()
                cond.wait(30)
        t = spawn(waiter)
        entered.wait()
        support.wait_until_blocked(t.native_id, "a thread in cond.wait")
        with cond:
            self.assertRegex(repr(cond), r"^<Condition\(<locked hilo\.RLock object owner=\d+ "
                                         r"count=1 at .*>, 1\)>$")
            cond.notify()
        t.join()
        self.assertTrue(repr(cond).endswith(", 0)>"), repr(cond))


class ForeignLocks(unittest.TestCase):
    def check_condition_over(self, lock):
        cond = hilo.Condition(lock)
        box = []

        def consumer():
            with cond:
                cond.wait_for(lambda: box, timeout=30)
                box.append("seen")
        t = spawn(consumer)
        support.wait_until_blocked(t.native_id, "the consumer in wait_for")
        with cond:
            self.assertTrue(cond._is_owned())
            box.append("item")
            cond.notify()
        t.join()
        self.assertEqual(box, ["item", "seen"])
        self.assertFalse(cond._is_owned())
        with cond:
            self.assertFalse(cond.wait(0.01))

    def test_cpythons_lock(self):
        self.check_condition_over(threading.Lock())

    def test_cpythons_rlock(self):
        self.check_condition_over(threading.RLock())

    def test_any_object_with_acquire_and_release(self):
        class Wrapper:
            def __init__(self):
                self.inner = threading.Lock()
                self.calls = 0

            def acquire(self, *args):
                self.calls += 1
                return self.inner.acquire(*args)

            def release(self):
                self.inner.release()

            __enter__ = acquire

            def __exit__(self, *args):
                self.release()
        w = Wrapper()
        self.check_condition_over(w)
        self.assertGreater(w.calls, 2)

    def test_unacquired_foreign_lock(self):
        cond = hilo.Condition(threading.Lock())
        with self.assertRaisesRegex(RuntimeError, "cannot wait on un-acquired lock"):
            cond.wait(0)
        with self.assertRaisesRegex(RuntimeError, "cannot notify on un-acquired lock"):
            cond.notify()


class ModuleSurface(unittest.TestCase):
    def test_all_is_cpythons(self):
        self.assertEqual(sorted(hilo.__all__), sorted(threading.__all__))
        self.assertNotIn("currentThread", hilo.__all__)
        self.assertNotIn("activeCount", hilo.__all__)
        for name in hilo.__all__:
            self.assertTrue(hasattr(hilo, name), name)

    def test_lock_type_cannot_be_instantiated(self):
        with self.assertRaises(TypeError):
            type(threading.Lock())()  # CPython's, for reference
        with self.assertRaises(TypeError):
            type(hilo.Lock())()


class PrivateNames(unittest.TestCase):
    def test_rlock_internals(self):
        r = hilo.RLock()
        self.assertFalse(r._is_owned())
        self.assertEqual(r._recursion_count(), 0)
        r.acquire()
        r.acquire()
        self.assertTrue(r._is_owned())
        self.assertEqual(r._recursion_count(), 2)
        seen = []
        spawn(lambda: seen.append((r._is_owned(), r._recursion_count()))).join()
        self.assertEqual(seen, [(False, 0)])
        state = r._release_save()
        self.assertFalse(r.locked())
        self.assertFalse(r._is_owned())
        got = []
        spawn(lambda: got.append(r.acquire(False)) or r.release()).join()
        self.assertEqual(got, [True])
        r._acquire_restore(state)
        self.assertEqual(r._recursion_count(), 2)
        r.release()
        r.release()
        with self.assertRaisesRegex(RuntimeError, "cannot release un-acquired lock"):
            r._release_save()

    def test_condition_is_owned(self):
        for cond in (hilo.Condition(), hilo.Condition(hilo.Lock())):
            self.assertFalse(cond._is_owned())
            with cond:
                self.assertTrue(cond._is_owned())
            self.assertFalse(cond._is_owned())

    def test_lock_at_fork_reinit(self):
        lock = hilo.Lock()
        lock.acquire()
        lock._at_fork_reinit()
        self.assertFalse(lock.locked())
        self.assertTrue(lock.acquire(False))

    def test_register_atexit_and_shutdown(self):
        r = support.run_code("""
            import hilo, time
            done = []
            def worker():
                time.sleep(0.2)
                done.append(1)
                print("worker done", flush=True)
            hilo.Thread(target=worker).start()
            hilo._register_atexit(print, "atexit ran first", flush=True)
        """)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(),
                         ["atexit ran first", "worker done"])
        r = support.run_code("""
            import hilo
            hilo._shutdown()
            try:
                hilo._register_atexit(print)
            except RuntimeError as e:
                print(e)
        """)
        self.assertEqual(r.stdout.strip(), "can't register atexit after shutdown", r.stderr)

    def test_shutdown_waits_for_non_daemon_threads(self):
        r = support.run_code("""
            import hilo, time
            out = []
            hilo.Thread(target=lambda: (time.sleep(0.2), out.append("ran"))).start()
            hilo._shutdown()
            print(out)
        """)
        self.assertEqual(r.stdout.strip(), "['ran']", r.stderr)


@unittest.skipUnless(hasattr(os, "fork"), "no fork")
class ForkFromAThread(unittest.TestCase):
    def test_forking_thread_is_the_childs_main_thread(self):
        r = support.run_code("""
            import os, hilo
            def fork():
                pid = os.fork()
                if pid == 0:
                    ok = (hilo.main_thread() is hilo.current_thread()
                          and hilo.current_thread().name == "forker")
                    os._exit(0 if ok else 3)
                _, status = os.waitpid(pid, 0)
                print("child", os.waitstatus_to_exitcode(status))
            t = hilo.Thread(target=fork, name="forker")
            t.start(); t.join()
            print("parent main is", hilo.main_thread().name)
        """)
        self.assertEqual(r.stdout.split(), ["child", "0", "parent", "main", "is", "MainThread"],
                         r.stderr)


if __name__ == "__main__":
    unittest.main()
