/* Side-by-side figures for the sync objects (issue 3), in one run:
 *
 *  1. uncontended hilo_lock acquire+release vs pthread_mutex_lock+unlock;
 *  2. a ping-pong between two threads on two hilo_events vs the same on a
 *     pthread mutex and condition variable.
 *
 * Rounds interleave the two sides so that frequency changes and noise hit
 * both alike; the medians of the rounds are reported. Not run by
 * `make run` (its name does not start with a digit). Build and run, from
 * the repository root:
 *
 *   cargo build --release && cc -std=c11 -O2 -Wall -Wextra -Wpedantic -Werror \
 *     -D_POSIX_C_SOURCE=200809L -Iinclude c_examples/bench_sync.c -o target/bench_sync \
 *     -Ltarget/release -Wl,-rpath,$PWD/target/release -lhilo -lpthread && target/bench_sync
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hilo.h"

#define ROUNDS 11
#define LOCK_ITERS 5000000
#define PINGPONGS 50000

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof v[0], by_value);
    return v[n / 2];
}

/* ---- 1. uncontended lock ---- */

static double hilo_lock_ns(hilo_lock *l) {
    double start = now();
    for (int i = 0; i < LOCK_ITERS; i++) {
        hilo_lock_acquire(l, true, HILO_FOREVER);
        hilo_lock_release(l);
    }
    return (now() - start) * 1e9 / LOCK_ITERS;
}

static double pthread_mutex_ns(pthread_mutex_t *m) {
    double start = now();
    for (int i = 0; i < LOCK_ITERS; i++) {
        pthread_mutex_lock(m);
        pthread_mutex_unlock(m);
    }
    return (now() - start) * 1e9 / LOCK_ITERS;
}

/* ---- 2. ping-pong on hilo events ---- */

static hilo_event *ping, *pong;

static void *hilo_ponger(void *arg) {
    (void)arg;
    for (int i = 0; i < PINGPONGS; i++) {
        hilo_event_wait(ping, HILO_FOREVER);
        hilo_event_clear(ping);
        hilo_event_set(pong);
    }
    return NULL;
}

static double hilo_pingpong_us(void) {
    hilo_thread_t t;
    hilo_create(hilo_ponger, NULL, "ponger", &t);
    hilo_start(t);
    double start = now();
    for (int i = 0; i < PINGPONGS; i++) {
        hilo_event_set(ping);
        hilo_event_wait(pong, HILO_FOREVER);
        hilo_event_clear(pong);
    }
    double elapsed = now() - start;
    hilo_join(t, HILO_FOREVER, NULL);
    hilo_release(t);
    return elapsed * 1e6 / PINGPONGS;
}

/* ---- 2'. the same on a pthread condition variable ---- */

static pthread_mutex_t pp_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_cond = PTHREAD_COND_INITIALIZER;
static int turn; /* 0: the pinger's turn, 1: the ponger's */

static void *pthread_ponger(void *arg) {
    (void)arg;
    for (int i = 0; i < PINGPONGS; i++) {
        pthread_mutex_lock(&pp_mutex);
        while (turn != 1) {
            pthread_cond_wait(&pp_cond, &pp_mutex);
        }
        turn = 0;
        pthread_cond_signal(&pp_cond);
        pthread_mutex_unlock(&pp_mutex);
    }
    return NULL;
}

static double pthread_pingpong_us(void) {
    pthread_t t;
    turn = 0;
    pthread_create(&t, NULL, pthread_ponger, NULL);
    double start = now();
    for (int i = 0; i < PINGPONGS; i++) {
        pthread_mutex_lock(&pp_mutex);
        turn = 1;
        pthread_cond_signal(&pp_cond);
        while (turn != 0) {
            pthread_cond_wait(&pp_cond, &pp_mutex);
        }
        pthread_mutex_unlock(&pp_mutex);
    }
    double elapsed = now() - start;
    pthread_join(t, NULL);
    return elapsed * 1e6 / PINGPONGS;
}

int main(void) {
    hilo_lock *l = hilo_lock_new();
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    ping = hilo_event_new();
    pong = hilo_event_new();
    double hl[ROUNDS], pm[ROUNDS], he[ROUNDS], pc[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        /* Alternate which side goes first. */
        if (r % 2 == 0) {
            hl[r] = hilo_lock_ns(l);
            pm[r] = pthread_mutex_ns(&m);
            he[r] = hilo_pingpong_us();
            pc[r] = pthread_pingpong_us();
        } else {
            pm[r] = pthread_mutex_ns(&m);
            hl[r] = hilo_lock_ns(l);
            pc[r] = pthread_pingpong_us();
            he[r] = hilo_pingpong_us();
        }
    }
    printf("medians of %d interleaved rounds\n", ROUNDS);
    printf("uncontended acquire+release (%d per round):\n", LOCK_ITERS);
    printf("  hilo_lock            %7.2f ns\n", median(hl, ROUNDS));
    printf("  pthread_mutex        %7.2f ns\n", median(pm, ROUNDS));
    printf("ping-pong round trip between two threads (%d per round):\n", PINGPONGS);
    printf("  hilo_event           %7.2f us\n", median(he, ROUNDS));
    printf("  pthread_cond         %7.2f us\n", median(pc, ROUNDS));
    hilo_event_free(pong);
    hilo_event_free(ping);
    hilo_lock_free(l);
    return 0;
}
