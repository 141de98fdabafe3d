"""CPython reference figures for bench.c: prints "key value" lines.

cycle_ns          threading.Thread(target=f).start(); join()
current_name_ns   threading.current_thread().name
record_bytes      RSS per unstarted threading.Thread object (100,000 of them)
"""
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


def main():
    print("record_bytes", record_bytes())
    print("cycle_ns", statistics.median(cycle_ns() for _ in range(ROUNDS)))
    print("current_name_ns", statistics.median(current_name_ns() for _ in range(ROUNDS)))


if __name__ == "__main__":
    main()
