"""What hilo._hilo (the compiled module) does that the Python layer relied
on ctypes for: one library in the process, Python threads as hilo threads,
names read back from C, and the locks' argument checks."""

import ctypes
import os
import tempfile
import threading
import unittest

import support  # noqa: F401  (the import path of the binding)
import hilo


class OneLibrary(unittest.TestCase):
    def test_extension_and_ctypes_share_the_loaded_library(self):
        # The extension is linked by soname; the library ctypes loaded
        # (HILO_LIB or the bundled one) is the one it uses.
        with open("/proc/self/maps") as f:
            mapped = {line.split()[-1] for line in f if "libhilo" in line}
        self.assertEqual(len(mapped), 1, mapped)
        self.assertEqual(os.path.realpath(mapped.pop()), os.path.realpath(hilo.LIBRARY_PATH))

    def test_python_threads_are_hilo_threads_in_hilo_dump(self):
        lib = ctypes.CDLL(hilo.LIBRARY_PATH)
        lib.hilo_dump.argtypes = [ctypes.c_int]
        lib.hilo_dump.restype = ctypes.c_int
        stop = hilo.Event()
        t = hilo.Thread(target=stop.wait, name="seen-by-hilo-dump")
        t.start()
        try:
            with tempfile.TemporaryFile("w+") as f:
                self.assertEqual(lib.hilo_dump(f.fileno()), 0)
                f.seek(0)
                text = f.read()
        finally:
            stop.set()
            t.join()
        self.assertIn("seen-by-hilo-dump", text)


class Names(unittest.TestCase):
    def test_long_names_round_trip(self):
        name = "long-" + "é" * 200
        t = hilo.Thread(target=int, name=name)
        self.assertEqual(t.name, name)
        t.name = "x" * 500
        self.assertEqual(t.name, "x" * 500)

    def test_a_rename_from_c_is_seen(self):
        lib = ctypes.CDLL(hilo.LIBRARY_PATH)
        lib.hilo_set_name.argtypes = [ctypes.c_uint64, ctypes.c_char_p]
        t = hilo.Thread(target=int, name="before")
        self.assertEqual(lib.hilo_set_name(t._handle, b"after-from-c"), 0)
        self.assertEqual(t.name, "after-from-c")
        self.assertEqual(lib.hilo_set_name(t._handle, b"y" * 300), 0)
        self.assertEqual(t.name, "y" * 300)

    def test_name_of_an_uninitialised_thread(self):
        class Broken(hilo.Thread):
            def __init__(self):
                pass
        with self.assertRaisesRegex(AssertionError, "Thread.__init__"):
            Broken().name


class LockArguments(unittest.TestCase):
    """The same exceptions and texts as CPython's locks, from one run."""

    def outcomes(self, make):
        found = []
        for args, kwargs in [((True, -2), {}), ((False, 1), {}), ((), {"timeout": -5}),
                             ((), {"blocking": False, "timeout": 0.5}), (("x",), {})]:
            lock = make()
            try:
                found.append(("ok", lock.acquire(*args, **kwargs)))
            except Exception as e:  # noqa: BLE001 - compared below
                found.append((type(e).__name__, str(e) if type(e) is not TypeError else ""))
        return found

    def test_lock(self):
        self.assertEqual(self.outcomes(hilo.Lock), self.outcomes(threading.Lock))

    def test_rlock(self):
        self.assertEqual(self.outcomes(hilo.RLock), self.outcomes(threading.RLock))

    def test_too_large_timeout(self):
        with self.assertRaises(OverflowError):
            hilo.Lock().acquire(timeout=1e300)

    def test_release_errors(self):
        with self.assertRaisesRegex(RuntimeError, "^release unlocked lock$"):
            hilo.Lock().release()
        with self.assertRaisesRegex(RuntimeError, "^cannot release un-acquired lock$"):
            hilo.RLock().release()

    def test_keyword_arguments(self):
        e = hilo.Event()
        self.assertFalse(e.wait(timeout=0))
        c = hilo.Condition()
        with c:
            self.assertFalse(c.wait(timeout=0))
            c.notify(n=2)


if __name__ == "__main__":
    unittest.main()
