/* Process-exit behaviour, one case per run: `exit_cases <case>`.
 * The Rust harness (tests/c_programs.rs) checks the status and output. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hilo.h"

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

/* Waits until thread `tid` of this process is observably blocked: asleep
 * (state S) in a futex wait, by its wait channel or its system call (202 on
 * x86_64, 98 on aarch64), on two polls in a row. Observed, never slept for:
 * after 30 s it says what it waited for and exits with status 92. */
static int read_proc(long tid, const char *what, char *buf, size_t size) {
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

static int blocked_in_futex(long tid) {
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

static void wait_until_blocked(long tid, const char *what) {
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

static void say(const char *text) {
    printf("%s\n", text);
    fflush(stdout);
}

static hilo_thread_t spawn(hilo_fn fn, const char *name, int daemon) {
    hilo_thread_t t;
    if (hilo_create(fn, NULL, name, &t) != HILO_OK) {
        fprintf(stderr, "create: %s\n", hilo_last_error());
        exit(90);
    }
    if (daemon >= 0) {
        hilo_set_daemon(t, daemon);
    }
    if (hilo_start(t) != HILO_OK) {
        fprintf(stderr, "start: %s\n", hilo_last_error());
        exit(91);
    }
    return t;
}

static void *slow_worker(void *arg) {
    (void)arg;
    sleep_ms(300);
    say("worker done");
    return NULL;
}

static void *sleepy_daemon(void *arg) {
    (void)arg;
    sleep_ms(60 * 1000);
    say("daemon woke up");
    return NULL;
}

static void *grandchild(void *arg) {
    (void)arg;
    sleep_ms(200);
    say("grandchild done");
    return NULL;
}

static void *child_starting_grandchild(void *arg) {
    (void)arg;
    sleep_ms(200);
    /* main has returned by now: exit is under way. */
    hilo_thread_t g = spawn(grandchild, "Grandchild", -1); /* inherits non-daemon */
    hilo_release(g);
    say("child done");
    return NULL;
}

static void *exit_three(void *arg) {
    (void)arg;
    sleep_ms(50);
    exit(3);
}

static void *join_main(void *arg) {
    (void)arg;
    int rc = hilo_join(hilo_main_thread(), HILO_FOREVER, NULL);
    printf("joined main: %d\n", rc);
    fflush(stdout);
    return NULL;
}

static void *busy(void *arg) {
    (void)arg;
    volatile unsigned long spin = 0;
    for (;;) {
        spin++;
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    if (strcmp(which, "nondaemon") == 0) {
        hilo_release(spawn(slow_worker, "Worker", -1));
        say("main returns");
        return 0;
    }
    if (strcmp(which, "daemon") == 0) {
        spawn(sleepy_daemon, "Daemon", 1);
        say("main returns");
        return 0;
    }
    if (strcmp(which, "grandchild") == 0) {
        spawn(child_starting_grandchild, "Child", -1);
        say("main returns");
        return 0;
    }
    if (strcmp(which, "exit_from_thread") == 0) {
        hilo_thread_t w = spawn(slow_worker, "Worker", -1);
        hilo_thread_t e = spawn(exit_three, "Exiter", -1);
        /* Returns once e has called exit(3): e will never finish. */
        hilo_join(e, HILO_FOREVER, NULL);
        hilo_join(w, HILO_FOREVER, NULL);
        say("main returns");
        return 0;
    }
    if (strcmp(which, "join_main") == 0) {
        hilo_thread_t j = spawn(join_main, "Joiner", -1);
        wait_until_blocked((long)hilo_native_id(j), "Joiner blocked joining the main thread");
        say("main returns");
        return 0;
    }
    if (strcmp(which, "busy_daemons") == 0) {
        for (int i = 0; i < 40; i++) {
            spawn(busy, NULL, 1);
        }
        say("main returns");
        return 0;
    }
    if (strcmp(which, "underscore_exit") == 0) {
        spawn(sleepy_daemon, "NotDaemon", 0);
        say("main calls _exit");
        _exit(5);
    }
    if (strcmp(which, "shutdown") == 0) {
        hilo_thread_t w = spawn(slow_worker, "Worker", 0);
        hilo_thread_t d = spawn(sleepy_daemon, "Daemon", 1);
        int rc = hilo_shutdown();
        printf("shutdown: %d, worker alive: %d, daemon alive: %d\n", rc, hilo_is_alive(w),
               hilo_is_alive(d));
        printf("again: %d\n", hilo_shutdown());
        fflush(stdout);
        return 0;
    }
    if (strcmp(which, "exit_from_nondaemon_skips_itself") == 0) {
        /* A non-daemon thread calls exit(): the exit wait must not wait for
         * the caller itself. */
        spawn(exit_three, "Exiter", 0);
        sleep_ms(60 * 1000);
        return 0;
    }
    fprintf(stderr, "unknown case '%s'\n", which);
    return 99;
}
