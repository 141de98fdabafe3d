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

/* A thread that waits at cancellation points (nanosleep) until cancelled. */
struct cancellable {
    pthread_t self;
    hilo_event *ready;
    hilo_local *local;
    hilo_event *go; /* NULL, or waited for before the sleeps */
    int go_rc;      /* what that wait returned (no print: write(2) is a
                       cancellation point) */
};

static void say_destroyed(void *value) {
    char line[64];
    snprintf(line, sizeof line, "local destructor ran: %s", (const char *)value);
    say(line);
}

static void *sleep_until_cancelled(void *arg) {
    struct cancellable *c = arg;
    c->self = pthread_self();
    if (c->local != NULL) {
        hilo_local_set(c->local, (void *)hilo_current_name());
    }
    hilo_event_set(c->ready);
    if (c->go != NULL) {
        /* hilo's calls are not cancellation points: a cancel that comes
         * while it waits here acts at the next nanosleep. */
        c->go_rc = hilo_event_wait(c->go, HILO_FOREVER);
    }
    for (;;) {
        sleep_ms(60 * 1000);
    }
    return NULL;
}

static struct cancellable joined_one, released_one;

/* hilo_abandon_exit_wait: a thread that never ends, and a daemon that gives
 * the exit wait up once main is observed asleep in it. */
static void *wait_forever(void *event) {
    hilo_event_wait(event, HILO_FOREVER);
    return NULL;
}

static hilo_event *abandoned; /* set once the abandoner has made its checks */

static void *abandon_when_main_waits(void *arg) {
    (void)arg;
    wait_until_blocked((long)getpid(), "main blocked in the exit wait");
    char line[64];
    snprintf(line, sizeof line, "abandon: %d", hilo_abandon_exit_wait());
    say(line);
    snprintf(line, sizeof line, "again: %d", hilo_abandon_exit_wait());
    say(line);
    double began = now();
    int rc = hilo_shutdown();
    snprintf(line, sizeof line, "shutdown after it: %d, within 10 s: %s", rc,
             now() - began < 10 ? "yes" : "no");
    say(line);
    hilo_event_set(abandoned);
    return NULL;
}

static void *return_arg(void *arg) {
    return arg;
}

/* Registered with atexit before the first hilo call, so it runs after
 * hilo's exit hook: the exit has begun and given up its wait, and no
 * thread starts any more. */
static void after_hilos_exit_hook(void) {
    /* A slow handler registered before hilo's (EXIT_CASES_SLOW_HANDLER_MS):
     * the first exit() spends that long past hilo's last hook. */
    const char *slow = getenv("EXIT_CASES_SLOW_HANDLER_MS");
    if (slow != NULL) {
        sleep_ms(atol(slow));
    }
    if (abandoned == NULL) {
        return;
    }
    /* Bounded: a missing line fails the test, a hang would only stall it. */
    hilo_event_wait(abandoned, 20.0);
    hilo_thread_t t;
    int rc = hilo_create(return_arg, NULL, "Late", &t);
    if (rc == HILO_OK) {
        rc = hilo_start(t);
    }
    char line[128];
    snprintf(line, sizeof line, "start after the exit began: %d %s", rc, hilo_last_error());
    say(line);
}


int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    atexit(after_hilos_exit_hook);
    if (strcmp(which, "abandon_nondaemon") == 0 || strcmp(which, "abandon_executor") == 0) {
        /* Main's exit waits for a non-daemon thread that never ends, or for
         * an executor's worker stuck in its task with more work queued;
         * another thread gives that wait up: the process ends with main's
         * status. */
        abandoned = hilo_event_new();
        hilo_event *never = hilo_event_new();
        if (strcmp(which, "abandon_nondaemon") == 0) {
            spawn(wait_forever, never, "Stuck", 0);
        } else {
            /* Left to the exit, reachable (valgrind). */
            static hilo_executor *ex;
            static hilo_future *f[2];
            ex = hilo_executor_new(1, "Pool");
            if (hilo_executor_submit(ex, wait_forever, never, &f[0]) != HILO_OK ||
                hilo_executor_submit(ex, return_arg, NULL, &f[1]) != HILO_OK) {
                say("submit failed");
                return 98;
            }
        }
        spawn(abandon_when_main_waits, NULL, "Abandoner", 1);
        say("main returns 4");
        return 4;
    }
    if (strcmp(which, "abandon_shutdown") == 0) {
        /* hilo_shutdown() in progress returns once another thread gives
         * the wait up; the exit then waits for nothing either. */
        abandoned = hilo_event_new();
        hilo_event *never = hilo_event_new();
        hilo_thread_t stuck = spawn(wait_forever, never, "Stuck", 0);
        spawn(abandon_when_main_waits, NULL, "Abandoner", 1);
        int rc = hilo_shutdown();
        hilo_event_wait(abandoned, 20.0);
        char line[64];
        snprintf(line, sizeof line, "shutdown: %d, stuck alive: %d", rc, hilo_is_alive(stuck));
        say(line);
        say("main returns 0");
        return 0;
    }
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
        /* EXIT_CASES_MAIN_DELAY_MS: main returns that much later, once the
         * first exit may have run all of hilo's hooks. */
        const char *delay = getenv("EXIT_CASES_MAIN_DELAY_MS");
        if (delay != NULL) {
            sleep_ms(atol(delay));
        }
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
    if (strcmp(which, "cancel") == 0) {
        /* pthread_cancel of a hilo thread: its hilo_local destructors run,
         * a join returns HILO_OK with PTHREAD_CANCELED, it is no longer
         * alive, and a released non-daemon one does not hold the exit. */
        joined_one.ready = hilo_event_new();
        joined_one.local = hilo_local_new(say_destroyed);
        joined_one.go = hilo_event_new();
        released_one.ready = hilo_event_new();
        hilo_thread_t j = spawn(sleep_until_cancelled, &joined_one, "Cancelled", 0);
        hilo_thread_t r = spawn(sleep_until_cancelled, &released_one, "Released", 0);
        hilo_event_wait(joined_one.ready, HILO_FOREVER);
        hilo_event_wait(released_one.ready, HILO_FOREVER);
        wait_until_blocked((long)hilo_native_id(j), "Cancelled blocked in its event wait");
        pthread_cancel(joined_one.self);
        hilo_event_set(joined_one.go);
        void *result = NULL;
        int rc = hilo_join(j, HILO_FOREVER, &result);
        printf("event wait with a cancel pending: %d\n", joined_one.go_rc);
        printf("join: %d, PTHREAD_CANCELED: %s, alive: %d\n", rc,
               result == PTHREAD_CANCELED ? "yes" : "no", hilo_is_alive(j));
        result = NULL;
        rc = hilo_join(j, 0.0, &result);
        printf("joined again: %d, PTHREAD_CANCELED: %s\n", rc,
               result == PTHREAD_CANCELED ? "yes" : "no");
        fflush(stdout);
        hilo_release(j);
        hilo_release(r);
        pthread_cancel(released_one.self);
        say("main returns");
        return 0;
    }
    fprintf(stderr, "unknown case '%s'\n", which);
    return 99;
}
