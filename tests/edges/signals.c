/* Waits under a storm of signals: `signals restart|norestart`. A plain
 * pthread sends SIGUSR1 to the main thread every half millisecond while
 * the main thread waits in each of hilo's blocking calls, once until a
 * timeout (0.3 s) and once until another thread acts (after 0.2 s). Every
 * wait must return what it would without signals, the timed ones neither
 * early nor much late. Prints each failing check, then "failures: N". */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hilo.h"
#include "../c/testing.h"

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig) {
    (void)sig;
    signals_seen++;
}

static pthread_t main_thread;
static volatile int stop_pelting;

static void *pelt(void *arg) {
    (void)arg;
    while (!stop_pelting) {
        pthread_kill(main_thread, SIGUSR1);
        struct timespec t = {0, 500000L};
        nanosleep(&t, NULL);
    }
    return NULL;
}

static int failures;

static void check(const char *what, int rc, int want, double took, double low, double high) {
    if (rc != want || took < low || took > high) {
        printf("%s: rc %d (want %d), took %.3f s (want %.2f to %.2f)\n", what, rc, want, took,
               low, high);
        failures++;
    }
}

static void *sleep_1s(void *arg) {
    (void)arg;
    sleep_ms(1000);
    return NULL;
}

static void *sleep_200ms(void *arg) {
    (void)arg;
    sleep_ms(200);
    return (void *)0x42;
}

static hilo_event *event;
static hilo_lock *lock;
static hilo_rlock *rlock;
static hilo_cond *cond;
static hilo_sem *sem;
static hilo_barrier *barrier;

static void *later_set_event(void *arg) {
    (void)arg;
    sleep_ms(200);
    hilo_event_set(event);
    return NULL;
}

static void *later_release_lock(void *arg) {
    (void)arg;
    sleep_ms(200);
    hilo_lock_release(lock);
    return NULL;
}

static void *hold_rlock_200ms(void *arg) {
    hilo_rlock_acquire(rlock, true, HILO_FOREVER);
    hilo_event_set((hilo_event *)arg);
    sleep_ms(200);
    hilo_rlock_release(rlock);
    return NULL;
}

static void *later_notify(void *arg) {
    (void)arg;
    sleep_ms(200);
    hilo_cond_acquire(cond, true, HILO_FOREVER);
    hilo_cond_notify_all(cond);
    hilo_cond_release(cond);
    return NULL;
}

static void *later_release_sem(void *arg) {
    (void)arg;
    sleep_ms(200);
    hilo_sem_release(sem, 1);
    return NULL;
}

static void *later_barrier(void *arg) {
    (void)arg;
    sleep_ms(200);
    hilo_barrier_wait(barrier, HILO_FOREVER);
    return NULL;
}

#define TIMEOUT 0.3
#define LOW (TIMEOUT - 0.005)
#define HIGH (TIMEOUT + 0.35)

static void *worker_300ms(void *arg) {
    (void)arg;
    sleep_ms(300);
    printf("worker done\n");
    fflush(stdout);
    return NULL;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "exit_wait") == 0) {
        /* The exit wait (in main's exit) under a storm of interrupting
         * signals still waits for the worker. */
        struct sigaction quick;
        memset(&quick, 0, sizeof quick);
        quick.sa_handler = on_signal;
        sigemptyset(&quick.sa_mask);
        sigaction(SIGUSR1, &quick, NULL);
        main_thread = pthread_self();
        hilo_thread_t w = spawn(worker_300ms, NULL, NULL, -1);
        hilo_release(w);
        pthread_t pelter;
        pthread_create(&pelter, NULL, pelt, NULL);
        printf("main returns\n");
        fflush(stdout);
        return 0;
    }
    if (!handle_sigusr1(mode, on_signal)) {
        fprintf(stderr, "unknown mode '%s'\n", mode);
        return 99;
    }
    main_thread = pthread_self();
    event = hilo_event_new();
    lock = hilo_lock_new();
    rlock = hilo_rlock_new();
    cond = hilo_cond_new();
    sem = hilo_sem_new(0);
    barrier = hilo_barrier_new(2, NULL, NULL, HILO_FOREVER);
    hilo_thread_t helper;
    void *result = NULL;
    double t0;
    int rc;

    pthread_t pelter;
    pthread_create(&pelter, NULL, pelt, NULL);

    /* join */
    helper = spawn(sleep_1s, NULL, NULL, -1);
    t0 = now();
    rc = hilo_join(helper, TIMEOUT, NULL);
    check("join timeout", rc, HILO_ETIMEDOUT, now() - t0, LOW, HIGH);
    hilo_join(helper, HILO_FOREVER, NULL);
    helper = spawn(sleep_200ms, NULL, NULL, -1);
    t0 = now();
    rc = hilo_join(helper, HILO_FOREVER, &result);
    check("join forever", rc, HILO_OK, now() - t0, 0.19, 0.55);
    if (result != (void *)0x42) {
        printf("join forever: wrong result\n");
        failures++;
    }
    helper = spawn(sleep_200ms, NULL, NULL, -1);
    t0 = now();
    rc = hilo_join(helper, 5.0, NULL);
    check("join with a long timeout", rc, HILO_OK, now() - t0, 0.19, 0.55);

    /* event */
    t0 = now();
    rc = hilo_event_wait(event, TIMEOUT);
    check("event timeout", rc, 0, now() - t0, LOW, HIGH);
    helper = spawn(later_set_event, NULL, NULL, -1);
    t0 = now();
    rc = hilo_event_wait(event, HILO_FOREVER);
    check("event forever", rc, 1, now() - t0, 0.19, 0.55);
    hilo_join(helper, HILO_FOREVER, NULL);

    /* lock */
    hilo_lock_acquire(lock, true, HILO_FOREVER);
    t0 = now();
    rc = hilo_lock_acquire(lock, true, TIMEOUT);
    check("lock timeout", rc, 0, now() - t0, LOW, HIGH);
    helper = spawn(later_release_lock, NULL, NULL, -1);
    t0 = now();
    rc = hilo_lock_acquire(lock, true, HILO_FOREVER);
    check("lock forever", rc, 1, now() - t0, 0.19, 0.55);
    hilo_join(helper, HILO_FOREVER, NULL);
    hilo_lock_release(lock);

    /* rlock held by another thread */
    hilo_event *held = hilo_event_new();
    helper = spawn(hold_rlock_200ms, held, NULL, -1);
    hilo_event_wait(held, HILO_FOREVER);
    t0 = now();
    rc = hilo_rlock_acquire(rlock, true, 0.1);
    check("rlock timeout", rc, 0, now() - t0, 0.095, 0.45);
    rc = hilo_rlock_acquire(rlock, true, HILO_FOREVER);
    check("rlock forever", rc, 1, now() - t0, 0.15, 0.55);
    hilo_rlock_release(rlock);
    hilo_join(helper, HILO_FOREVER, NULL);

    /* condition */
    hilo_cond_acquire(cond, true, HILO_FOREVER);
    t0 = now();
    rc = hilo_cond_wait(cond, TIMEOUT);
    check("cond timeout", rc, 0, now() - t0, LOW, HIGH);
    helper = spawn(later_notify, NULL, NULL, -1);
    t0 = now();
    rc = hilo_cond_wait(cond, HILO_FOREVER);
    check("cond forever", rc, 1, now() - t0, 0.19, 0.55);
    hilo_cond_release(cond);
    hilo_join(helper, HILO_FOREVER, NULL);

    /* semaphore */
    t0 = now();
    rc = hilo_sem_acquire(sem, true, TIMEOUT);
    check("sem timeout", rc, 0, now() - t0, LOW, HIGH);
    helper = spawn(later_release_sem, NULL, NULL, -1);
    t0 = now();
    rc = hilo_sem_acquire(sem, true, HILO_FOREVER);
    check("sem forever", rc, 1, now() - t0, 0.19, 0.55);
    hilo_join(helper, HILO_FOREVER, NULL);

    /* barrier */
    helper = spawn(later_barrier, NULL, NULL, -1);
    t0 = now();
    rc = hilo_barrier_wait(barrier, HILO_FOREVER);
    check("barrier forever", rc < 0 ? rc : 0, 0, now() - t0, 0.19, 0.55);
    hilo_join(helper, HILO_FOREVER, NULL);
    t0 = now();
    rc = hilo_barrier_wait(barrier, TIMEOUT);
    check("barrier timeout", rc, HILO_EBROKEN, now() - t0, LOW, HIGH);

    stop_pelting = 1;
    pthread_join(pelter, NULL);
    printf("failures: %d, signals: %s\n", failures, signals_seen > 100 ? "many" : "few");
    return 0;
}
