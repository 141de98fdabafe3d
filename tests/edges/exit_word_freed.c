/* A join's futex calls on the exit word of a thread whose descriptor glibc
 * has freed: `exit_word_freed <case>`.
 *
 * A join asleep on a thread's exit word (the TID word in glibc's thread
 * descriptor) makes its futex calls outside the record's lock: the sleep
 * itself, and the wake it passes on to other sleepers once woken. The
 * thread could meanwhile exit and have its descriptor freed: detached by
 * itself, or joined by a second join. Then glibc may unmap it (its stack
 * cache keeps 40 MiB; these threads have 64 MiB stacks, so a freed one is
 * unmapped at the next stack release), and the join's futex call names
 * memory that is gone: the kernel answers EFAULT, valgrind reports
 * "Syscall param futex(futex) points to unaddressable byte(s)", and memory
 * reused meanwhile would get a stray wake, or hold a sleeper.
 *
 * The program replaces syscall() (libhilo's futex calls resolve to this
 * definition) to make each window wide: the joins' exit-word futex waits
 * (shared FUTEX_WAIT; hilo's own locks use private futexes) pause before
 * or after the call until the main thread has let the thread end, made
 * glibc release a stack, and looked at the descriptor's page; or for at
 * most 300 ms. Every case prints the joins' statuses and results, whether
 * the descriptor was unmapped while a join still had it, and how many futex
 * calls answered EFAULT. tests/edges.rs checks the output. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "hilo.h"
#include "../c/testing.h"

enum { NO_PAUSE, PAUSE_BEFORE, PAUSE_AFTER };

static _Thread_local int pause_mode; /* set by the joining threads */
static atomic_int at_gate;           /* joins paused at an exit-word wait */
static atomic_int gate_open;         /* the main thread lets them go on */
static atomic_int passed;            /* joins that went on past the gate */
static atomic_int efaults;           /* futex calls that answered EFAULT */

static void pause_at_gate(void) {
    atomic_fetch_add(&at_gate, 1);
    for (int waited = 0; waited < 300 && !atomic_load(&gate_open); waited++) {
        sleep_ms(1);
    }
    atomic_fetch_add(&passed, 1);
}

long syscall(long number, ...) {
    static long (*real)(long, ...);
    if (real == NULL) {
        /* POSIX's way to store dlsym's answer in a function pointer. */
        *(void **)&real = dlsym(RTLD_NEXT, "syscall");
    }
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (int i = 0; i < 6; i++) {
        a[i] = va_arg(ap, long);
    }
    va_end(ap);
    int exit_word_wait = number == SYS_futex && (a[1] & FUTEX_PRIVATE_FLAG) == 0 &&
                         (a[1] & FUTEX_CMD_MASK) == FUTEX_WAIT;
    int mode = exit_word_wait ? pause_mode : NO_PAUSE;
    if (mode == PAUSE_BEFORE) {
        pause_mode = NO_PAUSE;
        pause_at_gate();
    }
    long result = real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
    int saved = errno;
    if (number == SYS_futex && result == -1 && saved == EFAULT) {
        atomic_fetch_add(&efaults, 1);
    }
    if (mode == PAUSE_AFTER) {
        pause_mode = NO_PAUSE;
        pause_at_gate();
    }
    errno = saved;
    return result;
}

static hilo_event *go;
static hilo_thread_t target;
static _Atomic(pthread_t) target_pthread;

/* The joined thread: waits for `go`, then returns or calls pthread_exit. */
static void *returns(void *arg) {
    atomic_store(&target_pthread, pthread_self());
    hilo_event_wait(go, HILO_FOREVER);
    return arg;
}

static void *exits(void *arg) {
    atomic_store(&target_pthread, pthread_self());
    hilo_event_wait(go, HILO_FOREVER);
    pthread_exit(arg);
}

struct join {
    int mode;
    int rc;
    void *result;
};

static void *joins(void *arg) {
    struct join *j = arg;
    pause_mode = j->mode;
    j->rc = hilo_join(target, HILO_FOREVER, &j->result);
    return NULL;
}

static void *nothing(void *arg) {
    return arg;
}

/* Creates and joins a plain pthread: its stack goes back to glibc's cache,
 * which then unmaps freed stacks beyond its 40 MiB. */
static void release_a_stack(void) {
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) == 0) {
        pthread_join(t, NULL);
    }
}

/* Whether the page of the target's descriptor is unmapped. */
static int descriptor_unmapped(void) {
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t at = (uintptr_t)atomic_load(&target_pthread) & ~(uintptr_t)(page - 1);
    return msync((void *)at, (size_t)page, MS_ASYNC) == -1 && errno == ENOMEM;
}

/* Waits until the kernel has ended thread `tid` (its /proc entry goes). */
static void wait_until_gone(long tid) {
    char buf[8];
    for (int i = 0; i < 5000 && read_proc(tid, "comm", buf, sizeof buf); i++) {
        sleep_ms(1);
    }
}

static void wait_at_gate(int count) {
    for (int i = 0; i < 5000 && atomic_load(&at_gate) < count; i++) {
        sleep_ms(1);
    }
}

/* Starts the target (`fn`, 64 MiB of stack) and `count` joins of it, each
 * pausing as `mode` says; the joins with PAUSE_AFTER are let go to sleep
 * first. */
static void start(hilo_fn fn, struct join *j, hilo_thread_t *joiners, int count) {
    go = hilo_event_new();
    hilo_create(fn, (void *)0x66, "target", &target);
    hilo_set_thread_stack_size(target, 64u << 20);
    hilo_start(target);
    while (atomic_load(&target_pthread) == 0) {
        sleep_ms(1);
    }
    for (int i = 0; i < count; i++) {
        joiners[i] = spawn(joins, &j[i], "joiner", 0);
        if (j[i].mode == PAUSE_AFTER) {
            wait_until_blocked(hilo_native_id(joiners[i]), "a join asleep on the exit word");
        }
    }
}

/* Lets the joins go on, joins them, and prints what they and the futex
 * calls answered; `unmapped` < 0: not looked at. */
static int finish(struct join *j, hilo_thread_t *joiners, int count, int unmapped) {
    atomic_store(&gate_open, 1);
    for (int i = 0; i < count; i++) {
        hilo_join(joiners[i], HILO_FOREVER, NULL);
        hilo_release(joiners[i]);
        printf("join %d, result %p; ", j[i].rc, j[i].result);
    }
    if (unmapped >= 0) {
        printf("descriptor unmapped while joins had it: %s; ", unmapped ? "yes" : "no");
    }
    printf("futex calls answered EFAULT: %d\n", atomic_load(&efaults));
    hilo_release(target);
    hilo_event_free(go);
    return 0;
}

/* A join about to sleep on the word of a thread that returns (and, before,
 * detached itself) and exits. */
static int case_sleep_after_return(void) {
    struct join j[1] = {{PAUSE_BEFORE, -100, NULL}};
    hilo_thread_t joiners[1];
    start(returns, j, joiners, 1);
    wait_at_gate(1);
    long tid = (long)hilo_native_id(target);
    hilo_event_set(go);
    wait_until_gone(tid);
    release_a_stack();
    return finish(j, joiners, 1, descriptor_unmapped());
}

/* Two joins asleep on the word of a thread that returns: it wakes both as
 * it finishes; they pass the wake on once the thread is gone. */
static int case_wake_after_return(void) {
    struct join j[2] = {{PAUSE_AFTER, -100, NULL}, {PAUSE_AFTER, -100, NULL}};
    hilo_thread_t joiners[2];
    start(returns, j, joiners, 2);
    long tid = (long)hilo_native_id(target);
    hilo_event_set(go);
    wait_at_gate(2);
    wait_until_gone(tid);
    release_a_stack();
    return finish(j, joiners, 2, descriptor_unmapped());
}

/* Two joins asleep on the word of a thread that ends with pthread_exit,
 * which a third join (the main thread's) reaps with pthread_join while
 * they have yet to pass the kernel's wake on. */
static int case_wake_after_reap(void) {
    struct join j[2] = {{PAUSE_AFTER, -100, NULL}, {PAUSE_AFTER, -100, NULL}};
    hilo_thread_t joiners[2];
    start(exits, j, joiners, 2);
    hilo_event_set(go);
    void *result = NULL;
    int rc = hilo_join(target, HILO_FOREVER, &result);
    /* Those joins still had the descriptor, unless they had gone on. */
    printf("reaping join %d, result %p, after both joins went on: %s; ", rc, result,
           atomic_load(&passed) == 2 ? "yes" : "no");
    release_a_stack();
    return finish(j, joiners, 2, -1);
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (strcmp(which, "sleep_after_return") == 0) return case_sleep_after_return();
    if (strcmp(which, "wake_after_return") == 0) return case_wake_after_return();
    if (strcmp(which, "wake_after_reap") == 0) return case_wake_after_reap();
    fprintf(stderr, "usage: exit_word_freed sleep_after_return|wake_after_return|wake_after_reap\n");
    return 2;
}
