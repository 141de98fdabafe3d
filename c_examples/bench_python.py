"""CPython reference figures for bench.c: prints "key value" lines.

cycle_ns          threading.Thread(target=f).start(); join()
current_name_ns   threading.current_thread().name
record_bytes      RSS per unstarted threading.Thread object (100,000 of them)
pool_latency_ns   ThreadPoolExecutor(1): submit(f).result(), round trip
pool_task_ns      ThreadPoolExecutor(2): 100,000 empty tasks submitted, then
                  concurrent.futures.wait on all, per task (1,000,000 as
                  the C rows take half a minute a round here)
"""
import concurrent.futures
import os
import statistics
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


def main():
    print("record_bytes", record_bytes())
    print("cycle_ns", statistics.median(cycle_ns() for _ in range(ROUNDS)))
    print("current_name_ns", statistics.median(current_name_ns() for _ in range(ROUNDS)))
    print("pool_latency_ns", statistics.median(pool_latency_ns() for _ in range(3)))
    print("pool_task_ns", statistics.median(pool_task_ns() for _ in range(3)))


if __name__ == "__main__":
    main()
