"""Interpreter exit with hilo threads, in child interpreters: non-daemon
threads are waited for; daemon threads never crash or hang the exit."""

import time
import unittest

import support

CRASH_SIGNS = ("Fatal Python error", "Segmentation fault", "core dumped", "Aborted",
               "Exception ignored")


class Exit(unittest.TestCase):
    def assert_clean(self, r, code=0):
        self.assertEqual(r.returncode, code, "stdout:\n%s\nstderr:\n%s" % (r.stdout, r.stderr))
        for sign in CRASH_SIGNS:
            self.assertNotIn(sign, r.stderr)

    def expect(self, code, stdout, status=0):
        """Runs `code` in a child interpreter; checks its status and stdout."""
        r = support.run_code(code)
        self.assert_clean(r, status)
        self.assertEqual(r.stdout, stdout)

    def test_non_daemon_thread_is_waited_for(self):
        self.expect("""
            import hilo, time
            def work():
                time.sleep(0.5)
                print("worker done", flush=True)
            hilo.Thread(target=work).start()
            print("main done", flush=True)
        """, "main done\nworker done\n")

    def test_thread_started_by_a_non_daemon_during_exit_is_waited_for(self):
        self.expect("""
            import hilo, time
            def grandchild():
                time.sleep(0.3)
                print("grandchild done", flush=True)
            def child():
                time.sleep(0.3)
                hilo.Thread(target=grandchild).start()
                print("child done", flush=True)
            hilo.Thread(target=child).start()
            print("main done", flush=True)
        """, "main done\nchild done\ngrandchild done\n")

    def test_sys_exit_keeps_its_status_and_waits(self):
        self.expect("""
            import hilo, sys, time
            def work():
                time.sleep(0.3)
                print("worker done", flush=True)
            hilo.Thread(target=work).start()
            sys.exit(3)
        """, "worker done\n", 3)

    def test_sleeping_daemon_is_not_waited_for(self):
        began = time.monotonic()
        self.expect("""
            import hilo, time
            def sleeper():
                time.sleep(60)
                print("daemon woke up", flush=True)
            hilo.Thread(target=sleeper, daemon=True).start()
            print("main done", flush=True)
        """, "main done\n")
        self.assertLess(time.monotonic() - began, 20)

    def test_busy_daemons_at_exit_neither_crash_nor_hang(self):
        # Daemon threads that run Python, print, call hilo and start more
        # daemon threads while the interpreter finalises; several runs, since
        # a crash here would be a race.
        code = """
            import hilo, time
            stop = False
            def spin(i):
                n = 0
                while True:
                    n += 1
                    if n % 50000 == 0:
                        print("spin", i, n, flush=True)
                        hilo.current_thread().name = "spin-%d-%d" % (i, n)
                        hilo.enumerate()
            def spawner():
                while True:
                    t = hilo.Thread(target=time.sleep, args=(0.001,))
                    t.start()
                    t.join(0.01)
            def sleeper():
                while True:
                    time.sleep(0.0005)
            for i in range(4):
                hilo.Thread(target=spin, args=(i,), daemon=True).start()
            hilo.Thread(target=spawner, daemon=True).start()
            for i in range(4):
                hilo.Thread(target=sleeper, daemon=True).start()
            time.sleep(0.05)
            print("main done", flush=True)
        """
        procs = [support.start_python(["-c", __import__("textwrap").dedent(code)])
                 for _ in range(6)]
        for p in procs:
            r = support.finish(p)
            self.assert_clean(r)
            self.assertIn("main done", r.stdout)

    def test_daemon_blocked_in_join_of_a_non_daemon(self):
        self.expect("""
            import hilo, time
            def work():
                time.sleep(0.3)
                print("worker done", flush=True)
            w = hilo.Thread(target=work)
            w.start()
            hilo.Thread(target=w.join, daemon=True).start()
            print("main done", flush=True)
        """, "main done\nworker done\n")

    def test_no_thread_starts_after_the_last_exit_wait(self):
        # An atexit hook registered before hilo's runs after it.
        self.expect("""
            import atexit
            def late():
                try:
                    hilo.Thread(target=print, args=("ran",)).start()
                except RuntimeError as e:
                    print("RuntimeError:", e, flush=True)
            atexit.register(late)
            import hilo
            print("main done", flush=True)
        """, "main done\n"
           "RuntimeError: can't create new thread at interpreter shutdown\n")

    def test_join_of_main_thread_returns_at_exit(self):
        self.expect("""
            import hilo
            main = hilo.main_thread()
            def waiter():
                main.join()
                print("main joined", flush=True)
            hilo.Thread(target=waiter).start()
            print("main done", flush=True)
        """, "main done\nmain joined\n")


if __name__ == "__main__":
    unittest.main()
