/* How a joiner is woken, and what it costs on one CPU: raw pthreads only,
 * no hilo (docs/performance.md, "Where the spawn cycle's extra time goes").
 *
 *   cc -std=c11 -O2 -Wall -Wextra -Wpedantic scripts/wake_patterns.c -o /tmp/wake_patterns -lpthread
 *   taskset -c 0 /tmp/wake_patterns     (and without taskset)
 *
 * Three ways to run a thread whose target returns at once and wait for it,
 * each the median of 15 interleaved rounds of 400:
 *   join:   pthread_create + pthread_join; the kernel wakes the joiner as
 *           the thread exits (CLONE_CHILD_CLEARTID).
 *   early:  the thread wakes the waiter with FUTEX_WAKE at the end of its
 *           target and detaches itself, as a hilo thread wakes its joiners
 *           when its record finishes. On one CPU the woken waiter preempts
 *           the thread, which must run again later to exit.
 *   robust: the thread locks a robust mutex and ends holding it, detached;
 *           the waiter sleeps on the mutex word, and the kernel wakes it as
 *           the thread exits (robust list, FUTEX_OWNER_DIED).
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 15
#define CYCLES 400

static atomic_int done;
static pthread_mutex_t alive;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *noop(void *arg) { return arg; }

static void *wake_early(void *arg) {
    atomic_store(&done, 1);
    syscall(SYS_futex, &done, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    pthread_detach(pthread_self());
    return arg;
}

static void *die_holding(void *arg) {
    pthread_mutex_lock(&alive); /* held until the thread exits */
    pthread_detach(pthread_self());
    return arg;
}

static void wait_for_death(void) {
    /* A robust mutex's word is the owner's TID and the kernel's bits
     * (FUTEX_WAITERS, FUTEX_OWNER_DIED); glibc keeps it first. */
    _Atomic uint32_t *word = (_Atomic uint32_t *)(void *)&alive;
    for (;;) {
        uint32_t v = atomic_load(word);
        if (v & FUTEX_OWNER_DIED) {
            return;
        }
        if (v == 0) { /* not locked yet */
            sched_yield();
            continue;
        }
        if (!(v & FUTEX_WAITERS) && !atomic_compare_exchange_strong(word, &v, v | FUTEX_WAITERS)) {
            continue;
        }
        syscall(SYS_futex, word, FUTEX_WAIT, v | FUTEX_WAITERS, NULL, NULL, 0);
    }
}

static double run(int mode) {
    double t0 = now_ns();
    for (int i = 0; i < CYCLES; i++) {
        pthread_t t;
        if (mode == 1) {
            atomic_store(&done, 0);
            pthread_create(&t, NULL, wake_early, NULL);
            while (!atomic_load(&done)) {
                syscall(SYS_futex, &done, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
            }
        } else if (mode == 2) {
            pthread_mutexattr_t attr;
            pthread_mutexattr_init(&attr);
            pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
            pthread_mutex_init(&alive, &attr);
            pthread_create(&t, NULL, die_holding, NULL);
            wait_for_death();
        } else {
            pthread_create(&t, NULL, noop, NULL);
            pthread_join(t, NULL);
        }
    }
    return (now_ns() - t0) / CYCLES;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    double r[3][ROUNDS];
    for (int m = 0; m < 3; m++) {
        run(m);
    }
    for (int i = 0; i < ROUNDS; i++) {
        for (int m = 0; m < 3; m++) {
            r[m][i] = run(m);
        }
    }
    for (int m = 0; m < 3; m++) {
        qsort(r[m], ROUNDS, sizeof(double), cmp_double);
    }
    double join = r[0][ROUNDS / 2];
    printf("join %.2f us, early %.2f us (%.3f), robust %.2f us (%.3f)\n", join / 1000,
           r[1][ROUNDS / 2] / 1000, r[1][ROUNDS / 2] / join, r[2][ROUNDS / 2] / 1000,
           r[2][ROUNDS / 2] / join);
    return 0;
}
