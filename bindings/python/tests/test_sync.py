"""The sync objects through the binding: CPython's behaviour,
exception classes and texts. Each class is skipped, and reported as skipped,
while the loaded library does not export its C functions yet."""

import threading
import time
import unittest

import support
import hilo
from support import skip_unless_lib_has


def spawn(fn, *args):
    t = hilo.Thread(target=fn, args=args)
    t.start()
    return t


@skip_unless_lib_has("hilo_lock_new", "hilo_lock_acquire", "hilo_lock_release",
                     "hilo_lock_locked", "hilo_lock_free")
class LockTest(unittest.TestCase):
    def test_acquire_release_locked(self):
        lock = hilo.Lock()
        self.assertFalse(lock.locked())
        self.assertTrue(lock.acquire())
        self.assertTrue(lock.locked())
        self.assertFalse(lock.acquire(False))
        began = time.monotonic()
        self.assertFalse(lock.acquire(timeout=0.1))
        self.assertGreaterEqual(time.monotonic() - began, 0.08)
        lock.release()
        self.assertFalse(lock.locked())
        with lock:
            self.assertTrue(lock.locked())
        self.assertFalse(lock.locked())

    def test_any_thread_may_release(self):
        lock = hilo.Lock()
        lock.acquire()
        spawn(lock.release).join()
        self.assertFalse(lock.locked())

    def test_mutual_exclusion(self):
        lock = hilo.Lock()
        counter = [0]

        def add():
            for _ in range(2000):
                with lock:
                    v = counter[0]
                    counter[0] = v + 1
        threads = [spawn(add) for _ in range(4)]
        for t in threads:
            t.join()
        self.assertEqual(counter[0], 8000)

    def test_errors(self):
        lock = hilo.Lock()
        with self.assertRaisesRegex(RuntimeError, r"^release unlocked lock$"):
            lock.release()
        with self.assertRaisesRegex(ValueError,
                                    r"^can't specify a timeout for a non-blocking call$"):
            lock.acquire(False, 1)
        with self.assertRaises(ValueError) as cm:
            lock.acquire(True, -2)
        with self.assertRaises(ValueError) as expected:
            threading.Lock().acquire(True, -2)
        self.assertEqual(str(cm.exception), str(expected.exception))
        with self.assertRaises(OverflowError):
            lock.acquire(True, hilo.TIMEOUT_MAX * 2)


@skip_unless_lib_has("hilo_rlock_new", "hilo_rlock_acquire", "hilo_rlock_release",
                     "hilo_rlock_free")
class RLockTest(unittest.TestCase):
    def test_reentrant(self):
        r = hilo.RLock()
        self.assertTrue(r.acquire())
        self.assertTrue(r.acquire())
        r.release()
        # Still held: another thread cannot take it.
        box = []
        spawn(lambda: box.append(r.acquire(False))).join()
        self.assertEqual(box, [False])
        r.release()
        spawn(lambda: box.append(r.acquire(False) and r.release() is None)).join()
        self.assertEqual(box, [False, True])

    def test_release_by_non_owner(self):
        r = hilo.RLock()
        with self.assertRaisesRegex(RuntimeError, r"^cannot release un-acquired lock$"):
            r.release()
        r.acquire()
        box = []

        def other():
            try:
                r.release()
            except RuntimeError as e:
                box.append(str(e))
        spawn(other).join()
        self.assertEqual(box, ["cannot release un-acquired lock"])
        r.release()


@skip_unless_lib_has("hilo_cond_new", "hilo_cond_new_with_lock", "hilo_cond_wait",
                     "hilo_cond_notify", "hilo_cond_notify_all", "hilo_cond_acquire",
                     "hilo_cond_release", "hilo_cond_free", "hilo_rlock_new",
                     "hilo_lock_new")
class ConditionTest(unittest.TestCase):
    def test_wait_notify(self):
        cond = hilo.Condition()
        items = []

        def consumer():
            with cond:
                self.assertTrue(cond.wait_for(lambda: items, timeout=10))
                items.append("consumed")
        t = spawn(consumer)
        support.wait_until_blocked(t.native_id, "the consumer asleep in cond.wait_for")
        with cond:
            items.append("made")
            cond.notify()
        t.join()
        self.assertEqual(items, ["made", "consumed"])

    def test_wait_times_out(self):
        cond = hilo.Condition(hilo.Lock())
        with cond:
            began = time.monotonic()
            self.assertFalse(cond.wait(0.1))
            self.assertGreaterEqual(time.monotonic() - began, 0.08)

    def test_notify_all(self):
        cond = hilo.Condition()
        ready = []
        go = []

        def waiter():
            with cond:
                ready.append(1)
                cond.wait_for(lambda: go, timeout=10)
        threads = [spawn(waiter) for _ in range(5)]
        for t in threads:
            support.wait_until_blocked(t.native_id, "a waiter asleep in cond.wait_for")
        with cond:
            self.assertEqual(len(ready), 5)
            go.append(1)
            cond.notify_all()
        for t in threads:
            t.join(10)
            self.assertFalse(t.is_alive())

    def test_errors(self):
        cond = hilo.Condition()
        with self.assertRaisesRegex(RuntimeError, r"^cannot wait on un-acquired lock$"):
            cond.wait(0)
        with self.assertRaisesRegex(RuntimeError, r"^cannot notify on un-acquired lock$"):
            cond.notify()
        with self.assertRaisesRegex(RuntimeError, r"^cannot notify on un-acquired lock$"):
            cond.notify_all()


@skip_unless_lib_has("hilo_sem_new", "hilo_sem_new_bounded", "hilo_sem_acquire",
                     "hilo_sem_release", "hilo_sem_free")
class SemaphoreTest(unittest.TestCase):
    def test_counts(self):
        s = hilo.Semaphore(2)
        self.assertTrue(s.acquire())
        self.assertTrue(s.acquire())
        self.assertFalse(s.acquire(False))
        self.assertFalse(s.acquire(timeout=0.05))
        s.release(2)
        self.assertTrue(s.acquire(False))
        self.assertTrue(s.acquire(False))

    def test_release_wakes_a_waiter(self):
        s = hilo.Semaphore(0)
        got = []
        t = spawn(lambda: got.append(s.acquire(timeout=10)))
        support.wait_until_blocked(t.native_id, "the waiter asleep in Semaphore.acquire")
        s.release()
        t.join()
        self.assertEqual(got, [True])

    def test_one_release_of_n_wakes_n_blocked_waiters(self):
        s = hilo.Semaphore(0)
        got = []
        threads = [spawn(lambda: got.append(s.acquire(timeout=60))) for _ in range(3)]
        for t in threads:
            support.wait_until_blocked(t.native_id, "a waiter asleep in Semaphore.acquire")
        s.release(3)
        deadline = time.monotonic() + 10
        while len(got) < 3 and time.monotonic() < deadline:
            time.sleep(0.002)
        woken = len(got)
        if woken < 3:
            s.release(3 - woken)  # let those left asleep go, so the test ends
        for t in threads:
            t.join(70)
        self.assertEqual(woken, 3, "one release(3) woke only %d of 3 blocked waiters" % woken)
        self.assertEqual(got, [True] * 3)

    def test_errors(self):
        with self.assertRaisesRegex(ValueError, r"^semaphore initial value must be >= 0$"):
            hilo.Semaphore(-1)
        s = hilo.Semaphore()
        with self.assertRaisesRegex(ValueError,
                                    r"^can't specify timeout for non-blocking acquire$"):
            s.acquire(False, 1)
        with self.assertRaisesRegex(ValueError, r"^n must be one or more$"):
            s.release(0)

    def test_bounded(self):
        b = hilo.BoundedSemaphore(1)
        self.assertIsInstance(b, hilo.Semaphore)
        with self.assertRaisesRegex(ValueError, r"^Semaphore released too many times$"):
            b.release()
        b.acquire()
        b.release()
        self.assertTrue(b.acquire(False))
        self.assertFalse(b.acquire(False))


@skip_unless_lib_has("hilo_event_new", "hilo_event_set", "hilo_event_clear",
                     "hilo_event_is_set", "hilo_event_wait", "hilo_event_free")
class EventTest(unittest.TestCase):
    def test_set_clear_wait(self):
        e = hilo.Event()
        self.assertFalse(e.is_set())
        began = time.monotonic()
        self.assertFalse(e.wait(0.1))
        self.assertGreaterEqual(time.monotonic() - began, 0.08)
        main = threading.get_native_id()
        t = spawn(lambda: (support.wait_until_blocked(main, "the main thread asleep in e.wait"),
                           e.set()))
        self.assertTrue(e.wait(10))
        t.join()
        self.assertTrue(e.is_set())
        e.clear()
        self.assertFalse(e.is_set())
        self.assertFalse(e.wait(0))


@skip_unless_lib_has("hilo_event_new", "hilo_event_wait", "hilo_event_set",
                     "hilo_event_is_set")
class TimerTest(unittest.TestCase):
    def test_fires(self):
        box = []
        t = hilo.Timer(0.05, box.append, args=["fired"])
        self.assertIsInstance(t, hilo.Thread)
        t.start()
        t.join(10)
        self.assertEqual(box, ["fired"])

    def test_cancel(self):
        box = []
        t = hilo.Timer(10, box.append, args=["fired"])
        t.start()
        t.cancel()
        t.join(5)
        self.assertFalse(t.is_alive())
        self.assertEqual(box, [])

    def test_daemon_timer_pending_at_exit(self):
        r = support.run_code("""
            import hilo
            t = hilo.Timer(30, print, args=["fired"])
            t.daemon = True
            t.start()
            print("main done")
        """)
        self.assertEqual((r.returncode, r.stdout), (0, "main done\n"), r.stderr)


@skip_unless_lib_has("hilo_barrier_new", "hilo_barrier_wait", "hilo_barrier_abort",
                     "hilo_barrier_reset", "hilo_barrier_n_waiting", "hilo_barrier_parties",
                     "hilo_barrier_broken", "hilo_barrier_free")
class BarrierTest(unittest.TestCase):
    def test_all_pass_and_action_runs_once(self):
        ran = []
        b = hilo.Barrier(3, action=lambda: ran.append(hilo.current_thread().name))
        self.assertEqual(b.parties, 3)
        indexes = []
        threads = [spawn(lambda: indexes.append(b.wait(10))) for _ in range(3)]
        for t in threads:
            t.join(10)
        self.assertEqual(sorted(indexes), [0, 1, 2])
        self.assertEqual(len(ran), 1)
        self.assertFalse(b.broken)

    def test_timeout_breaks(self):
        b = hilo.Barrier(2)
        with self.assertRaises(hilo.BrokenBarrierError):
            b.wait(0.05)
        self.assertTrue(b.broken)
        with self.assertRaises(threading.BrokenBarrierError):  # the same class
            b.wait(0.05)
        b.reset()
        self.assertFalse(b.broken)

    def test_abort(self):
        b = hilo.Barrier(2)
        errors = []

        def waiter():
            try:
                b.wait(10)
            except hilo.BrokenBarrierError:
                errors.append("broken")
        t = spawn(waiter)
        deadline = time.monotonic() + 10
        while b.n_waiting < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        b.abort()
        t.join(10)
        self.assertEqual(errors, ["broken"])

    def test_failing_action_raises_in_its_thread_and_breaks_the_barrier(self):
        def action():
            raise KeyError("in action")
        b = hilo.Barrier(2, action=action)
        outcomes = []

        def waiter():
            try:
                outcomes.append(b.wait(10))
            except KeyError:
                outcomes.append("KeyError")
        threads = [spawn(waiter) for _ in range(2)]
        for t in threads:
            t.join(10)
        self.assertEqual(outcomes.count("KeyError"), 1, outcomes)
        self.assertTrue(b.broken)

    def test_parties_must_be_positive(self):
        with self.assertRaisesRegex(ValueError, r"^parties must be >= 1$"):
            hilo.Barrier(0)


class MissingSymbols(unittest.TestCase):
    @unittest.skipIf(support.has("hilo_event_new"), "the library has hilo_event_new")
    def test_missing_sync_objects_say_so(self):
        with self.assertRaisesRegex(NotImplementedError, "hilo_event_new"):
            hilo.Event()


if __name__ == "__main__":
    unittest.main()
