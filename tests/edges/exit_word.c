/* Joins that sleep on the joined thread's exit word, one case per run:
 * `exit_word <case>`. Each case pins the whole process to one CPU first, so
 * that every join sleeps on the CPU its thread runs on: hilo then leaves
 * the wake to the kernel, which wakes the word as the thread exits (as for
 * `pthread_join`), instead of waking the joiner as the thread finishes.
 * tests/edges.rs checks the output. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "hilo.h"
#include "../c/testing.h"

static void pin_to_one_cpu(void) {
    int cpu = sched_getcpu();
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu < 0 ? 0 : cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        fprintf(stderr, "sched_setaffinity: %s\n", strerror(errno));
        _exit(92);
    }
}

static long main_tid;

/* Returns once the main thread sleeps in a futex (its join). */
static void wait_for_main_to_block(void) {
    for (int i = 0; i < 5000 && !blocked_in_futex(main_tid); i++) {
        sleep_ms(1);
    }
}

/* ---- the kernel's wake comes after the thread's last destructor -------- */

static pthread_key_t late_key;
static int late_done;

static void late_destructor(void *value) {
    (void)value;
    sleep_ms(100);
    __atomic_store_n(&late_done, 1, __ATOMIC_SEQ_CST);
}

static void *with_a_late_destructor(void *arg) {
    pthread_setspecific(late_key, arg);
    wait_for_main_to_block();
    return arg;
}

/* Prints whether the join returned after the thread's pthread key
 * destructor (which runs after hilo's record has finished), and the result.
 * A join woken as the record finishes returns during the destructor's
 * 100 ms sleep. */
static int case_after_exit(void) {
    pthread_key_create(&late_key, late_destructor);
    hilo_thread_t t = spawn(with_a_late_destructor, (void *)0x33, "late", 0);
    void *result = NULL;
    int rc = hilo_join(t, HILO_FOREVER, &result);
    printf("join %d, result %p, after the key destructor: %s\n", rc, result,
           __atomic_load_n(&late_done, __ATOMIC_SEQ_CST) ? "yes" : "no");
    hilo_release(t);
    return 0;
}

/* ---- a second join reaps a pthread_exit while the first sleeps -------- */

/* The thread ends with pthread_exit, so its value is the OS's to give: the
 * join that finds it finished calls pthread_join, which sleeps on the same
 * exit word as the main thread's join, asleep there since before the thread
 * finished. The kernel's wake at the exit wakes one sleeper of the word,
 * the first: the main thread, which then waits for the reaping join. Each
 * join prints its status and result; a reaping join left asleep gives up
 * at its 5 s timeout (-5). */
static hilo_thread_t exiting;
static int reaper_rc = -100;
static void *reaper_result;

static void *exits_with_a_late_destructor(void *arg) {
    pthread_setspecific(late_key, arg);
    wait_for_main_to_block();
    pthread_exit(arg);
}

static void *reaps_once_finished(void *arg) {
    (void)arg;
    /* Finished: hilo's record is done, the key destructor still sleeps. */
    while (hilo_is_alive(exiting) == 1) sleep_ms(1);
    reaper_rc = hilo_join(exiting, 5.0, &reaper_result);
    return NULL;
}

static int case_reaped_while_joined(void) {
    pthread_key_create(&late_key, late_destructor);
    exiting = spawn(exits_with_a_late_destructor, (void *)0x88, "exiting", 0);
    hilo_thread_t second = spawn(reaps_once_finished, NULL, "reaper", 0);
    void *result = NULL;
    int rc = hilo_join(exiting, HILO_FOREVER, &result);
    hilo_join(second, HILO_FOREVER, NULL);
    printf("first join %d, result %p; second join %d, result %p\n", rc, result, reaper_rc,
           reaper_result);
    hilo_release(second);
    hilo_release(exiting);
    return 0;
}

/* ---- a timed join gives up, a later one returns ------------------------ */

static hilo_event *go;

static void *waits_for_go(void *arg) {
    hilo_event_wait(go, HILO_FOREVER);
    return arg;
}

/* Lets the thread return, joins it, prints the join and its result. */
static int let_go_and_join(hilo_thread_t t) {
    hilo_event_set(go);
    void *result = NULL;
    int rc = hilo_join(t, 5.0, &result);
    printf("join %d, result %p\n", rc, result);
    hilo_release(t);
    hilo_event_free(go);
    return 0;
}

static int case_timeout_then_join(void) {
    go = hilo_event_new();
    hilo_thread_t t = spawn(waits_for_go, (void *)0x44, "slow", 0);
    double began = now();
    int rc = hilo_join(t, 0.1, NULL);
    double took = now() - began;
    printf("timed join %d, took >= 0.1 s: %s, < 5 s: %s\n", rc, took >= 0.099 ? "yes" : "no",
           took < 5 ? "yes" : "no");
    return let_go_and_join(t);
}

/* ---- several joiners at once ------------------------------------------- */

static hilo_thread_t joined;
static int joins_ok;

static void *joiner(void *arg) {
    (void)arg;
    void *result = NULL;
    if (hilo_join(joined, HILO_FOREVER, &result) == HILO_OK && result == (void *)0x55) {
        __atomic_add_fetch(&joins_ok, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

static void *sleeps_then_returns(void *arg) {
    sleep_ms(200);
    return arg;
}

static int case_many_joiners(void) {
    joined = spawn(sleeps_then_returns, (void *)0x55, "joined", 0);
    hilo_thread_t joiners[4];
    for (int i = 0; i < 4; i++) {
        joiners[i] = spawn(joiner, NULL, "joiner", 0);
    }
    joiner(NULL);
    for (int i = 0; i < 4; i++) {
        hilo_join(joiners[i], HILO_FOREVER, NULL);
        hilo_release(joiners[i]);
    }
    printf("joins that got the result: %d of 5\n", __atomic_load_n(&joins_ok, __ATOMIC_SEQ_CST));
    hilo_release(joined);
    return 0;
}

/* ---- a thread that calls exit() ---------------------------------------- */

static int main_joined = -100;

static void *exits(void *arg) {
    (void)arg;
    wait_for_main_to_block();
    exit(7);
}

/* Registered before hilo's first use, so it runs after hilo's exit hook,
 * in the exiting thread: the join of that thread must have returned. */
static void report_the_join(void) {
    for (int i = 0; i < 5000 && __atomic_load_n(&main_joined, __ATOMIC_SEQ_CST) == -100; i++) {
        sleep_ms(1);
    }
    printf("join of the exiting thread: %d\n", __atomic_load_n(&main_joined, __ATOMIC_SEQ_CST));
}

static int case_joined_thread_exits(void) {
    atexit(report_the_join);
    hilo_thread_t t = spawn(exits, NULL, "exiter", 0);
    __atomic_store_n(&main_joined, hilo_join(t, HILO_FOREVER, NULL), __ATOMIC_SEQ_CST);
    /* The exit goes on in the other thread and ends the process. */
    sleep(30);
    return 1;
}

/* ---- a signal during an interruptible join ----------------------------- */

static void on_alarm(int signo) {
    (void)signo;
}

static int case_interrupted(void) {
    go = hilo_event_new();
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_alarm;
    action.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &action, NULL);
    hilo_thread_t t = spawn(waits_for_go, (void *)0x66, "slow", 0);
    hilo_set_interruptible(true);
    struct itimerval in_100ms = {{0, 0}, {0, 100000}};
    setitimer(ITIMER_REAL, &in_100ms, NULL);
    int rc = hilo_join(t, HILO_FOREVER, NULL);
    printf("interrupted join %d\n", rc);
    return let_go_and_join(t);
}

/* ---- the handle released during the join ------------------------------- */

static hilo_thread_t to_release;
static hilo_thread_t second_joiner;
static int second_rc = -100;

static void *joins_too(void *arg) {
    (void)arg;
    second_rc = hilo_join(to_release, 5.0, NULL);
    return NULL;
}

/* Releases its own handle while two threads join it, then returns. */
static void *releases_then_returns(void *arg) {
    wait_for_main_to_block();
    for (int i = 0; i < 5000 && !blocked_in_futex((long)hilo_native_id(second_joiner)); i++) {
        sleep_ms(1);
    }
    hilo_release(to_release);
    sleep_ms(50);
    return arg;
}

/* Both joins answer HILO_ESRCH when the thread ends: the kernel's wake at
 * its exit wakes one sleeper of its word, so a thread whose record goes
 * with it must wake them all itself. */
static int case_released_during_join(void) {
    hilo_thread_t t;
    if (hilo_create(releases_then_returns, NULL, "released", &t) != HILO_OK) return 90;
    to_release = t;
    if (hilo_start(t) != HILO_OK) return 91;
    second_joiner = spawn(joins_too, NULL, "second", 0);
    double began = now();
    int rc = hilo_join(t, 5.0, NULL);
    hilo_join(second_joiner, HILO_FOREVER, NULL);
    hilo_release(second_joiner);
    printf("joins %d and %d (HILO_ESRCH is %d), within 4 s: %s\n", rc, second_rc, HILO_ESRCH,
           now() - began < 4 ? "yes" : "no");
    /* The slot is reused by the next thread, whose join works as any. */
    hilo_thread_t next = spawn(sleeps_then_returns, (void *)0x77, "next", 0);
    void *result = NULL;
    rc = hilo_join(next, 5.0, &result);
    printf("next join %d, result %p\n", rc, result);
    hilo_release(next);
    return 0;
}

/* ---- many short threads ------------------------------------------------ */

static void *nothing(void *arg) {
    return arg;
}

static int case_cycles(void) {
    int bad = 0;
    for (long i = 1; i <= 3000; i++) {
        hilo_thread_t t = spawn(nothing, (void *)i, NULL, 0);
        void *result = NULL;
        if (hilo_join(t, 10.0, &result) != HILO_OK || result != (void *)i) bad++;
        hilo_release(t);
    }
    printf("bad joins: %d of 3000\n", bad);
    return 0;
}

/* ---- joins, timeouts and releases racing, for a while ----------------- */

struct race {
    hilo_thread_t target;
    unsigned seed;
};

static int race_bad;

static unsigned next_rand(unsigned *seed) {
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) & 0x7fff;
}

static void *sleeps_briefly(void *arg) {
    struct timespec t = {0, (long)((uintptr_t)arg % 2000) * 1000};
    nanosleep(&t, NULL);
    return arg;
}

/* A join with a timeout of 0, 1 ms or forever: any answer but OK,
 * ETIMEDOUT (timed ones) or ESRCH (a released handle) is a defect. */
static void *race_joiner(void *arg) {
    struct race *r = arg;
    double timeouts[] = {0.0, 0.001, HILO_FOREVER};
    double timeout = timeouts[next_rand(&r->seed) % 3];
    int rc = hilo_join(r->target, timeout, NULL);
    if (!(rc == HILO_OK || rc == HILO_ESRCH || (rc == HILO_ETIMEDOUT && timeout >= 0))) {
        __atomic_add_fetch(&race_bad, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

/* Rounds of one short thread joined by one to three threads at once, its
 * handle released by one of them or after all, for `seconds`: every join
 * returns (the case's time limit catches a lost wake-up) with an answer
 * it may give. */
static int case_race(double seconds) {
    double end = now() + seconds;
    unsigned seed = 1;
    long rounds = 0;
    while (now() < end) {
        rounds++;
        struct race r = {.seed = next_rand(&seed)};
        r.target = spawn(sleeps_briefly, (void *)(uintptr_t)next_rand(&seed), "target", 0);
        int joiners = 1 + (int)(next_rand(&seed) % 3);
        hilo_thread_t j[3];
        struct race theirs[3]; /* alive until they are joined below */
        for (int i = 0; i < joiners; i++) {
            theirs[i] = r;
            theirs[i].seed = next_rand(&seed);
            j[i] = spawn(race_joiner, &theirs[i], "joiner", 0);
        }
        int release_early = next_rand(&seed) % 2;
        if (release_early) hilo_release(r.target);
        race_joiner(&r);
        for (int i = 0; i < joiners; i++) {
            hilo_join(j[i], HILO_FOREVER, NULL);
            hilo_release(j[i]);
        }
        if (!release_early) {
            hilo_join(r.target, HILO_FOREVER, NULL);
            hilo_release(r.target);
        }
    }
    printf("race: bad answers %d, rounds over 1000: %s\n", race_bad, rounds > 1000 ? "yes" : "no");
    return 0;
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    main_tid = (long)getpid();
    /* The race runs unpinned too: joiners then also sleep on other CPUs,
     * and the ending thread wakes them early. */
    if (strcmp(which, "race_unpinned") == 0) return case_race(3.0);
    pin_to_one_cpu();
    if (strcmp(which, "race") == 0) return case_race(3.0);
    if (strcmp(which, "after_exit") == 0) return case_after_exit();
    if (strcmp(which, "timeout_then_join") == 0) return case_timeout_then_join();
    if (strcmp(which, "many_joiners") == 0) return case_many_joiners();
    if (strcmp(which, "joined_thread_exits") == 0) return case_joined_thread_exits();
    if (strcmp(which, "interrupted") == 0) return case_interrupted();
    if (strcmp(which, "released_during_join") == 0) return case_released_during_join();
    if (strcmp(which, "cycles") == 0) return case_cycles();
    if (strcmp(which, "reaped_while_joined") == 0) return case_reaped_while_joined();
    fprintf(stderr, "unknown case %s\n", which);
    return 2;
}
