"""hilo.dump() and hilo.dump_on_signal(): a Python thread blocked on a hilo
lock shows in the dump with the lock's holder; a signal writes a dump."""

import os
import signal
import unittest

import support  # noqa: F401  (sets the import path)
from support import run_code

import hilo


def read_dump(fd):
    """Reads `fd` up to a dump's last line."""
    text = b""
    while b"End of hilo thread dump.\n" not in text:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        text += chunk
    return text.decode()


def thread_block(text, name):
    """The dump's block about the thread named `name`."""
    start = text.index('\n"%s" 0x' % name) + 1
    end = text.find("\n\n", start)
    return text[start:end if end >= 0 else len(text)]


class DumpTest(unittest.TestCase):
    def test_python_threads_blocked_on_a_hilo_lock_show_with_the_holder(self):
        out = run_code("""
            import os, threading, hilo, support
            lock = hilo.Lock()
            hilo.current_thread().name = "holder"
            lock.acquire()
            t = hilo.Thread(target=lock.acquire, name="hilo-py", daemon=True)
            t.start()
            support.wait_until_blocked(t.native_id, "hilo-py at the lock")
            ids = []
            p = threading.Thread(target=lambda: (ids.append(threading.get_native_id()),
                                                 lock.acquire()), daemon=True)
            p.start()
            while not ids:
                pass
            support.wait_until_blocked(ids[0], "the threading.Thread at the lock")
            r, w = os.pipe()
            hilo.dump(w)
            os.close(w)
            print(os.read(r, 1 << 20).decode())
        """)
        self.assertEqual(out.returncode, 0, out.stderr)
        text = out.stdout
        block = thread_block(text, "hilo-py")
        self.assertIn(', held by "holder" 0x', block)
        self.assertIn("for lock 0x", block)
        # The threading.Thread, registered as a dummy when it blocked.
        dummies = [b for b in text.split("\n\n") if b.startswith('"Dummy-')]
        self.assertTrue(any('held by "holder" 0x' in b for b in dummies), text)

    def test_dump_on_signal_writes_a_dump(self):
        r, w = os.pipe()
        try:
            hilo.dump_on_signal(signal.SIGUSR2, w)
            os.kill(os.getpid(), signal.SIGUSR2)
            text = read_dump(r)
        finally:
            hilo.dump_on_signal(0)
            os.close(r)
            os.close(w)
        self.assertTrue(text.startswith("hilo thread dump: pid %d" % os.getpid()), text)
        self.assertIn("End of hilo thread dump.", text)

    def test_a_signal_python_handles_is_refused(self):
        with self.assertRaises(RuntimeError) as caught:
            hilo.dump_on_signal(signal.SIGINT)
        self.assertIn("already has a handler", str(caught.exception))

    def test_a_bad_fd_is_refused(self):
        with self.assertRaises(Exception):
            hilo.dump(-1)


if __name__ == "__main__":
    unittest.main()
