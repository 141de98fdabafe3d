/* hilo benchmark: what a C user pays for hilo on top of raw pthreads.
 *
 * Every figure is the median of interleaved rounds (hilo, anchor, hilo,
 * anchor, ...) measured side by side in this run, so that a noisy machine
 * slows both sides alike. It prints one table and never fails on timing.
 *
 *   bench [--calls | --pools | --cycle] [--label TEXT] [--python PATH/bench_python.py]
 *
 * --cycle runs only the create+start+join+release rows (against raw
 * pthreads, and against pthreads that name their threads by hand), for
 * runs of them alone, pinned (`taskset -c 0`, as `make bench-cycle` does
 * over many processes) or interleaved with another build's.
 * --calls runs only the per-call rows (current_name, is_alive, is_daemon,
 * the uncontended lock), which is what differs between the shared and the
 * static library.
 * --pools runs only the thread pool rows (hilo's executor against GLib's
 * GThreadPool, libuv's uv_queue_work, a mutex+condvar queue written here,
 * a thread per task and CPython's ThreadPoolExecutor).
 * --python runs the CPython reference with that script when python3 exists.
 */
#define _GNU_SOURCE /* pthread_getname_np, the anchor of hilo_current_name */
#include <hilo.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The other thread pools, when the Makefile found them with pkg-config. */
#ifdef HAVE_GLIB
#include <glib.h>
#endif
#ifdef HAVE_LIBUV
#include <uv.h>
#endif

#define ROUNDS 15
#define CYCLES 400          /* create+start+join+release per round */
#define BURST 500           /* threads per burst */
#define CALLS 2000000       /* per-call rows, calls per round */
#define SLOW_CALLS 20000    /* pthread_getname_np calls per round */
#define RECORDS 100000      /* unstarted records for the memory row */
#define MANY 10000          /* threads alive at once */
#define MANY_ROUNDS 5
#define MANY_STACK (64 * 1024)
#define PINGPONGS 5000      /* event ping-pong round trips per round */

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void die(const char *what, int rc) {
    fprintf(stderr, "bench: %s failed: %d %s\n", what, rc,
            rc < 0 ? hilo_last_error() : strerror(rc));
    exit(1);
}

/* ---- the table ---- */

#define NOVALUE (-1.0)

static void header(const char *label, int python) {
    printf("\nhilo benchmark (%s): medians of interleaved rounds\n", label);
    printf("%-44s %12s %12s %7s %6s", "what", "hilo", "anchor", "ratio", "goal");
    if (python) {
        printf(" %12s", "CPython");
    }
    printf("\n");
}

static void fmt(char *buf, size_t size, double v, const char *unit) {
    if (v < 0) {
        snprintf(buf, size, "-");
    } else if (v >= 100) {
        snprintf(buf, size, "%.0f %s", v, unit);
    } else {
        snprintf(buf, size, "%.2f %s", v, unit);
    }
}

static void row(const char *what, double hilo, double anchor, const char *unit,
                const char *goal, int python, double py) {
    char h[32], a[32], r[16], p[32];
    fmt(h, sizeof h, hilo, unit);
    fmt(a, sizeof a, anchor, unit);
    if (hilo >= 0 && anchor > 0) {
        snprintf(r, sizeof r, "%.3f", hilo / anchor);
    } else {
        snprintf(r, sizeof r, "-");
    }
    printf("%-44s %12s %12s %7s %6s", what, h, a, r, goal);
    if (python) {
        fmt(p, sizeof p, py, unit);
        printf(" %12s", p);
    }
    printf("\n");
    fflush(stdout);
}

/* ---- targets ---- */

static void *noop(void *arg) { return arg; }

/* Threads of the "alive at once" rows wait here until all have started. */
static pthread_rwlock_t gate = PTHREAD_RWLOCK_INITIALIZER;

static void *wait_at_gate(void *arg) {
    pthread_rwlock_rdlock(&gate);
    pthread_rwlock_unlock(&gate);
    return arg;
}

/* ---- spawn cycle ---- */

static double hilo_cycle(void) {
    double t0 = now_ns();
    for (int i = 0; i < CYCLES; i++) {
        hilo_thread_t t;
        int rc = hilo_create(noop, NULL, NULL, &t);
        if (rc) die("hilo_create", rc);
        if ((rc = hilo_start(t))) die("hilo_start", rc);
        if ((rc = hilo_join(t, HILO_FOREVER, NULL))) die("hilo_join", rc);
        if ((rc = hilo_release(t))) die("hilo_release", rc);
    }
    return (now_ns() - t0) / CYCLES;
}

static double pthread_cycle(void) {
    double t0 = now_ns();
    for (int i = 0; i < CYCLES; i++) {
        pthread_t t;
        int rc = pthread_create(&t, NULL, noop, NULL);
        if (rc) die("pthread_create", rc);
        if ((rc = pthread_join(t, NULL))) die("pthread_join", rc);
    }
    return (now_ns() - t0) / CYCLES;
}

/* The anchor a C programmer writes for what hilo gives: a thread named
 * "Thread-N" (the name formatted by the creator, set by the thread itself,
 * as hilo does) so that top -H and gdb show it. */
static void *named_noop(void *arg) {
    pthread_setname_np(pthread_self(), (const char *)arg);
    return NULL;
}

static double named_pthread_cycle(void) {
    static unsigned long counter;
    char name[32];
    double t0 = now_ns();
    for (int i = 0; i < CYCLES; i++) {
        pthread_t t;
        snprintf(name, sizeof name, "Thread-%lu", ++counter);
        int rc = pthread_create(&t, NULL, named_noop, name);
        if (rc) die("pthread_create", rc);
        if ((rc = pthread_join(t, NULL))) die("pthread_join", rc);
    }
    return (now_ns() - t0) / CYCLES;
}

/* ---- many threads at once: a burst, or MANY alive at once ---- */

static hilo_thread_t hthreads[MANY];
static pthread_t pthreads[MANY];

/* Starts n threads, then joins them all; per-thread ns. With gate, every
 * thread stays alive until all have started. */
static double hilo_many(int n, int gated) {
    if (gated) pthread_rwlock_wrlock(&gate);
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        int rc = hilo_create(gated ? wait_at_gate : noop, NULL, NULL, &hthreads[i]);
        if (rc) die("hilo_create", rc);
        if ((rc = hilo_start(hthreads[i]))) die("hilo_start", rc);
    }
    if (gated) pthread_rwlock_unlock(&gate);
    for (int i = 0; i < n; i++) {
        int rc = hilo_join(hthreads[i], HILO_FOREVER, NULL);
        if (rc) die("hilo_join", rc);
        if ((rc = hilo_release(hthreads[i]))) die("hilo_release", rc);
    }
    return (now_ns() - t0) / n;
}

static double pthread_many(int n, int gated, const pthread_attr_t *attr) {
    if (gated) pthread_rwlock_wrlock(&gate);
    double t0 = now_ns();
    for (int i = 0; i < n; i++) {
        int rc = pthread_create(&pthreads[i], attr, gated ? wait_at_gate : noop, NULL);
        if (rc) die("pthread_create", rc);
    }
    if (gated) pthread_rwlock_unlock(&gate);
    for (int i = 0; i < n; i++) {
        int rc = pthread_join(pthreads[i], NULL);
        if (rc) die("pthread_join", rc);
    }
    return (now_ns() - t0) / n;
}

/* ---- per-call rows ---- */

static volatile unsigned long sink;

static double current_name_ns(void) {
    unsigned long acc = 0;
    double t0 = now_ns();
    for (int i = 0; i < CALLS; i++) {
        acc += (unsigned long)(unsigned char)hilo_current_name()[0];
    }
    double ns = (now_ns() - t0) / CALLS;
    sink = acc;
    return ns;
}

static double getname_ns(void) {
    char buf[16];
    unsigned long acc = 0;
    pthread_t self = pthread_self();
    double t0 = now_ns();
    for (int i = 0; i < SLOW_CALLS; i++) {
        pthread_getname_np(self, buf, sizeof buf);
        acc += (unsigned char)buf[0];
    }
    double ns = (now_ns() - t0) / SLOW_CALLS;
    sink = acc;
    return ns;
}

/* The floor of a per-thread call: libc's own thread-local read, called
 * through a pointer as a shared library's function is (through the PLT),
 * since a direct call of pthread_self, a const function, leaves the loop. */
static pthread_t (*volatile self_fn)(void) = pthread_self;

static double self_ns(void) {
    unsigned long acc = 0;
    double t0 = now_ns();
    for (int i = 0; i < CALLS; i++) {
        acc += (unsigned long)self_fn();
    }
    double ns = (now_ns() - t0) / CALLS;
    sink = acc;
    return ns;
}

/* The handle the is_alive/is_daemon rows ask about: a hilo thread that
 * stays alive (waiting at the gate) while they run. */
static hilo_thread_t live;
static int (*query)(hilo_thread_t);
static unsigned long expected; /* the answer query gives */

/* A machine reference for the two-thread rows: one shared word read by a
 * function called through a pointer, like the queries. If two threads slow
 * this down too (vCPUs sharing a physical core), the machine, not hilo, is
 * the cause. */
static _Atomic int shared_word = 1;

static int plain_load(hilo_thread_t t) {
    (void)t;
    return atomic_load_explicit(&shared_word, memory_order_acquire);
}

static double query_ns(void) {
    unsigned long acc = 0;
    double t0 = now_ns();
    for (int i = 0; i < CALLS; i++) {
        acc += (unsigned long)query(live);
    }
    double ns = (now_ns() - t0) / CALLS;
    sink = acc;
    if (acc != (unsigned long)CALLS * expected) {
        fprintf(stderr, "bench: unexpected answer from the query\n");
        exit(1);
    }
    return ns;
}

static pthread_barrier_t two_start;
static double two_result[2];

static void *query_worker(void *arg) {
    int me = (int)(size_t)arg;
    pthread_barrier_wait(&two_start);
    two_result[me] = query_ns();
    return NULL;
}

/* Two threads query at once; the per-call ns of the two, averaged. */
static double query_two_ns(void) {
    pthread_t t[2];
    pthread_barrier_init(&two_start, NULL, 2);
    for (size_t i = 0; i < 2; i++) {
        int rc = pthread_create(&t[i], NULL, query_worker, (void *)i);
        if (rc) die("pthread_create", rc);
    }
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&two_start);
    return (two_result[0] + two_result[1]) / 2;
}

static void per_call_rows(int python, double py_name) {
    double h[ROUNDS], a[ROUNDS], s[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        h[r] = current_name_ns();
        a[r] = getname_ns();
        s[r] = self_ns();
    }
    double name = median(h, ROUNDS);
    row("hilo_current_name() vs pthread_getname_np", name, median(a, ROUNDS), "ns", "3 ns",
        python, py_name);
    row("hilo_current_name() vs pthread_self()", name, median(s, ROUNDS), "ns", "2.00",
        python, NOVALUE);

    pthread_rwlock_wrlock(&gate);
    int rc = hilo_create(wait_at_gate, NULL, "live", &live);
    if (rc || (rc = hilo_start(live))) die("live thread", rc);
    int (*queries[3])(hilo_thread_t) = {hilo_is_alive, hilo_is_daemon, plain_load};
    unsigned long answers[3] = {1, 0, 1};
    const char *names[3][2] = {
        {"hilo_is_alive, 1 thread", "hilo_is_alive, 2 at once vs 1 thread"},
        {"hilo_is_daemon, 1 thread", "hilo_is_daemon, 2 at once vs 1 thread"},
        {"(machine: a shared load, 1 thread)", "(machine: shared load, 2 at once vs 1)"},
    };
    for (int q = 0; q < 3; q++) {
        query = queries[q];
        expected = answers[q];
        for (int r = 0; r < ROUNDS; r++) {
            h[r] = query_two_ns();
            a[r] = query_ns();
        }
        double one = median(a, ROUNDS), two = median(h, ROUNDS);
        row(names[q][0], one, NOVALUE, "ns", q < 2 ? "20 ns" : "-", python, NOVALUE);
        row(names[q][1], two, one, "ns", q < 2 ? "1.00" : "-", python, NOVALUE);
    }
    pthread_rwlock_unlock(&gate);
    if ((rc = hilo_join(live, HILO_FOREVER, NULL))) die("hilo_join", rc);
    hilo_release(live);
}

/* ---- sync objects: an uncontended lock, an event ping-pong ---- */

static double hilo_lock_ns(hilo_lock *l) {
    double t0 = now_ns();
    for (int i = 0; i < CALLS; i++) {
        hilo_lock_acquire(l, true, HILO_FOREVER);
        hilo_lock_release(l);
    }
    return (now_ns() - t0) / CALLS;
}

static double pthread_mutex_ns(pthread_mutex_t *m) {
    double t0 = now_ns();
    for (int i = 0; i < CALLS; i++) {
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
    }
    return (now_ns() - t0) / CALLS;
}

static void lock_row(int python) {
    hilo_lock *l = hilo_lock_new();
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    double h[ROUNDS], a[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        /* Alternate which side goes first. */
        if (r % 2 == 0) {
            h[r] = hilo_lock_ns(l);
            a[r] = pthread_mutex_ns(&m);
        } else {
            a[r] = pthread_mutex_ns(&m);
            h[r] = hilo_lock_ns(l);
        }
    }
    row("hilo_lock acquire+release vs pthread_mutex", median(h, ROUNDS),
        median(a, ROUNDS), "ns", "1.10", python, NOVALUE);
    hilo_lock_free(l);
}

/* A contended hand-off: two threads take turns on one lock, each
 * acquiring and releasing it HANDOFFS times with a little work inside, so
 * that most acquires find it held and sleep or spin (the slow path, where
 * hilo also records what the thread waits on). Time per acquire. */
#define HANDOFFS 200000
static hilo_lock *handoff_lock;
static pthread_mutex_t handoff_mutex = PTHREAD_MUTEX_INITIALIZER;
static volatile unsigned long handoff_count;

static void *hilo_taker(void *arg) {
    for (int i = 0; i < HANDOFFS; i++) {
        hilo_lock_acquire(handoff_lock, true, HILO_FOREVER);
        handoff_count++;
        hilo_lock_release(handoff_lock);
    }
    return arg;
}

static void *pthread_taker(void *arg) {
    for (int i = 0; i < HANDOFFS; i++) {
        pthread_mutex_lock(&handoff_mutex);
        handoff_count++;
        pthread_mutex_unlock(&handoff_mutex);
    }
    return arg;
}

static double handoff_ns(void *(*taker)(void *)) {
    pthread_t t[2];
    double t0 = now_ns();
    for (int i = 0; i < 2; i++) {
        int rc = pthread_create(&t[i], NULL, taker, NULL);
        if (rc) die("pthread_create", rc);
    }
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    return (now_ns() - t0) / (2.0 * HANDOFFS);
}

static void handoff_row(int python) {
    handoff_lock = hilo_lock_new();
    double h[ROUNDS], a[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        if (r % 2 == 0) {
            h[r] = handoff_ns(hilo_taker);
            a[r] = handoff_ns(pthread_taker);
        } else {
            a[r] = handoff_ns(pthread_taker);
            h[r] = handoff_ns(hilo_taker);
        }
    }
    row("hilo_lock contended, 2 threads vs pthread", median(h, ROUNDS), median(a, ROUNDS),
        "ns", "-", python, NOVALUE);
    hilo_lock_free(handoff_lock);
}

/* What one hilo_dump costs with 100 threads blocked in hilo waits (each
 * stack taken and symbolized), after a first dump has read the symbols. */
#define DUMP_THREADS 100
static hilo_event *dump_gate;

static void *wait_at_dump_gate(void *arg) {
    hilo_event_wait(dump_gate, HILO_FOREVER);
    return arg;
}

static void dump_row(int python) {
    dump_gate = hilo_event_new();
    hilo_thread_t t[DUMP_THREADS];
    for (int i = 0; i < DUMP_THREADS; i++) {
        int rc = hilo_create(wait_at_dump_gate, NULL, NULL, &t[i]);
        if (!rc) rc = hilo_start(t[i]);
        if (rc) die("hilo_start", rc);
    }
    FILE *null = fopen("/dev/null", "w");
    if (!null) die("fopen /dev/null", 1);
    hilo_dump(fileno(null));
    double d[5];
    for (int r = 0; r < 5; r++) {
        double t0 = now_ns();
        hilo_dump(fileno(null));
        d[r] = now_ns() - t0;
    }
    fclose(null);
    hilo_event_set(dump_gate);
    for (int i = 0; i < DUMP_THREADS; i++) hilo_join(t[i], HILO_FOREVER, NULL);
    hilo_event_free(dump_gate);
    row("hilo_dump, 100 threads blocked", median(d, 5) / 1e6, NOVALUE, "ms", "-", python,
        NOVALUE);
}

/* A round trip between two threads: the pinger sets ping and waits for
 * pong, the ponger the other way round. Both sides use a pthread for the
 * ponger, so only the sync objects differ. */
static hilo_event *ping, *pong;

static void *hilo_ponger(void *arg) {
    for (int i = 0; i < PINGPONGS; i++) {
        hilo_event_wait(ping, HILO_FOREVER);
        hilo_event_clear(ping);
        hilo_event_set(pong);
    }
    return arg;
}

static double hilo_pingpong_ns(void) {
    pthread_t t;
    int rc = pthread_create(&t, NULL, hilo_ponger, NULL);
    if (rc) die("pthread_create", rc);
    double t0 = now_ns();
    for (int i = 0; i < PINGPONGS; i++) {
        hilo_event_set(ping);
        hilo_event_wait(pong, HILO_FOREVER);
        hilo_event_clear(pong);
    }
    double ns = (now_ns() - t0) / PINGPONGS;
    pthread_join(t, NULL);
    return ns;
}

static pthread_mutex_t pp_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_cond = PTHREAD_COND_INITIALIZER;
static int turn; /* 0: the pinger's turn, 1: the ponger's */

static void *pthread_ponger(void *arg) {
    for (int i = 0; i < PINGPONGS; i++) {
        pthread_mutex_lock(&pp_mutex);
        while (turn != 1) pthread_cond_wait(&pp_cond, &pp_mutex);
        turn = 0;
        pthread_cond_signal(&pp_cond);
        pthread_mutex_unlock(&pp_mutex);
    }
    return arg;
}

static double pthread_pingpong_ns(void) {
    pthread_t t;
    turn = 0;
    int rc = pthread_create(&t, NULL, pthread_ponger, NULL);
    if (rc) die("pthread_create", rc);
    double t0 = now_ns();
    for (int i = 0; i < PINGPONGS; i++) {
        pthread_mutex_lock(&pp_mutex);
        turn = 1;
        pthread_cond_signal(&pp_cond);
        while (turn != 0) pthread_cond_wait(&pp_cond, &pp_mutex);
        pthread_mutex_unlock(&pp_mutex);
    }
    double ns = (now_ns() - t0) / PINGPONGS;
    pthread_join(t, NULL);
    return ns;
}

static void event_row(int python) {
    ping = hilo_event_new();
    pong = hilo_event_new();
    double h[ROUNDS], a[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        if (r % 2 == 0) {
            h[r] = hilo_pingpong_ns();
            a[r] = pthread_pingpong_ns();
        } else {
            a[r] = pthread_pingpong_ns();
            h[r] = hilo_pingpong_ns();
        }
    }
    row("hilo_event ping-pong vs pthread_cond (trip)", median(h, ROUNDS) / 1000,
        median(a, ROUNDS) / 1000, "us", "1.10", python, NOVALUE);
    hilo_event_free(pong);
    hilo_event_free(ping);
}

/* ---- a signal ending a wait (hilo_set_interruptible) ---- */

/* From pthread_kill to the wait's return in the waiter: hilo_event_wait
 * with hilo_set_interruptible(true) returning HILO_EINTR, against sem_wait
 * returning EINTR (POSIX's own, for a handler without SA_RESTART). */

static void on_sigusr1(int sig) { (void)sig; }

static hilo_event *never_set;
static sem_t never_posted;
static atomic_int waiter_tid;
static atomic_int interrupts_wanted; /* rounds the waiter still waits for */
static atomic_int which_wait;        /* 0 hilo, 1 sem_wait */
static atomic_int in_wait;           /* 1 from just before the wait */
static _Atomic double returned_at;

static void *interrupted_waiter(void *arg) {
    (void)arg;
    hilo_set_interruptible(true);
    atomic_store(&waiter_tid, (int)hilo_native_id(hilo_current()));
    while (atomic_load(&interrupts_wanted) > 0) {
        if (atomic_load(&in_wait)) continue;
        atomic_store(&in_wait, 1);
        int rc = atomic_load(&which_wait) == 0 ? hilo_event_wait(never_set, 10.0)
                                               : sem_wait(&never_posted);
        (void)rc;
        atomic_store(&returned_at, now_ns());
        atomic_store(&in_wait, 0);
        while (atomic_load(&returned_at) != 0 && atomic_load(&interrupts_wanted) > 0) {
        }
    }
    return NULL;
}

/* True once thread `tid` sleeps (state S): in its wait, as it does nothing
 * else while `in_wait` is 1. */
static int sleeping(int tid) {
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    const char *end = strrchr(buf, ')');
    return end && end[1] == ' ' && end[2] == 'S';
}

static double interrupt_once(pthread_t waiter, int which) {
    atomic_store(&which_wait, which);
    atomic_store(&returned_at, 0);
    while (!atomic_load(&in_wait) || !sleeping(atomic_load(&waiter_tid))) {
    }
    double t0 = now_ns();
    pthread_kill(waiter, SIGUSR1);
    while (atomic_load(&returned_at) == 0) {
    }
    double took = atomic_load(&returned_at) - t0;
    while (atomic_load(&in_wait)) {
    }
    return took;
}

static void interrupt_row(int python) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigusr1;
    sigaction(SIGUSR1, &sa, NULL);
    never_set = hilo_event_new();
    sem_init(&never_posted, 0, 0);
    atomic_store(&interrupts_wanted, 1);
    pthread_t waiter;
    int rc = pthread_create(&waiter, NULL, interrupted_waiter, NULL);
    if (rc) die("pthread_create", rc);
    while (atomic_load(&waiter_tid) == 0) {
    }
    double h[ROUNDS], a[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        h[r] = interrupt_once(waiter, 0);
        a[r] = interrupt_once(waiter, 1);
    }
    atomic_store(&interrupts_wanted, 0);
    atomic_store(&returned_at, 0);
    pthread_kill(waiter, SIGUSR1);
    pthread_join(waiter, NULL);
    row("signal to HILO_EINTR vs sem_wait EINTR", median(h, ROUNDS) / 1000,
        median(a, ROUNDS) / 1000, "us", "1.10", python, NOVALUE);
    sem_destroy(&never_posted);
    hilo_event_free(never_set);
    signal(SIGUSR1, SIG_DFL);
}

/* ---- thread pools: hilo's executor against GThreadPool, libuv's
 * uv_queue_work, a mutex+condvar queue written here, and a thread per task.
 * Latency: submit one empty task to a pool of 1 worker and wait for its
 * end, round trip. Throughput: POOL_TASKS empty tasks through 2 workers,
 * submitted all, then waited for all, per task. Each side waits for the
 * end in the way its API offers: hilo's futures (hilo_future_result,
 * hilo_wait, then hilo_future_free each), libuv's after_work callbacks on
 * its loop, and for GThreadPool and the queue a counter of ended tasks
 * with a condition variable, the way a careful C programmer does it. ---- */

#define POOL_ROUNDS 5
#define POOL_TASKS 1000000
#define POOL_TRIPS 20000     /* latency round trips per round */
#define THREAD_TASKS 20000   /* tasks of the thread-per-task throughput */

static void *empty_task(void *arg) { return arg; }

static hilo_future **pool_futures;

static double hilo_pool_latency(void) {
    hilo_executor *ex = hilo_executor_new(1, "BenchLatency");
    hilo_future *f;
    int rc;
    double t0 = 0;
    for (int i = -100; i < POOL_TRIPS; i++) { /* 100 to start and warm up */
        if (i == 0) t0 = now_ns();
        if ((rc = hilo_executor_submit(ex, empty_task, NULL, &f))) die("hilo_executor_submit", rc);
        if ((rc = hilo_future_result(f, HILO_FOREVER, NULL))) die("hilo_future_result", rc);
        hilo_future_free(f);
    }
    double ns = (now_ns() - t0) / POOL_TRIPS;
    hilo_executor_free(ex);
    return ns;
}

static double hilo_pool_throughput(void) {
    hilo_executor *ex = hilo_executor_new(2, "BenchThroughput");
    int rc;
    double t0 = now_ns();
    for (int i = 0; i < POOL_TASKS; i++) {
        if ((rc = hilo_executor_submit(ex, empty_task, NULL, &pool_futures[i]))) {
            die("hilo_executor_submit", rc);
        }
    }
    if ((rc = hilo_wait(pool_futures, POOL_TASKS, HILO_FOREVER, HILO_ALL_COMPLETED))) die("hilo_wait", rc);
    for (int i = 0; i < POOL_TASKS; i++) hilo_future_free(pool_futures[i]);
    double ns = (now_ns() - t0) / POOL_TASKS;
    hilo_executor_free(ex);
    return ns;
}

/* A thread per task: create+start+join+release. */
static double thread_per_task_latency(void) { return hilo_cycle(); }

static hilo_thread_t task_threads[THREAD_TASKS];

static double thread_per_task_throughput(void) {
    int rc;
    double t0 = now_ns();
    for (int i = 0; i < THREAD_TASKS; i++) {
        if ((rc = hilo_create(empty_task, NULL, NULL, &task_threads[i]))) die("hilo_create", rc);
        if ((rc = hilo_start(task_threads[i]))) die("hilo_start", rc);
    }
    for (int i = 0; i < THREAD_TASKS; i++) {
        if ((rc = hilo_join(task_threads[i], HILO_FOREVER, NULL))) die("hilo_join", rc);
        hilo_release(task_threads[i]);
    }
    return (now_ns() - t0) / THREAD_TASKS;
}

/* Tasks ended, for the pools without futures: the worker that ends the
 * last one wakes the waiter. */
static pthread_mutex_t ended_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ended_cond = PTHREAD_COND_INITIALIZER;
static long ended, ended_goal;

static void start_counting(long goal) {
    pthread_mutex_lock(&ended_mutex);
    ended = 0;
    ended_goal = goal;
    pthread_mutex_unlock(&ended_mutex);
}

static void task_ended(void) {
    pthread_mutex_lock(&ended_mutex);
    if (++ended == ended_goal) pthread_cond_signal(&ended_cond);
    pthread_mutex_unlock(&ended_mutex);
}

static void wait_all_ended(void) {
    pthread_mutex_lock(&ended_mutex);
    while (ended < ended_goal) pthread_cond_wait(&ended_cond, &ended_mutex);
    pthread_mutex_unlock(&ended_mutex);
}

/* The hand-written pool: one mutex, a linked list of caller-owned jobs, a
 * condvar for idle workers, and per job a done flag waited for on a second
 * condvar (signalled only when someone waits). */
struct job {
    void *(*fn)(void *);
    void *arg;
    void *result;
    int done;
    struct job *next;
};

struct queue {
    pthread_mutex_t mutex;
    pthread_cond_t work;     /* idle workers wait here */
    pthread_cond_t finished; /* a submitter waiting for a job */
    struct job *head, *tail;
    int idle, waiting, stop;
    pthread_t workers[2];
    int nworkers;
};

static void *queue_worker(void *arg) {
    struct queue *q = arg;
    pthread_mutex_lock(&q->mutex);
    for (;;) {
        while (!q->head && !q->stop) {
            q->idle++;
            pthread_cond_wait(&q->work, &q->mutex);
            q->idle--;
        }
        if (!q->head) break;
        struct job *j = q->head;
        q->head = j->next;
        if (!q->head) q->tail = NULL;
        pthread_mutex_unlock(&q->mutex);
        void *result = j->fn(j->arg);
        pthread_mutex_lock(&q->mutex);
        j->result = result;
        j->done = 1;
        if (q->waiting) pthread_cond_broadcast(&q->finished);
    }
    pthread_mutex_unlock(&q->mutex);
    return NULL;
}

static void queue_start(struct queue *q, int workers) {
    memset(q, 0, sizeof *q);
    pthread_mutex_init(&q->mutex, NULL);
    pthread_cond_init(&q->work, NULL);
    pthread_cond_init(&q->finished, NULL);
    q->nworkers = workers;
    for (int i = 0; i < workers; i++) {
        int rc = pthread_create(&q->workers[i], NULL, queue_worker, q);
        if (rc) die("pthread_create", rc);
    }
}

static void queue_submit(struct queue *q, struct job *j) {
    j->done = 0;
    j->next = NULL;
    pthread_mutex_lock(&q->mutex);
    if (q->tail) q->tail->next = j; else q->head = j;
    q->tail = j;
    if (q->idle) pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mutex);
}

static void *queue_result(struct queue *q, struct job *j) {
    pthread_mutex_lock(&q->mutex);
    q->waiting++;
    while (!j->done) pthread_cond_wait(&q->finished, &q->mutex);
    q->waiting--;
    pthread_mutex_unlock(&q->mutex);
    return j->result;
}

static void queue_stop(struct queue *q) {
    pthread_mutex_lock(&q->mutex);
    q->stop = 1;
    pthread_cond_broadcast(&q->work);
    pthread_mutex_unlock(&q->mutex);
    for (int i = 0; i < q->nworkers; i++) pthread_join(q->workers[i], NULL);
    pthread_mutex_destroy(&q->mutex);
    pthread_cond_destroy(&q->work);
    pthread_cond_destroy(&q->finished);
}

static struct job *pool_jobs; /* POOL_TASKS of them, reused by every side */

static double queue_latency(void) {
    struct queue q;
    queue_start(&q, 1);
    struct job j = {empty_task, NULL, NULL, 0, NULL};
    double t0 = 0;
    for (int i = -100; i < POOL_TRIPS; i++) {
        if (i == 0) t0 = now_ns();
        queue_submit(&q, &j);
        queue_result(&q, &j);
    }
    double ns = (now_ns() - t0) / POOL_TRIPS;
    queue_stop(&q);
    return ns;
}

/* The throughput's jobs count their end, as GThreadPool's do. */
static void *counted_task(void *arg) {
    task_ended();
    return arg;
}

static double queue_throughput(void) {
    struct queue q;
    queue_start(&q, 2);
    start_counting(POOL_TASKS);
    double t0 = now_ns();
    for (int i = 0; i < POOL_TASKS; i++) {
        pool_jobs[i].fn = counted_task;
        pool_jobs[i].arg = NULL;
        queue_submit(&q, &pool_jobs[i]);
    }
    wait_all_ended();
    double ns = (now_ns() - t0) / POOL_TASKS;
    queue_stop(&q);
    return ns;
}

#ifdef HAVE_GLIB
static void glib_task(gpointer data, gpointer user_data) {
    (void)data;
    (void)user_data;
    task_ended();
}

static double glib_latency(void) {
    GThreadPool *pool = g_thread_pool_new(glib_task, NULL, 1, TRUE, NULL);
    double t0 = 0;
    for (int i = -100; i < POOL_TRIPS; i++) {
        if (i == 0) t0 = now_ns();
        start_counting(1);
        g_thread_pool_push(pool, GINT_TO_POINTER(1), NULL);
        wait_all_ended();
    }
    double ns = (now_ns() - t0) / POOL_TRIPS;
    g_thread_pool_free(pool, FALSE, TRUE);
    return ns;
}

static double glib_throughput(void) {
    GThreadPool *pool = g_thread_pool_new(glib_task, NULL, 2, TRUE, NULL);
    start_counting(POOL_TASKS);
    double t0 = now_ns();
    for (int i = 0; i < POOL_TASKS; i++) g_thread_pool_push(pool, GINT_TO_POINTER(1), NULL);
    wait_all_ended();
    double ns = (now_ns() - t0) / POOL_TASKS;
    g_thread_pool_free(pool, FALSE, TRUE);
    return ns;
}
#else
static double glib_latency(void) { return NOVALUE; }
static double glib_throughput(void) { return NOVALUE; }
#endif

#ifdef HAVE_LIBUV
static uv_work_t *uv_reqs;
static long uv_after;

static void uv_task(uv_work_t *req) { (void)req; }
static void uv_after_task(uv_work_t *req, int status) {
    (void)req;
    (void)status;
    uv_after++;
}

static double uv_latency(void) {
    uv_loop_t *loop = uv_default_loop();
    double t0 = 0;
    for (int i = -100; i < POOL_TRIPS; i++) {
        if (i == 0) t0 = now_ns();
        uv_queue_work(loop, &uv_reqs[0], uv_task, uv_after_task);
        uv_run(loop, UV_RUN_DEFAULT); /* returns once the after callback ran */
    }
    return (now_ns() - t0) / POOL_TRIPS;
}

static double uv_throughput(void) {
    uv_loop_t *loop = uv_default_loop();
    uv_after = 0;
    double t0 = now_ns();
    for (int i = 0; i < POOL_TASKS; i++) uv_queue_work(loop, &uv_reqs[i], uv_task, uv_after_task);
    uv_run(loop, UV_RUN_DEFAULT);
    double ns = (now_ns() - t0) / POOL_TASKS;
    if (uv_after != POOL_TASKS) die("uv_run", -1);
    return ns;
}
#else
static double uv_latency(void) { return NOVALUE; }
static double uv_throughput(void) { return NOVALUE; }
#endif

static void pool_rows(int python, double py_latency_ns, double py_task_ns) {
    pool_futures = malloc(POOL_TASKS * sizeof *pool_futures);
    pool_jobs = calloc(POOL_TASKS, sizeof *pool_jobs);
#ifdef HAVE_LIBUV
    uv_reqs = calloc(POOL_TASKS, sizeof *uv_reqs);
#endif
    if (!pool_futures || !pool_jobs) die("malloc", ENOMEM);
    double h[POOL_ROUNDS], q[POOL_ROUNDS], g[POOL_ROUNDS], u[POOL_ROUNDS], t[POOL_ROUNDS];
    for (int r = 0; r < POOL_ROUNDS; r++) {
        h[r] = hilo_pool_latency();
        q[r] = queue_latency();
        g[r] = glib_latency();
        u[r] = uv_latency();
        t[r] = thread_per_task_latency();
    }
    double hl = median(h, POOL_ROUNDS) / 1000;
    row("executor submit+result, 1 worker vs queue", hl, median(q, POOL_ROUNDS) / 1000, "us", "1.10",
        python, py_latency_ns / 1000);
    row("  the same vs GThreadPool", hl, median(g, POOL_ROUNDS) / 1000, "us", "-", python, NOVALUE);
    row("  the same vs libuv uv_queue_work", hl, median(u, POOL_ROUNDS) / 1000, "us", "-", python, NOVALUE);
    row("  the same vs a thread per task (hilo)", hl, median(t, POOL_ROUNDS) / 1000, "us", "-", python,
        NOVALUE);
    row("  the same vs CPython ThreadPoolExecutor", hl, python ? py_latency_ns / 1000 : NOVALUE, "us", "-",
        python, NOVALUE);

    for (int r = 0; r < POOL_ROUNDS; r++) {
        h[r] = hilo_pool_throughput();
        q[r] = queue_throughput();
        g[r] = glib_throughput();
        u[r] = uv_throughput();
        t[r] = r < 2 ? thread_per_task_throughput() : NOVALUE;
    }
    double ht = median(h, POOL_ROUNDS);
    row("executor 1M empty tasks, 2 workers vs queue", ht, median(q, POOL_ROUNDS), "ns", "1.00", python,
        py_task_ns);
    row("  the same vs GThreadPool", ht, median(g, POOL_ROUNDS), "ns", "1.00", python, NOVALUE);
    row("  the same vs libuv uv_queue_work", ht, median(u, POOL_ROUNDS), "ns", "1.00", python, NOVALUE);
    row("  the same vs a thread per task (20,000)", ht, median(t, 2), "ns", "-", python, NOVALUE);
    row("  the same vs CPython ThreadPoolExecutor", ht, python ? py_task_ns : NOVALUE, "ns", "0.05", python,
        NOVALUE);
    free(pool_futures);
    free(pool_jobs);
#ifdef HAVE_LIBUV
    free(uv_reqs);
#endif
}

/* ---- memory per record ---- */

static long rss_bytes(void) {
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

static hilo_thread_t records[RECORDS];

static double bytes_per_record(void) {
    long before = rss_bytes();
    for (int i = 0; i < RECORDS; i++) {
        int rc = hilo_create(noop, NULL, NULL, &records[i]);
        if (rc) die("hilo_create", rc);
    }
    long after = rss_bytes();
    for (int i = 0; i < RECORDS; i++) hilo_release(records[i]);
    if (before < 0 || after < 0) return NOVALUE;
    return (double)(after - before) / RECORDS;
}

/* ---- CPython reference ---- */

struct python_figures {
    int ok;
    double cycle_ns, name_ns, record_bytes, pool_latency_ns, pool_task_ns;
};

static struct python_figures run_python(const char *script) {
    struct python_figures py = {0, NOVALUE, NOVALUE, NOVALUE, NOVALUE, NOVALUE};
    if (!script || system("command -v python3 >/dev/null 2>&1") != 0) return py;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "python3 '%s'", script);
    FILE *p = popen(cmd, "r");
    if (!p) return py;
    char key[64];
    double value;
    while (fscanf(p, "%63s %lf", key, &value) == 2) {
        if (!strcmp(key, "cycle_ns")) py.cycle_ns = value;
        if (!strcmp(key, "current_name_ns")) py.name_ns = value;
        if (!strcmp(key, "record_bytes")) py.record_bytes = value;
        if (!strcmp(key, "pool_latency_ns")) py.pool_latency_ns = value;
        if (!strcmp(key, "pool_task_ns")) py.pool_task_ns = value;
        py.ok = 1;
    }
    pclose(p);
    return py;
}

int main(int argc, char **argv) {
    int calls_only = 0;
    const char *label = "shared library";
    const char *script = NULL;
    /* libuv's pool: 2 threads, as the others' (read at its first use). */
    setenv("UV_THREADPOOL_SIZE", "2", 1);
    int pools_only = 0, cycle_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--pools")) pools_only = 1;
        if (!strcmp(argv[i], "--cycle")) cycle_only = 1;
        if (!strcmp(argv[i], "--calls")) calls_only = 1;
        else if (!strcmp(argv[i], "--label") && i + 1 < argc) label = argv[++i];
        else if (!strcmp(argv[i], "--python") && i + 1 < argc) script = argv[++i];
    }

    if (calls_only) {
        header(label, 0);
        per_call_rows(0, NOVALUE);
        lock_row(0);
        return 0;
    }

    if (pools_only) {
        struct python_figures py = run_python(script);
        header(label, py.ok);
        pool_rows(py.ok, py.pool_latency_ns, py.pool_task_ns);
        return 0;
    }

    /* First, while the registry is empty: every record below is new. */
    double record = cycle_only ? 0 : bytes_per_record();
    struct python_figures py = run_python(cycle_only ? NULL : script);
    header(label, py.ok);

    double h[ROUNDS], a[ROUNDS], n[ROUNDS];
    hilo_cycle(); /* warm up glibc's stack cache and the registry */
    pthread_cycle();
    named_pthread_cycle();
    for (int r = 0; r < ROUNDS; r++) {
        h[r] = hilo_cycle();
        a[r] = pthread_cycle();
        n[r] = named_pthread_cycle();
    }
    double cycle = median(h, ROUNDS) / 1000;
    row("create+start+join+release vs create+join", cycle, median(a, ROUNDS) / 1000, "us",
        "1.03", py.ok, py.cycle_ns / 1000);
    row("  the same vs create+join, named by hand", cycle, median(n, ROUNDS) / 1000, "us", "",
        py.ok, NOVALUE);
    if (cycle_only) {
        return 0;
    }

    for (int r = 0; r < ROUNDS; r++) {
        h[r] = hilo_many(BURST, 0);
        a[r] = pthread_many(BURST, 0, NULL);
    }
    row("burst of 500 started, then joined (per thr)", median(h, ROUNDS) / 1000,
        median(a, ROUNDS) / 1000, "us", "1.10", py.ok, NOVALUE);

    per_call_rows(py.ok, py.name_ns);
    lock_row(py.ok);
    handoff_row(py.ok);
    event_row(py.ok);
    interrupt_row(py.ok);
    dump_row(py.ok);

    row("bytes per record (100,000 unstarted)", record, NOVALUE, "B", "256 B",
        py.ok, py.record_bytes);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, MANY_STACK);
    int rc = hilo_set_stack_size(MANY_STACK);
    if (rc) die("hilo_set_stack_size", rc);
    double mh[MANY_ROUNDS], ma[MANY_ROUNDS];
    for (int r = 0; r < MANY_ROUNDS; r++) {
        mh[r] = hilo_many(MANY, 1);
        ma[r] = pthread_many(MANY, 1, &attr);
    }
    hilo_set_stack_size(0);
    pthread_attr_destroy(&attr);
    row("10,000 alive at once, 64 KiB (per thread)", median(mh, MANY_ROUNDS) / 1000,
        median(ma, MANY_ROUNDS) / 1000, "us", "1.10", py.ok, NOVALUE);

    pool_rows(py.ok, py.pool_latency_ns, py.pool_task_ns);
    return 0;
}
