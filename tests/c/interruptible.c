/* hilo_set_interruptible: `interruptible restart|norestart` installs a
 * SIGUSR1 handler with or without SA_RESTART. For each kind of blocking
 * wait (join, lock, rlock, condition acquire and wait, semaphore, event,
 * barrier, untimed and with a 60 s timeout; an executor shutdown's wait
 * for its workers, untimed), a waiter thread blocks; once
 * it is observed asleep in a futex wait, the main thread sends it SIGUSR1
 * with pthread_kill. An interruptible waiter must return HILO_EINTR with
 * the documented text and leave the object as it was (a condition wait
 * holds its lock again; a barrier is not broken and counts no waiter); a
 * waiter that did not ask must be seen asleep again after its handler ran,
 * and then succeed when the main thread gives it what it waits for.
 * Prints each failing check, then "cases: N, failures: F". */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hilo.h"
#include "testing.h"

static volatile sig_atomic_t handled;

static void on_signal(int sig) {
    (void)sig;
    handled++;
}

enum kind { JOIN, LOCK, RLOCK, COND_ACQUIRE, COND_WAIT, SEM, EVENT, BARRIER, EXEC_SHUTDOWN, KINDS };
static const char *const kind_names[KINDS] = {
    "join", "lock", "rlock", "cond acquire", "cond wait", "sem", "event", "barrier",
    "executor shutdown",
};

static const char *const eintr_text = "interrupted: a signal handler ran while this thread waited";

/* The objects of one case, made fresh for it. */
static hilo_lock *lock;
static hilo_rlock *rlock;
static hilo_cond *cond;
static hilo_sem *sem;
static hilo_event *event;
static hilo_barrier *barrier;
static hilo_event *gate;
static hilo_thread_t target;
/* An executor whose one worker waits for `gate` in its first task, with a
 * second task queued behind it that sets `queued_ran`. */
static hilo_executor *pool;
static int queued_ran;

struct job {
    enum kind kind;
    double timeout;
    bool interruptible;
    hilo_event *ready;
    pthread_t self;
    int64_t tid;
    int rc;
    int after; /* a status checked by the waiter after its wait, or 0 */
    char error[160];
    int done;
};

static void *wait_for_gate(void *arg) {
    (void)arg;
    hilo_event_wait(gate, HILO_FOREVER);
    return (void *)0x42;
}

static void *mark_ran(void *arg) {
    __atomic_store_n(&queued_ran, 1, __ATOMIC_RELEASE);
    return arg;
}

static int ran(void) { return __atomic_load_n(&queued_ran, __ATOMIC_ACQUIRE); }

/* A fresh `pool`: its worker busy until `gate` is set, one task queued. */
static void make_pool(void) {
    pool = hilo_executor_new(1, "pool");
    queued_ran = 0;
    hilo_future *f;
    if (hilo_executor_submit(pool, wait_for_gate, NULL, &f) != HILO_OK) _exit(95);
    hilo_future_free(f);
    if (hilo_executor_submit(pool, mark_ran, NULL, &f) != HILO_OK) _exit(95);
    hilo_future_free(f);
}

static void *waiter(void *arg) {
    struct job *job = arg;
    hilo_set_interruptible(job->interruptible);
    job->self = pthread_self();
    job->tid = hilo_native_id(hilo_current());
    if (job->kind == COND_WAIT) {
        hilo_cond_acquire(cond, true, HILO_FOREVER);
    }
    hilo_event_set(job->ready);
    int rc = 0;
    switch (job->kind) {
    case JOIN: rc = hilo_join(target, job->timeout, NULL); break;
    case LOCK: rc = hilo_lock_acquire(lock, true, job->timeout); break;
    case RLOCK: rc = hilo_rlock_acquire(rlock, true, job->timeout); break;
    case COND_ACQUIRE: rc = hilo_cond_acquire(cond, true, job->timeout); break;
    case COND_WAIT:
        rc = hilo_cond_wait(cond, job->timeout);
        /* Holds the lock again whatever ended the wait: the release works. */
        job->after = hilo_cond_release(cond);
        break;
    case SEM: rc = hilo_sem_acquire(sem, true, job->timeout); break;
    case EVENT: rc = hilo_event_wait(event, job->timeout); break;
    case BARRIER: rc = hilo_barrier_wait(barrier, job->timeout); break;
    case EXEC_SHUTDOWN:
        rc = hilo_executor_shutdown(pool, true, false);
        /* Waited to the end: the queued task ran. */
        job->after = ran() ? HILO_OK : -100;
        break;
    case KINDS: break;
    }
    if (rc == 1 && job->kind == LOCK) job->after = hilo_lock_release(lock);
    if (rc == 1 && job->kind == RLOCK) job->after = hilo_rlock_release(rlock);
    if (rc == 1 && job->kind == COND_ACQUIRE) job->after = hilo_cond_release(cond);
    job->rc = rc;
    snprintf(job->error, sizeof job->error, "%s", rc == HILO_EINTR ? hilo_last_error() : "");
    __atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static int failures;
static int cases;

static void fail(const struct job *job, const char *what) {
    printf("%s%s, %s: %s (rc %d, error '%s', after %d)\n", kind_names[job->kind],
           job->timeout < 0 ? " untimed" : " timed", job->interruptible ? "interruptible" : "not",
           what, job->rc, job->error, job->after);
    failures++;
}

static int is_done(struct job *job) { return __atomic_load_n(&job->done, __ATOMIC_ACQUIRE); }

/* Until the handler has run `count` times in all; 30 s at most. */
static void wait_handled(int count) {
    for (int ms = 0; handled < count; ms++) {
        if (ms > 30000) {
            fprintf(stderr, "the signal handler never ran\n");
            _exit(93);
        }
        sleep_ms(1);
    }
}

/* Until the waiter is asleep in a futex wait on two polls in a row, or has
 * returned: true when asleep. */
static int asleep_again(struct job *job) {
    int seen = 0;
    for (int ms = 0; seen < 2; ms++) {
        if (is_done(job)) return 0;
        seen = blocked_in_futex(job->tid) ? seen + 1 : 0;
        if (ms > 30000) {
            fprintf(stderr, "the waiter neither slept nor returned\n");
            _exit(94);
        }
        sleep_ms(1);
    }
    return 1;
}

/* What the main thread does so that a waiter that kept waiting succeeds. */
static void give(enum kind kind) {
    switch (kind) {
    case JOIN: hilo_event_set(gate); break;
    case LOCK: hilo_lock_release(lock); break;
    case RLOCK: hilo_rlock_release(rlock); break;
    case COND_ACQUIRE: hilo_cond_release(cond); break;
    case COND_WAIT:
        hilo_cond_acquire(cond, true, HILO_FOREVER);
        hilo_cond_notify(cond, 1);
        hilo_cond_release(cond);
        break;
    case SEM: hilo_sem_release(sem, 1); break;
    case EVENT: hilo_event_set(event); break;
    case BARRIER: hilo_barrier_wait(barrier, HILO_FOREVER); break;
    case EXEC_SHUTDOWN: hilo_event_set(gate); break;
    case KINDS: break;
    }
}

/* What a waiter that kept waiting returns once given what it waits for. */
static int success_rc(enum kind kind) {
    switch (kind) {
    case JOIN: return HILO_OK;
    case EXEC_SHUTDOWN: return HILO_OK;
    case BARRIER: return 0; /* arrived first: index 0 */
    default: return 1;
    }
}

static void run_case(enum kind kind, double timeout, bool interruptible) {
    cases++;
    lock = hilo_lock_new();
    rlock = hilo_rlock_new();
    cond = hilo_cond_new();
    sem = hilo_sem_new(0);
    event = hilo_event_new();
    barrier = hilo_barrier_new(2, NULL, NULL, HILO_FOREVER);
    gate = hilo_event_new();
    target = spawn(wait_for_gate, NULL, "target", -1);
    make_pool();
    /* The main thread holds what the lock waits are for. */
    if (kind == LOCK) hilo_lock_acquire(lock, true, HILO_FOREVER);
    if (kind == RLOCK) hilo_rlock_acquire(rlock, true, HILO_FOREVER);
    if (kind == COND_ACQUIRE) hilo_cond_acquire(cond, true, HILO_FOREVER);

    struct job job = {.kind = kind, .timeout = timeout, .interruptible = interruptible};
    job.ready = hilo_event_new();
    hilo_thread_t w = spawn(waiter, &job, "waiter", -1);
    hilo_event_wait(job.ready, HILO_FOREVER);
    wait_until_blocked((long)job.tid, kind_names[kind]);
    int before = handled;
    pthread_kill(job.self, SIGUSR1);
    wait_handled(before + 1);

    if (interruptible) {
        /* The join waits for the waiter to be done first: until it has left
         * its wait, a waiter blocked on the condition's RLock, which this
         * thread holds, is a cycle that the join would refuse at once with
         * HILO_EDEADLK (seen once in a run of the whole suite). */
        for (int ms = 0; ms < 30000 && !is_done(&job); ms++) sleep_ms(1);
        if (!is_done(&job) || hilo_join(w, 30.0, NULL) != HILO_OK) {
            fail(&job, "still waiting 30 s after the signal");
            give(kind);
            hilo_join(w, HILO_FOREVER, NULL);
        } else {
            if (job.rc != HILO_EINTR) fail(&job, "not HILO_EINTR");
            if (strcmp(job.error, eintr_text) != 0) fail(&job, "wrong last error");
            /* Nothing was taken, joined or consumed. */
            int left_as_was = 1;
            switch (kind) {
            case JOIN: left_as_was = hilo_is_alive(target) == 1; break;
            case LOCK: left_as_was = hilo_lock_release(lock) == HILO_OK && hilo_lock_locked(lock) == 0; break;
            case RLOCK: left_as_was = hilo_rlock_release(rlock) == HILO_OK && hilo_rlock_locked(rlock) == 0; break;
            case COND_ACQUIRE: left_as_was = hilo_cond_release(cond) == HILO_OK; break;
            case COND_WAIT: left_as_was = job.after == HILO_OK; break;
            case SEM: left_as_was = hilo_sem_value(sem) == 0; break;
            case EVENT: left_as_was = hilo_event_is_set(event) == 0; break;
            case BARRIER:
                left_as_was = hilo_barrier_n_waiting(barrier) == 0 && hilo_barrier_broken(barrier) == 0;
                break;
            case EXEC_SHUTDOWN: {
                /* Shut down all the same; its queued work not run yet. */
                hilo_future *f;
                left_as_was = !ran() && hilo_executor_submit(pool, mark_ran, NULL, &f) == HILO_ESTATE;
                break;
            }
            case KINDS: break;
            }
            if (!left_as_was) fail(&job, "the object was changed");
        }
    } else {
        if (!asleep_again(&job)) fail(&job, "returned after the signal");
        give(kind);
        hilo_join(w, HILO_FOREVER, NULL);
        if (job.rc != success_rc(kind)) fail(&job, "did not succeed once given what it waited for");
        /* A condition wait holds its lock again; an acquire took it. */
        if (job.after != HILO_OK) fail(&job, "lock not held after the wait");
    }
    hilo_release(w);
    hilo_event_set(gate);
    hilo_join(target, HILO_FOREVER, NULL);
    hilo_release(target);
    hilo_executor_free(pool);
    if (!ran()) fail(&job, "the executor's queued work never ran");
    hilo_event_free(job.ready);
    hilo_lock_free(lock);
    hilo_rlock_free(rlock);
    hilo_cond_free(cond);
    hilo_sem_free(sem);
    hilo_event_free(event);
    hilo_barrier_free(barrier);
    hilo_event_free(gate);
}

/* A condition on a plain Lock, whose re-acquire after the wait is a lock
 * acquire of its own: the waiter's HILO_EINTR comes with the lock held
 * again even when the main thread holds the lock at the signal and a
 * second signal comes while the waiter waits for it. */
static hilo_lock *plain;
static hilo_cond *on_plain;

static void *plain_cond_waiter(void *arg) {
    struct job *job = arg;
    hilo_set_interruptible(true);
    job->self = pthread_self();
    job->tid = hilo_native_id(hilo_current());
    hilo_cond_acquire(on_plain, true, HILO_FOREVER);
    hilo_event_set(job->ready);
    int rc = hilo_cond_wait(on_plain, job->timeout);
    snprintf(job->error, sizeof job->error, "%s", rc == HILO_EINTR ? hilo_last_error() : "");
    /* Held by this thread (the main thread released it): the release works. */
    job->after = hilo_lock_locked(plain) == 1 ? hilo_cond_release(on_plain) : -100;
    job->rc = rc;
    __atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void run_plain_lock_case(double timeout) {
    cases++;
    plain = hilo_lock_new();
    on_plain = hilo_cond_new_with_lock(plain);
    struct job job = {.kind = COND_WAIT, .timeout = timeout, .interruptible = true};
    job.ready = hilo_event_new();
    hilo_thread_t w = spawn(plain_cond_waiter, &job, "waiter", -1);
    hilo_event_wait(job.ready, HILO_FOREVER);
    wait_until_blocked((long)job.tid, "the condition wait");
    hilo_lock_acquire(plain, true, HILO_FOREVER);
    for (int signal = 0; signal < 2; signal++) {
        int before = handled;
        pthread_kill(job.self, SIGUSR1);
        wait_handled(before + 1);
        if (!asleep_again(&job)) fail(&job, "plain lock: returned without the lock");
    }
    hilo_lock_release(plain);
    hilo_join(w, HILO_FOREVER, NULL);
    if (job.rc != HILO_EINTR) fail(&job, "plain lock: not HILO_EINTR");
    if (strcmp(job.error, eintr_text) != 0) fail(&job, "plain lock: wrong last error");
    if (job.after != HILO_OK) fail(&job, "plain lock: not held with HILO_EINTR");
    hilo_release(w);
    hilo_event_free(job.ready);
    hilo_cond_free(on_plain);
    hilo_lock_free(plain);
}

/* hilo_executor_free is not interruptible, in an interruptible thread too:
 * it must not free the executor (dropping the queued work) before the
 * workers have run it. */
static void *free_pool(void *arg) {
    struct job *job = arg;
    hilo_set_interruptible(true);
    job->self = pthread_self();
    job->tid = hilo_native_id(hilo_current());
    hilo_event_set(job->ready);
    hilo_executor_free(pool);
    job->after = ran() ? HILO_OK : -100;
    __atomic_store_n(&job->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void run_free_case(void) {
    cases++;
    gate = hilo_event_new();
    make_pool();
    struct job job = {.kind = EXEC_SHUTDOWN, .timeout = HILO_FOREVER, .interruptible = true};
    job.ready = hilo_event_new();
    hilo_thread_t w = spawn(free_pool, &job, "waiter", -1);
    hilo_event_wait(job.ready, HILO_FOREVER);
    wait_until_blocked((long)job.tid, "hilo_executor_free");
    int before = handled;
    pthread_kill(job.self, SIGUSR1);
    wait_handled(before + 1);
    if (!asleep_again(&job)) fail(&job, "executor free: returned after the signal");
    hilo_event_set(gate);
    hilo_join(w, HILO_FOREVER, NULL);
    if (job.after != HILO_OK) fail(&job, "executor free: the queued work never ran");
    hilo_release(w);
    hilo_event_free(job.ready);
    hilo_event_free(gate);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (!handle_sigusr1(mode, on_signal)) {
        fprintf(stderr, "unknown mode '%s'\n", mode);
        return 99;
    }

    if (hilo_is_interruptible() != 0) {
        printf("a thread starts interruptible\n");
        failures++;
    }
    if (hilo_set_interruptible(true) != HILO_OK || hilo_is_interruptible() != 1 ||
        hilo_set_interruptible(false) != HILO_OK || hilo_is_interruptible() != 0) {
        printf("hilo_set_interruptible does not set what hilo_is_interruptible reads\n");
        failures++;
    }
    for (int interruptible = 1; interruptible >= 0; interruptible--) {
        for (int kind = 0; kind < KINDS; kind++) {
            run_case((enum kind)kind, HILO_FOREVER, interruptible);
            if (kind != EXEC_SHUTDOWN) { /* it has no timeout */
                run_case((enum kind)kind, 60.0, interruptible);
            }
        }
    }
    run_plain_lock_case(HILO_FOREVER);
    run_plain_lock_case(60.0);
    run_free_case();
    printf("cases: %d, failures: %d\n", cases, failures);
    return 0;
}
