"""CPython reference figures for bench.c: prints "key value" lines.

cycle_ns          threading.Thread(target=f).start(); join()
current_name_ns   threading.current_thread().name
record_bytes      RSS per unstarted threading.Thread object (100,000 of them)
pool_latency_ns   ThreadPoolExecutor(1): submit(f).result(), round trip
pool_task_ns      ThreadPoolExecutor(2): 100,000 empty tasks submitted, then
                  concurrent.futures.wait on all, per task (1,000,000 as
                  the C rows take half a minute a round here)

With --binding, the Python binding (bindings/python, `import hilo`) against
CPython's threading in the same run, one row per operation, the median of
ROUNDS rounds each, and their ratio:

    HILO_LIB=target/release/libhilo.so python3 c_examples/bench_python.py --binding
"""
import concurrent.futures
import os
import statistics
import sys
import threading
import time

ROUNDS = 7


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def record_bytes(n=100_000):
    before = rss()
    threads = [threading.Thread(target=int) for _ in range(n)]
    after = rss()
    del threads
    return (after - before) / n


def cycle_ns(n=300):
    t0 = time.perf_counter_ns()
    for _ in range(n):
        t = threading.Thread(target=int)
        t.start()
        t.join()
    return (time.perf_counter_ns() - t0) / n


def current_name_ns(n=200_000):
    current_thread = threading.current_thread
    t0 = time.perf_counter_ns()
    for _ in range(n):
        current_thread().name
    return (time.perf_counter_ns() - t0) / n


def pool_latency_ns(n=20_000):
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        ex.submit(int).result()
        t0 = time.perf_counter_ns()
        for _ in range(n):
            ex.submit(int).result()
        return (time.perf_counter_ns() - t0) / n


def pool_task_ns(n=100_000):
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        t0 = time.perf_counter_ns()
        futures = [ex.submit(int) for _ in range(n)]
        concurrent.futures.wait(futures)
        return (time.perf_counter_ns() - t0) / n


def _per_op(fn, n, rounds_wanted=ROUNDS):
    """Median nanoseconds per operation of fn(n) (which does n operations)
    over `rounds_wanted` rounds."""
    rounds = []
    for _ in range(rounds_wanted):
        t0 = time.perf_counter_ns()
        fn(n)
        rounds.append((time.perf_counter_ns() - t0) / n)
    return statistics.median(rounds)


def binding_rows(mod):
    """(name, n, fn(n)) for each row, over module `mod` (threading or hilo)."""
    lock, rlock, event = mod.Lock(), mod.RLock(), mod.Event()
    cond = mod.Condition()
    # concurrent.futures' for threading; hilo.ThreadPoolExecutor for hilo.
    # Each pool is made once, outside the timed rounds (and left to the exit
    # hooks, which wait for it).
    pool_class = getattr(mod, "ThreadPoolExecutor", concurrent.futures.ThreadPoolExecutor)
    pool1, pool2 = pool_class(1), pool_class(2)

    def pool_round_trip(n):
        submit = pool1.submit
        for _ in range(n):
            submit(int).result()

    def pool_tasks(n):
        submit = pool2.submit
        concurrent.futures.wait([submit(int) for _ in range(n)])

    def lock_pair(n):
        acquire, release = lock.acquire, lock.release
        for _ in range(n):
            acquire()
            release()

    def lock_with(n):
        for _ in range(n):
            with lock:
                pass

    def rlock_pair(n):
        acquire, release = rlock.acquire, rlock.release
        for _ in range(n):
            acquire()
            release()

    def rlock_with(n):
        for _ in range(n):
            with rlock:
                pass

    def is_set(n):
        f = event.is_set
        for _ in range(n):
            f()

    def name(n):
        current_thread = mod.current_thread
        for _ in range(n):
            current_thread().name

    def notify(n):
        with cond:
            for _ in range(n):
                cond.notify()

    def make_lock(n):
        Lock = mod.Lock
        for _ in range(n):
            Lock()

    def counter(n):
        # Two threads, n increments in all, each under one shared Lock.
        shared = mod.Lock()
        box = [0]

        def work(k):
            for _ in range(k):
                with shared:
                    box[0] += 1
        threads = [mod.Thread(target=work, args=(n // 2,)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def producer_consumer(n):
        # n items through a one-slot buffer guarded by a Condition.
        c = mod.Condition(mod.Lock())
        slot = []

        def consume():
            for _ in range(n):
                with c:
                    while not slot:
                        c.wait()
                    slot.pop()
                    c.notify()
        t = mod.Thread(target=consume)
        t.start()
        for i in range(n):
            with c:
                while slot:
                    c.wait()
                slot.append(i)
                c.notify()
        t.join()

    def start_join(n):
        for _ in range(n):
            t = mod.Thread(target=int)
            t.start()
            t.join()

    return [
        ("Lock acquire+release", 200_000, lock_pair),
        ("with Lock", 200_000, lock_with),
        ("RLock acquire+release", 200_000, rlock_pair),
        ("with RLock", 200_000, rlock_with),
        ("Event.is_set()", 200_000, is_set),
        ("current_thread().name", 200_000, name),
        ("Condition.notify(), no waiter", 200_000, notify),
        ("Lock()", 200_000, make_lock),
        ("two threads, counter under a Lock", 100_000, counter),
        ("Condition producer/consumer, per item", 20_000, producer_consumer),
        ("Thread().start(); join()", 300, start_join),
        ("ThreadPoolExecutor(1) submit+result", 20_000, pool_round_trip),
        ("ThreadPoolExecutor(2) 100k tasks, per task", 100_000, pool_tasks),
    ]


def compare_binding():
    import threading
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(here, "..", "bindings", "python"))
    import hilo
    print("Python binding (%s) against CPython %s's threading, ns per operation, "
          "median of %d rounds" % (hilo.LIBRARY_PATH, sys.version.split()[0], ROUNDS))
    print("%-40s %12s %12s %7s" % ("operation", "threading", "hilo", "ratio"))
    for (label, n, cpython), (_, _, ours) in zip(binding_rows(threading), binding_rows(hilo)):
        # Rounds alternate between the two, so a change in the machine's
        # load during the run falls on both alike.
        a, b = [], []
        for _ in range(ROUNDS):
            a.append(_per_op(cpython, n, 1))
            b.append(_per_op(ours, n, 1))
        a, b = statistics.median(a), statistics.median(b)
        print("%-40s %12.1f %12.1f %6.2fx" % (label, a, b, b / a))


def main():
    if "--binding" in sys.argv[1:]:
        compare_binding()
        return
    print("record_bytes", record_bytes())
    print("cycle_ns", statistics.median(cycle_ns() for _ in range(ROUNDS)))
    print("current_name_ns", statistics.median(current_name_ns() for _ in range(ROUNDS)))
    print("pool_latency_ns", statistics.median(pool_latency_ns() for _ in range(3)))
    print("pool_task_ns", statistics.median(pool_task_ns() for _ in range(3)))


if __name__ == "__main__":
    main()
