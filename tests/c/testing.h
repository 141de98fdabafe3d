/* Helpers shared by the C test programs (tests/c, tests/edges): static
 * inline, so that a program that does not use one gets no warning. */
#ifndef HILO_TESTING_H
#define HILO_TESTING_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hilo.h"

static inline void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

/* Seconds on the monotonic clock. */
static inline double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One line to stdout in one write(2): lines of racing threads never mix,
 * and nothing waits in a stdio buffer when the process ends. */
static inline void say(const char *text) {
    char line[256];
    int n = snprintf(line, sizeof line, "%s\n", text);
    if (n < 0 || (size_t)n >= sizeof line || write(1, line, (size_t)n) != n) {
        _exit(97);
    }
}

/* Creates and starts a thread; `daemon` -1 keeps the inherited flag. A
 * failure ends the program at once (status 90 or 91), past any exit wait. */
static inline hilo_thread_t spawn(hilo_fn fn, void *arg, const char *name, int daemon) {
    hilo_thread_t t;
    if (hilo_create(fn, arg, name, &t) != HILO_OK) {
        fprintf(stderr, "create: %s\n", hilo_last_error());
        _exit(90);
    }
    if (daemon >= 0) {
        hilo_set_daemon(t, daemon);
    }
    if (hilo_start(t) != HILO_OK) {
        fprintf(stderr, "start: %s\n", hilo_last_error());
        _exit(91);
    }
    return t;
}

static inline int read_proc(long tid, const char *what, char *buf, size_t size) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%ld/%s", tid, what);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        buf[0] = '\0';
        return 0;
    }
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = '\0';
    fclose(f);
    return 1;
}

static inline int blocked_in_futex(long tid) {
    char buf[512];
    if (!read_proc(tid, "stat", buf, sizeof buf)) return 0;
    const char *end = strrchr(buf, ')');
    if (end == NULL || end[1] != ' ' || end[2] != 'S') return 0;
    if (read_proc(tid, "wchan", buf, sizeof buf) && strstr(buf, "futex") != NULL) return 1;
#if defined(__aarch64__)
    long futex_call = 98;
#else
    long futex_call = 202;
#endif
    return read_proc(tid, "syscall", buf, sizeof buf) && atol(buf) == futex_call;
}

/* Waits until thread `tid` of this process is observably blocked: asleep
 * (state S) in a futex wait, by its wait channel or its system call (202 on
 * x86_64, 98 on aarch64), on two polls in a row. Observed, never slept for:
 * after 30 s it says what it waited for and exits with status 92. */
static inline void wait_until_blocked(long tid, const char *what) {
    int seen = 0;
    for (int waited_ms = 0; seen < 2; waited_ms++) {
        if (blocked_in_futex(tid)) {
            seen++;
        } else {
            seen = 0;
            if (waited_ms >= 30000) {
                char stat[512] = "", wchan[128] = "";
                read_proc(tid, "stat", stat, sizeof stat);
                read_proc(tid, "wchan", wchan, sizeof wchan);
                fprintf(stderr, "thread %ld never blocked in 30 s (waited for: %s): stat %s wchan %s\n",
                        tid, what, stat, wchan);
                fflush(stdout);
                _exit(92);
            }
        }
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
}

/* Installs `handler` for SIGUSR1: with SA_RESTART for mode "restart",
 * without for "norestart". False (nothing installed) for another mode. */
static inline int handle_sigusr1(const char *mode, void (*handler)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    if (strcmp(mode, "restart") == 0) {
        sa.sa_flags = SA_RESTART;
    } else if (strcmp(mode, "norestart") != 0) {
        return 0;
    }
    return sigaction(SIGUSR1, &sa, NULL) == 0;
}

#endif
