/* The thread pool with futures (hilo_executor_*, hilo_future_*, hilo_wait)
 * from C, one case per run (tests/executor.rs checks each one's output):
 *
 *   semantics         Python's ThreadPoolExecutor rules, translated
 *   misuse            NULLs, double shutdown, callbacks that submit or free
 *   stress            producers submitting, cancelling and waiting at once
 *   shutdown_running  shutdown(wait) while work runs, and without wait
 *   exit_queued       main returns with work queued: the exit runs it
 *   fork              fork() with an executor busy: what the child gets
 *   interrupt         an interruptible thread's result and wait: HILO_EINTR
 *   pthread_exit      a task that calls pthread_exit(v): its future gives v
 *   out_of_memory     submits until the address space runs out: HILO_EAGAIN
 *                     with a message, then work again once futures are freed
 *   behind_pthread_exit
 *                     work queued behind a task that calls pthread_exit:
 *                     shutdown(wait) and the exit still wait for it
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "testing.h"

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "FAILED: %s (last error: %s)\n", what, hilo_last_error());
        fflush(stdout);
        _exit(1);
    }
}

static hilo_future *submit(hilo_executor *ex, hilo_fn fn, void *arg) {
    hilo_future *f = NULL;
    int rc = hilo_executor_submit(ex, fn, arg, &f);
    check(rc == HILO_OK && f != NULL, "submit");
    return f;
}

static void *identity(void *arg) { return arg; }

/* The name of the worker that ran it, copied for the caller. */
static void *own_name(void *arg) {
    (void)arg;
    return strdup(hilo_current_name());
}

/* Blocks until the event given as its argument is set. */
static _Atomic int running_now, running_most;
static void *gated(void *arg) {
    int now = atomic_fetch_add(&running_now, 1) + 1;
    int most = atomic_load(&running_most);
    while (now > most && !atomic_compare_exchange_weak(&running_most, &most, now)) {
    }
    hilo_event_wait((hilo_event *)arg, HILO_FOREVER);
    atomic_fetch_sub(&running_now, 1);
    return arg;
}

static _Atomic int ran;
static void *count_run(void *arg) {
    atomic_fetch_add(&ran, 1);
    return arg;
}

/* A done callback: notes the thread it ran on and how often it ran. */
static _Atomic int callbacks;
static char callback_thread[64];
static void note_callback(hilo_future *f, void *arg) {
    (void)arg;
    check(hilo_future_done(f) == 1, "a callback sees its future done");
    snprintf(callback_thread, sizeof callback_thread, "%s", hilo_current_name());
    atomic_fetch_add(&callbacks, 1);
}

static void wait_running(hilo_future *f) {
    while (hilo_future_running(f) != 1) {
        check(hilo_future_done(f) == 0, "still not done while waited to run");
        sleep_ms(1);
    }
}

static int semantics(void) {
    hilo_executor *ex = hilo_executor_new(2, "Pool");
    check(ex != NULL, "new");

    /* A result, and the worker's name. */
    hilo_future *f = submit(ex, identity, (void *)0x2a);
    void *value = NULL;
    check(hilo_future_result(f, HILO_FOREVER, &value) == HILO_OK, "result");
    printf("result: %#lx, done %d, running %d, cancelled %d\n", (unsigned long)(uintptr_t)value,
           hilo_future_done(f), hilo_future_running(f), hilo_future_cancelled(f));
    hilo_future_free(f);
    f = submit(ex, own_name, NULL);
    check(hilo_future_result(f, HILO_FOREVER, &value) == HILO_OK, "name result");
    printf("worker name: %.5s\n", (char *)value);
    free(value);
    hilo_future_free(f);

    /* Never more than max_workers at once. */
    hilo_event *gate = hilo_event_new();
    hilo_future *blocked[6];
    for (int i = 0; i < 6; i++) blocked[i] = submit(ex, gated, gate);
    wait_running(blocked[0]);
    wait_running(blocked[1]);
    printf("queued behind two workers: running %d, pending %d\n", hilo_future_running(blocked[2]),
           hilo_future_done(blocked[2]) == 0 && hilo_future_running(blocked[2]) == 0);

    /* result with a timeout; cancel only while queued. */
    int rc = hilo_future_result(blocked[0], 0.05, &value);
    printf("result of running work, 0.05 s: %s\n", rc == HILO_ETIMEDOUT ? "timed out" : "?");
    printf("cancel running: %d, cancel queued: %d, again: %d\n", hilo_future_cancel(blocked[0]),
           hilo_future_cancel(blocked[5]), hilo_future_cancel(blocked[5]));
    rc = hilo_future_result(blocked[5], HILO_FOREVER, &value);
    printf("cancelled: done %d, running %d, cancelled %d, result %s\n", hilo_future_done(blocked[5]),
           hilo_future_running(blocked[5]), hilo_future_cancelled(blocked[5]),
           rc == HILO_ECANCELED ? "HILO_ECANCELED" : "?");

    /* Callbacks: on a queued future, in the worker; once. */
    check(hilo_future_add_done_callback(blocked[2], note_callback, NULL) == HILO_OK, "add callback");
    /* Cancelling runs the callbacks in the canceller. */
    check(hilo_future_add_done_callback(blocked[4], note_callback, NULL) == HILO_OK, "add callback");
    check(hilo_future_cancel(blocked[4]) == 1, "cancel 4");
    printf("callback of a cancel: %d, ran in %s\n", atomic_load(&callbacks), callback_thread);

    /* hilo_wait: first completed while two run; all completed timing out. */
    printf("wait first, 0.05 s: %s\n",
           hilo_wait(blocked, 2, 0.05, HILO_FIRST_COMPLETED) == HILO_ETIMEDOUT ? "timed out" : "?");
    hilo_future *pair[2] = {blocked[0], blocked[5]};
    printf("wait first with a cancelled one: %s\n",
           hilo_wait(pair, 2, HILO_FOREVER, HILO_FIRST_COMPLETED) == HILO_OK ? "ok" : "?");
    printf("wait all, 0.05 s: %s\n",
           hilo_wait(blocked, 6, 0.05, HILO_ALL_COMPLETED) == HILO_ETIMEDOUT ? "timed out" : "?");
    hilo_event_set(gate);
    printf("wait all: %s\n", hilo_wait(blocked, 6, HILO_FOREVER, HILO_ALL_COMPLETED) == HILO_OK ? "ok" : "?");
    /* The worker runs callbacks after it wakes the waiters, as Python's. */
    while (atomic_load(&callbacks) < 2) sleep_ms(1);
    printf("callback of a worker: %d, ran in %.5s\n", atomic_load(&callbacks), callback_thread);
    /* Already done: runs at once, here. */
    check(hilo_future_add_done_callback(blocked[1], note_callback, NULL) == HILO_OK, "add callback");
    printf("callback when done: %d, ran in %s\n", atomic_load(&callbacks), callback_thread);
    printf("at most %d ran at once\n", atomic_load(&running_most));
    for (int i = 0; i < 6; i++) hilo_future_free(blocked[i]);

    /* Idle workers are used before new ones start; never more than 2. */
    int pool_threads = 0;
    hilo_thread_t all[64];
    size_t n = hilo_enumerate(all, 64);
    for (size_t i = 0; i < n && i < 64; i++) {
        char name[64];
        if (hilo_get_name(all[i], name, sizeof name) >= 0 && strncmp(name, "Pool_", 5) == 0) pool_threads++;
    }
    printf("worker threads: %d\n", pool_threads);

    /* A future freed before it ran: its work still runs. */
    hilo_event_clear(gate);
    hilo_future *hold[2] = {submit(ex, gated, gate), submit(ex, gated, gate)};
    hilo_future *dropped = submit(ex, count_run, NULL);
    hilo_future_free(dropped);
    hilo_event_set(gate);

    /* Shutdown: later submits refused with Python's text; twice is fine. */
    check(hilo_executor_shutdown(ex, true, false) == HILO_OK, "shutdown");
    printf("freed before it ran, ran: %d\n", atomic_load(&ran));
    hilo_future *late = NULL;
    rc = hilo_executor_submit(ex, identity, NULL, &late);
    printf("submit after shutdown: %s (%s), out untouched %d\n", rc == HILO_ESTATE ? "HILO_ESTATE" : "?",
           hilo_last_error(), late == NULL);
    printf("shutdown again: %s\n", hilo_executor_shutdown(ex, true, true) == HILO_OK ? "ok" : "?");
    hilo_future_free(hold[0]);
    hilo_future_free(hold[1]);
    hilo_executor_free(ex);

    /* shutdown(cancel_futures): queued work is cancelled, running work ends. */
    ex = hilo_executor_new(1, NULL);
    hilo_event_clear(gate);
    hilo_future *first = submit(ex, own_name, NULL);
    check(hilo_future_result(first, HILO_FOREVER, &value) == HILO_OK, "default name");
    printf("default name: %.19s..._0: %s\n", (char *)value,
           strncmp(value, "ThreadPoolExecutor-", 19) == 0 && strcmp(strrchr(value, '_'), "_0") == 0 ? "yes" : "no");
    free(value);
    hilo_future_free(first);
    hilo_future *busy = submit(ex, gated, gate);
    hilo_future *queued = submit(ex, count_run, NULL);
    wait_running(busy);
    hilo_executor_shutdown(ex, false, true);
    printf("cancel_futures: queued cancelled %d, running cancelled %d\n", hilo_future_cancelled(queued),
           hilo_future_cancelled(busy));
    hilo_event_set(gate);
    check(hilo_future_result(busy, HILO_FOREVER, NULL) == HILO_OK, "running work finished");
    hilo_future_free(busy);
    hilo_future_free(queued);
    hilo_executor_free(ex);
    hilo_event_free(gate);
    return 0;
}

/* ---- misuse ---- */

static hilo_executor *misuse_ex;
static hilo_future *follow_up;
static void submit_more(hilo_future *f, void *arg) {
    (void)f;
    (void)arg;
    check(hilo_executor_submit(misuse_ex, identity, (void *)7, &follow_up) == HILO_OK, "submit from a callback");
}

static void free_own(hilo_future *f, void *arg) {
    (void)arg;
    hilo_future_free(f);
}

static void *shutdown_own(void *arg) {
    /* A worker that shuts its own executor down and waits: not for itself. */
    return (void *)(intptr_t)hilo_executor_shutdown((hilo_executor *)arg, true, false);
}

static int misuse(void) {
    hilo_future *f = NULL;
    void *value;
    int rc;
    printf("NULL executor: %d %d %d\n", hilo_executor_submit(NULL, identity, NULL, &f),
           hilo_executor_shutdown(NULL, true, false), f == NULL);
    hilo_executor *ex = hilo_executor_new(1, "Misuse");
    misuse_ex = ex;
    printf("NULL fn, out: %d %d\n", hilo_executor_submit(ex, NULL, NULL, &f),
           hilo_executor_submit(ex, identity, NULL, NULL));
    printf("NULL future: %d %d %d %d %d %d\n", hilo_future_result(NULL, 0, &value), hilo_future_done(NULL),
           hilo_future_running(NULL), hilo_future_cancelled(NULL), hilo_future_cancel(NULL),
           hilo_future_add_done_callback(NULL, free_own, NULL));
    hilo_future_free(NULL);
    hilo_executor_free(NULL);
    f = submit(ex, identity, NULL);
    printf("NaN timeout: %d, NULL callback: %d, NULL result pointer: %d\n", hilo_future_result(f, 0.0 / 0.0, &value),
           hilo_future_add_done_callback(f, NULL, NULL), hilo_future_result(f, HILO_FOREVER, NULL));
    hilo_executor *other = hilo_executor_new(1, "Other");
    hilo_future *g = submit(other, identity, NULL);
    hilo_future *mixed[2] = {f, g};
    hilo_future *with_null[2] = {f, NULL};
    rc = hilo_wait(mixed, 2, 0, HILO_ALL_COMPLETED);
    printf("wait: mixed executors %d (%s), ", rc, hilo_last_error());
    printf("NULL entry %d, NULL array %d, bad return_when %d, none %d\n", hilo_wait(with_null, 2, 0, HILO_ALL_COMPLETED),
           hilo_wait(NULL, 2, 0, HILO_ALL_COMPLETED), hilo_wait(mixed, 1, 0, 99), hilo_wait(NULL, 0, 0, HILO_ALL_COMPLETED));
    hilo_future_free(g);
    hilo_future_free(f);
    hilo_executor_free(other);

    /* A callback that submits more work, in the worker and in the caller. */
    hilo_event *gate = hilo_event_new();
    hilo_future *held = submit(ex, gated, gate);
    check(hilo_future_add_done_callback(held, submit_more, NULL) == HILO_OK, "add submit_more");
    hilo_event_set(gate);
    check(hilo_future_result(held, HILO_FOREVER, NULL) == HILO_OK, "held result");
    while (atomic_load_explicit((_Atomic(hilo_future *) *)&follow_up, memory_order_acquire) == NULL) sleep_ms(1);
    check(hilo_future_result(follow_up, HILO_FOREVER, &value) == HILO_OK, "follow-up result");
    printf("work submitted by a callback: %ld\n", (long)(intptr_t)value);
    hilo_future_free(follow_up);
    hilo_future_free(held);

    /* A callback that frees its own future, in the worker and at once. */
    hilo_event_clear(gate);
    hilo_future *own = submit(ex, gated, gate);
    hilo_future_add_done_callback(own, free_own, NULL);
    hilo_future *after = submit(ex, identity, (void *)1);
    hilo_event_set(gate);
    check(hilo_future_result(after, HILO_FOREVER, NULL) == HILO_OK, "after result");
    hilo_future_free(after);
    own = submit(ex, identity, NULL);
    check(hilo_future_result(own, HILO_FOREVER, NULL) == HILO_OK, "own result");
    printf("callback freeing its future at once: %d\n", hilo_future_add_done_callback(own, free_own, NULL));

    /* A worker that shuts down (and waits for) its own executor. */
    hilo_future *self = submit(ex, shutdown_own, ex);
    check(hilo_future_result(self, HILO_FOREVER, &value) == HILO_OK, "self shutdown result");
    printf("shutdown with wait from its own worker: %ld\n", (long)(intptr_t)value);
    hilo_future_free(self);
    printf("double shutdown: %d %d\n", hilo_executor_shutdown(ex, false, false), hilo_executor_shutdown(ex, true, true));
    hilo_executor_free(ex);
    hilo_event_free(gate);
    return 0;
}

/* ---- stress ---- */

#define PRODUCERS 4
#define PER_PRODUCER 3200
#define GROUP 16

static hilo_executor *stress_ex;
static _Atomic unsigned char runs[PRODUCERS * PER_PRODUCER];
static _Atomic unsigned char ends[PRODUCERS * PER_PRODUCER];

static void *stress_task(void *arg) {
    atomic_fetch_add(&runs[(uintptr_t)arg], 1);
    return arg;
}

static void stress_end(hilo_future *f, void *arg) {
    (void)f;
    atomic_fetch_add(&ends[(uintptr_t)arg], 1);
}

static void *producer(void *arg) {
    uintptr_t base = (uintptr_t)arg * PER_PRODUCER;
    unsigned seed = (unsigned)base + 1;
    hilo_future *group[GROUP];
    for (uintptr_t i = 0; i < PER_PRODUCER; i += GROUP) {
        for (int k = 0; k < GROUP; k++) {
            uintptr_t id = base + i + (uintptr_t)k;
            group[k] = submit(stress_ex, stress_task, (void *)id);
            check(hilo_future_add_done_callback(group[k], stress_end, (void *)id) == HILO_OK, "stress callback");
            if (rand_r(&seed) % 3 == 0) hilo_future_cancel(group[k]);
        }
        int how = rand_r(&seed) % 3;
        if (how == 0) {
            check(hilo_wait(group, GROUP, HILO_FOREVER, HILO_FIRST_COMPLETED) == HILO_OK, "wait first");
        }
        check(hilo_wait(group, GROUP, HILO_FOREVER, HILO_ALL_COMPLETED) == HILO_OK, "wait all");
        for (int k = 0; k < GROUP; k++) {
            uintptr_t id = base + i + (uintptr_t)k;
            void *value = NULL;
            int rc = hilo_future_result(group[k], how == 2 ? 0 : HILO_FOREVER, &value);
            int cancelled = hilo_future_cancelled(group[k]);
            check(hilo_future_done(group[k]) == 1, "done after wait all");
            if (cancelled) {
                check(rc == HILO_ECANCELED && atomic_load(&runs[id]) == 0, "cancelled: never ran");
            } else {
                if (!(rc == HILO_OK && value == (void *)id && atomic_load(&runs[id]) == 1))
                    fprintf(stderr, "id %lu rc %d cancelled %d value %p runs %d how %d\n", (unsigned long)id, rc, cancelled, value, atomic_load(&runs[id]), how);
                check(rc == HILO_OK && value == (void *)id && atomic_load(&runs[id]) == 1, "ran once, its result");
            }
            hilo_future_free(group[k]);
        }
    }
    return NULL;
}

static int stress(void) {
    stress_ex = hilo_executor_new(3, "Stress");
    hilo_thread_t producers[PRODUCERS];
    for (uintptr_t p = 0; p < PRODUCERS; p++) producers[p] = spawn(producer, (void *)p, NULL, 0);
    for (int p = 0; p < PRODUCERS; p++) {
        check(hilo_join(producers[p], HILO_FOREVER, NULL) == HILO_OK, "join producer");
        hilo_release(producers[p]);
    }
    hilo_executor_free(stress_ex);
    int ran_once = 0, cancelled = 0;
    for (int i = 0; i < PRODUCERS * PER_PRODUCER; i++) {
        check(atomic_load(&runs[i]) <= 1, "no work runs twice");
        check(atomic_load(&ends[i]) == 1, "every future's callback ran once");
        if (atomic_load(&runs[i]) == 1) ran_once++; else cancelled++;
    }
    printf("futures: %d, each ended once: yes, ran + cancelled: %d, some of each: %s\n", PRODUCERS * PER_PRODUCER,
           ran_once + cancelled, ran_once > 0 && cancelled > 0 ? "yes" : "no");
    return 0;
}

/* ---- shutdown while work runs ---- */

static void *slow(void *arg) {
    sleep_ms(100);
    atomic_fetch_add(&ran, 1);
    return arg;
}

static int shutdown_running(void) {
    hilo_executor *ex = hilo_executor_new(2, NULL);
    hilo_future *fs[4];
    for (int i = 0; i < 4; i++) fs[i] = submit(ex, slow, NULL);
    wait_running(fs[0]);
    hilo_executor_shutdown(ex, true, false);
    printf("shutdown(wait) returned after %d of 4, all done: %d\n", atomic_load(&ran),
           hilo_wait(fs, 4, 0, HILO_ALL_COMPLETED) == HILO_OK);
    for (int i = 0; i < 4; i++) hilo_future_free(fs[i]);
    hilo_executor_free(ex);

    ex = hilo_executor_new(1, NULL);
    hilo_event *gate = hilo_event_new();
    hilo_future *g = submit(ex, gated, gate);
    wait_running(g);
    hilo_executor_shutdown(ex, false, false);
    printf("shutdown(no wait) returned with the work running: %d\n", hilo_future_running(g));
    hilo_event_set(gate);
    hilo_executor_free(ex); /* waits */
    printf("free waited: done %d\n", hilo_future_done(g));
    hilo_future_free(g);
    hilo_event_free(gate);
    return 0;
}

/* ---- exit with work queued ---- */

static hilo_executor *exit_ex;
static void *exit_task(void *arg) {
    sleep_ms(20);
    char line[32];
    snprintf(line, sizeof line, "task %d", (int)(intptr_t)arg);
    say(line);
    if ((intptr_t)arg == 4) {
        hilo_future *f = NULL;
        int rc = hilo_executor_submit(exit_ex, identity, NULL, &f);
        snprintf(line, sizeof line, "%s", rc == HILO_ESTATE ? "refused" : "accepted");
        printf("%s: %s\n", line, hilo_last_error());
        fflush(stdout);
    }
    return arg;
}

static int exit_queued(void) {
    exit_ex = hilo_executor_new(1, NULL);
    for (intptr_t i = 0; i < 5; i++) hilo_future_free(submit(exit_ex, exit_task, (void *)i));
    say("main returns");
    return 0;
}

/* ---- interruptible waits ---- */

static void on_usr1(int sig) { (void)sig; }
static pthread_t waiter;
static long waiter_tid;

static void *poke(void *arg) {
    wait_until_blocked(waiter_tid, "the waiter asleep in a future's wait");
    pthread_kill(waiter, SIGUSR1);
    return arg;
}

static int interrupt_case(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &sa, NULL);
    waiter = pthread_self();
    waiter_tid = (long)hilo_native_id(hilo_current());
    check(hilo_set_interruptible(true) == HILO_OK, "set interruptible");
    hilo_executor *ex = hilo_executor_new(1, NULL);
    hilo_event *gate = hilo_event_new();
    hilo_future *f = submit(ex, gated, gate);
    wait_running(f);
    hilo_release(spawn(poke, NULL, NULL, 0));
    int rc = hilo_future_result(f, HILO_FOREVER, NULL);
    printf("result: %s\n", rc == HILO_EINTR ? "HILO_EINTR" : "?");
    hilo_release(spawn(poke, NULL, NULL, 0));
    rc = hilo_wait(&f, 1, HILO_FOREVER, HILO_FIRST_COMPLETED);
    printf("wait: %s, done %d\n", rc == HILO_EINTR ? "HILO_EINTR" : "?", hilo_future_done(f));
    hilo_event_set(gate);
    printf("result once set: %d\n", hilo_future_result(f, HILO_FOREVER, NULL));
    hilo_future_free(f);
    hilo_executor_free(ex);
    hilo_event_free(gate);
    return 0;
}

/* ---- fork ---- */

static int fork_case(void) {
    hilo_executor *ex = hilo_executor_new(1, "Forked");
    hilo_event *gate = hilo_event_new();
    hilo_future *running = submit(ex, gated, gate);
    hilo_future *queued = submit(ex, count_run, NULL);
    wait_running(running);
    fflush(stdout);
    pid_t child = fork();
    check(child >= 0, "fork");
    if (child == 0) {
        int rc = hilo_future_result(running, HILO_FOREVER, NULL);
        printf("child: running future: done %d, cancelled %d, result %s\n", hilo_future_done(running),
               hilo_future_cancelled(running), rc == HILO_ECANCELED ? "HILO_ECANCELED" : "?");
        rc = hilo_future_result(queued, HILO_FOREVER, NULL);
        printf("child: queued future: cancelled %d, result %s, wait %d\n", hilo_future_cancelled(queued),
               rc == HILO_ECANCELED ? "HILO_ECANCELED" : "?",
               hilo_wait(&queued, 1, HILO_FOREVER, HILO_FIRST_COMPLETED));
        hilo_future *fresh = submit(ex, own_name, NULL);
        void *name = NULL;
        rc = hilo_future_result(fresh, HILO_FOREVER, &name);
        printf("child: new work: %s on %s\n", rc == HILO_OK ? "ran" : "?", (char *)name);
        free(name);
        hilo_future_free(fresh);
        hilo_future_free(running);
        hilo_future_free(queued);
        hilo_executor_free(ex);
        printf("child: executor freed\n");
        fflush(stdout);
        _exit(0);
    }
    int status = 0;
    check(waitpid(child, &status, 0) == child, "waitpid");
    printf("child exit status: %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    hilo_event_set(gate);
    void *value = NULL;
    check(hilo_future_result(running, HILO_FOREVER, &value) == HILO_OK, "parent result");
    check(hilo_future_result(queued, HILO_FOREVER, NULL) == HILO_OK, "parent queued result");
    printf("parent: both ran, ran %d\n", atomic_load(&ran));
    hilo_future_free(running);
    hilo_future_free(queued);
    hilo_executor_free(ex);
    hilo_event_free(gate);
    return 0;
}

/* ---- pthread_exit ---- */

static void *exits_with_its_arg(void *arg) {
    pthread_exit(arg);
    return NULL;
}

/* A task that ends its worker with pthread_exit(v) ends normally with v, as
 * a thread target does: callbacks run, the worker is gone, new work starts
 * a new worker, the exit does not hang on it. */
static hilo_executor *quit_ex; /* left to the exit, reachable */
static int pthread_exit_case(void) {
    hilo_executor *ex = quit_ex = hilo_executor_new(1, "Quit");
    hilo_future *f = submit(ex, exits_with_its_arg, (void *)0x77);
    check(hilo_future_add_done_callback(f, note_callback, NULL) == HILO_OK, "add callback");
    void *value = NULL;
    int rc = hilo_future_result(f, HILO_FOREVER, &value);
    printf("result: %s %p, done %d, cancelled %d\n", rc == HILO_OK ? "ok" : "?", value,
           hilo_future_done(f), hilo_future_cancelled(f));
    /* Waiters wake before the callbacks run: wait for it, then a while
     * longer, in which a second call would show. */
    while (atomic_load(&callbacks) == 0) sleep_ms(1);
    sleep_ms(20);
    printf("callbacks: %d\n", atomic_load(&callbacks));
    hilo_future_free(f);
    /* Twice more: each time the worker that ran it is gone. */
    for (int i = 0; i < 2; i++) {
        f = submit(ex, exits_with_its_arg, (void *)(uintptr_t)(0x80 + i));
        rc = hilo_future_result(f, HILO_FOREVER, &value);
        printf("again: %s %p\n", rc == HILO_OK ? "ok" : "?", value);
        hilo_future_free(f);
    }
    hilo_future *next = submit(ex, own_name, NULL);
    void *name = NULL;
    rc = hilo_future_result(next, HILO_FOREVER, &name);
    printf("next work: %s on %s\n", rc == HILO_OK ? "ran" : "?", (char *)name);
    free(name);
    hilo_future_free(next);
    /* Freed (shutdown with wait) with such a task queued: it runs, the
     * free returns, its future still gives the value. */
    hilo_executor *freed = hilo_executor_new(1, "Freed");
    hilo_future *last = submit(freed, exits_with_its_arg, (void *)0x99);
    hilo_executor_free(freed);
    rc = hilo_future_result(last, HILO_FOREVER, &value);
    printf("after free: %s %p\n", rc == HILO_OK ? "ok" : "?", value);
    hilo_future_free(last);
    /* Left to the exit: a queued task that exits its worker too. */
    hilo_future_free(submit(ex, exits_with_its_arg, NULL));
    printf("main returns\n");
    return 0;
}

/* shutdown(wait) joins the worker that a task ends with pthread_exit; the
 * work queued behind that task goes to a worker started meanwhile, which
 * the shutdown must wait for too, as must the exit. */
static void *exits_later(void *arg) {
    sleep_ms(50);
    pthread_exit(arg);
    return NULL;
}

static atomic_int behind_ran;

static void *slow_last(void *arg) {
    sleep_ms(100);
    atomic_fetch_add(&behind_ran, 1);
    say(arg);
    return arg;
}

/* ---- out of memory ---- */

/* The address space limited to what the process maps now plus 64 MiB
 * (RLIMIT_AS): submits fail cleanly once the futures' blocks no longer
 * fit, and succeed again once the futures are freed. */
static int out_of_memory(void) {
    hilo_executor *ex = hilo_executor_new(1, "Oom");
    hilo_future_free(submit(ex, identity, NULL)); /* the worker is started */
    enum { MAX = 4 << 20 };
    hilo_future **fs = malloc(MAX * sizeof *fs);
    check(fs != NULL, "malloc");
    long pages = 0;
    FILE *statm = fopen("/proc/self/statm", "r");
    check(statm != NULL && fscanf(statm, "%ld", &pages) == 1, "/proc/self/statm");
    fclose(statm);
    struct rlimit limit = {(rlim_t)pages * 4096 + (64 << 20), RLIM_INFINITY};
    check(setrlimit(RLIMIT_AS, &limit) == 0, "setrlimit");
    int rc = HILO_OK;
    size_t n = 0;
    while (n < MAX && (rc = hilo_executor_submit(ex, identity, NULL, &fs[n])) == HILO_OK) n++;
    printf("refused: %s, %s; after more than 100,000: %s\n",
           rc == HILO_EAGAIN ? "HILO_EAGAIN" : "?", hilo_last_error(), n > 100000 ? "yes" : "no");
    check(hilo_wait(fs, n, HILO_FOREVER, HILO_ALL_COMPLETED) == HILO_OK, "wait");
    for (size_t i = 0; i < n; i++) hilo_future_free(fs[i]);
    free(fs);
    hilo_future *again = submit(ex, identity, (void *)0x5);
    void *value = NULL;
    rc = hilo_future_result(again, HILO_FOREVER, &value);
    printf("after freeing them: %s %p\n", rc == HILO_OK ? "ok" : "?", value);
    hilo_future_free(again);
    hilo_executor_free(ex);
    return 0;
}

static hilo_executor *behind_left; /* left to the exit, reachable */
static int behind_pthread_exit(void) {
    hilo_executor *ex = hilo_executor_new(1, "Behind");
    hilo_future_free(submit(ex, exits_later, NULL));
    hilo_future_free(submit(ex, slow_last, "the work behind it ran"));
    hilo_executor_shutdown(ex, true, false);
    printf("shutdown returned, work behind run: %d\n", atomic_load(&behind_ran));
    hilo_executor_free(ex);
    behind_left = hilo_executor_new(1, "BehindAtExit");
    hilo_future_free(submit(behind_left, exits_later, NULL));
    hilo_future_free(submit(behind_left, slow_last, "and at exit"));
    say("main returns");
    return 0;
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(which, "semantics") == 0) return semantics();
    if (strcmp(which, "misuse") == 0) return misuse();
    if (strcmp(which, "stress") == 0) return stress();
    if (strcmp(which, "shutdown_running") == 0) return shutdown_running();
    if (strcmp(which, "exit_queued") == 0) return exit_queued();
    if (strcmp(which, "fork") == 0) return fork_case();
    if (strcmp(which, "interrupt") == 0) return interrupt_case();
    if (strcmp(which, "pthread_exit") == 0) return pthread_exit_case();
    if (strcmp(which, "behind_pthread_exit") == 0) return behind_pthread_exit();
    if (strcmp(which, "out_of_memory") == 0) return out_of_memory();
    fprintf(stderr, "usage: executor CASE\n");
    return 2;
}
