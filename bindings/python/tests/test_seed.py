"""The seed tutorial's three examples (seed/*.py), run once with CPython's
threading and once with `import hilo as threading`, print the same.

The examples are the tutorial's code as it is, with one change: the first
one's Python 2 statement `print 'Estoy trabajando...'` is written as the call
`print('Estoy trabajando...')`, since Python 3 cannot run it at all. The
hilo run changes only the line `import threading` to `import hilo as
threading`. The sleeps (5 s and 2 s) are kept: the six runs go in parallel,
so the whole comparison takes about 5 s.

Threads print concurrently, so lines may come in another order, and a print
of one thread may even land between the words of another's, right against
them; the outputs are therefore compared as multisets of words (a capital
letter starts a word; and `...`), with `Thread-N` numbers replaced by
`Thread-#`, and stderr (the DeprecationWarnings and logging) as sets of lines.
Where the order is fixed (a worker stops 5 s after all have started), it is
checked too.
"""

import os
import re
import tempfile
import unittest

import support

SEED = os.path.join(support.TESTS, "seed")
EXAMPLES = ["ex1_workers.py", "ex2_names.py", "ex3_daemon.py"]


def words(text):
    # print() writes its arguments, separators and newline one by one, so a
    # word of one thread can land right against another's ("WorkerThread-1
    # (worker)", "LanzadoServicio"): a capital letter starts a new word.
    text = re.sub(r"Thread-\d+", "Thread-#", text)
    return sorted(re.findall(r"Thread-# \(\w+\)|[A-Z][a-z]*|[a-z]+|\d+|\.\.\.", text))


def warning_lines(stderr, folder):
    return set(stderr.replace(folder + os.sep, "").splitlines())


class SeedTutorial(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.cpython_dir = os.path.join(cls.tmp.name, "cpython")
        cls.hilo_dir = os.path.join(cls.tmp.name, "hilo")
        os.mkdir(cls.cpython_dir)
        os.mkdir(cls.hilo_dir)
        procs = {}
        for name in EXAMPLES:
            with open(os.path.join(SEED, name)) as f:
                code = f.read()
            assert code.count("import threading\n") == 1, name
            with open(os.path.join(cls.cpython_dir, name), "w") as f:
                f.write(code)
            with open(os.path.join(cls.hilo_dir, name), "w") as f:
                f.write(code.replace("import threading\n", "import hilo as threading\n"))
            for kind, folder in (("cpython", cls.cpython_dir), ("hilo", cls.hilo_dir)):
                procs[kind, name] = support.start_python([name], cwd=folder)
        cls.runs = {key: support.finish(p, limit=60) for key, p in procs.items()}

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def compare(self, name):
        cpython = self.runs["cpython", name]
        hilo = self.runs["hilo", name]
        self.assertEqual(cpython.returncode, 0, cpython.stderr)
        self.assertEqual(hilo.returncode, 0, hilo.stderr)
        self.assertEqual(words(hilo.stdout), words(cpython.stdout),
                         "\nhilo:\n%s\nCPython:\n%s" % (hilo.stdout, cpython.stdout))
        self.assertEqual(warning_lines(hilo.stderr, self.hilo_dir),
                         warning_lines(cpython.stderr, self.cpython_dir),
                         "\nhilo:\n%s\nCPython:\n%s" % (hilo.stderr, cpython.stderr))
        return hilo

    def test_workers(self):
        hilo = self.compare("ex1_workers.py")
        self.assertEqual(hilo.stdout.count("Estoy trabajando..."), 3)

    def test_names(self):
        hilo = self.compare("ex2_names.py")
        out = hilo.stdout
        # One thread's print may land between another's words (print writes
        # the text and the newline separately), so the names and events are
        # checked as words: the multiset comparison above already holds them.
        for name in ["Worker", "Thread-# (worker)", "Servicio"]:
            self.assertIn(name, words(out))
        self.assertEqual(words(out).count("Lanzado"), 3)
        self.assertEqual(words(out).count("Deteniendo"), 3)
        # The two workers stop 5 s after every thread has started: at least
        # two "Deteniendo" come after the last "Lanzado" (the service's may
        # come anywhere after its own start).
        after = out[out.rindex("Lanzado"):]
        self.assertGreaterEqual(after.count("Deteniendo"), 2, out)
        self.assertIn("DeprecationWarning: currentThread() is deprecated, use "
                      "current_thread() instead", hilo.stderr)

    def test_daemon(self):
        hilo = self.compare("ex3_daemon.py")
        # The daemon is not waited for: it never logs that it stops.
        self.assertIn("[DEBUG] - Daemon     : Lanzado\n", hilo.stderr)
        self.assertNotIn("Deteniendo", hilo.stderr)
        self.assertIn("DeprecationWarning: setDaemon() is deprecated", hilo.stderr)


if __name__ == "__main__":
    unittest.main()
