/* Process-exit behaviour, one case per run: `exit_cases <case>`.
 * The Rust harness (tests/c_programs.rs) checks the status and output. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hilo.h"
#include "testing.h"

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
    hilo_thread_t g = spawn(grandchild, NULL, "Grandchild", -1); /* inherits non-daemon */
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
        hilo_release(spawn(slow_worker, NULL, "Worker", -1));
        say("main returns");
        return 0;
    }
    if (strcmp(which, "daemon") == 0) {
        spawn(sleepy_daemon, NULL, "Daemon", 1);
        say("main returns");
        return 0;
    }
    if (strcmp(which, "grandchild") == 0) {
        spawn(child_starting_grandchild, NULL, "Child", -1);
        say("main returns");
        return 0;
    }
    if (strcmp(which, "exit_from_thread") == 0) {
        hilo_thread_t w = spawn(slow_worker, NULL, "Worker", -1);
        hilo_thread_t e = spawn(exit_three, NULL, "Exiter", -1);
        /* Returns once e has called exit(3): e will never finish. */
        hilo_join(e, HILO_FOREVER, NULL);
        hilo_join(w, HILO_FOREVER, NULL);
        say("main returns");
        return 0;
    }
    if (strcmp(which, "join_main") == 0) {
        hilo_thread_t j = spawn(join_main, NULL, "Joiner", -1);
        wait_until_blocked((long)hilo_native_id(j), "Joiner blocked joining the main thread");
        say("main returns");
        return 0;
    }
    if (strcmp(which, "busy_daemons") == 0) {
        for (int i = 0; i < 40; i++) {
            spawn(busy, NULL, NULL, 1);
        }
        say("main returns");
        return 0;
    }
    if (strcmp(which, "underscore_exit") == 0) {
        spawn(sleepy_daemon, NULL, "NotDaemon", 0);
        say("main calls _exit");
        _exit(5);
    }
    if (strcmp(which, "shutdown") == 0) {
        hilo_thread_t w = spawn(slow_worker, NULL, "Worker", 0);
        hilo_thread_t d = spawn(sleepy_daemon, NULL, "Daemon", 1);
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
        spawn(exit_three, NULL, "Exiter", 0);
        sleep_ms(60 * 1000);
        return 0;
    }
    fprintf(stderr, "unknown case '%s'\n", which);
    return 99;
}
