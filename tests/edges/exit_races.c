/* Exit races (issue 10 defects 2, 3, 4, 9, 12 and new hunts), one case per
 * run: `exit_races <case>`. tests/edges.rs checks the status and output.
 * Output goes through write(2) so that nothing sits in a stdio buffer when
 * a thread calls exit(). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hilo.h"
#include "../c/testing.h"

/* ---- defect 2: exit() from a thread while the exit wait is under way ---- */

static void *exit3_after_100ms(void *arg) {
    (void)arg;
    sleep_ms(100);
    exit(3);
}

static void *w2_slow(void *arg) {
    (void)arg;
    sleep_ms(400);
    say("W2 done");
    return NULL;
}

static volatile int main_returning;

static void *exit3_when_main_returns(void *arg) {
    (void)arg;
    while (!__atomic_load_n(&main_returning, __ATOMIC_ACQUIRE)) {
    }
    exit(3);
}

static void *w2_quick(void *arg) {
    (void)arg;
    sleep_ms(150);
    say("W2 done");
    return NULL;
}

/* ---- defect 3: exit() while a non-daemon thread joins the exiter ---- */

static hilo_thread_t exiter;

static void *exit3_after_200ms(void *arg) {
    (void)arg;
    sleep_ms(200);
    exit(3);
}

static void *join_exiter_forever(void *arg) {
    (void)arg;
    hilo_join(exiter, HILO_FOREVER, NULL);
    say("joined the exiter");
    return NULL;
}

static void *join_exiter_polling(void *arg) {
    (void)arg;
    while (hilo_join(exiter, 0.05, NULL) == HILO_ETIMEDOUT) {
    }
    say("joined the exiter");
    return NULL;
}

/* ---- defect 4: concurrent shutdowns ---- */

static hilo_barrier *together;

static void *shutdown_now(void *arg) {
    (void)arg;
    hilo_barrier_wait(together, 5.0);
    int rc = hilo_shutdown();
    char line[64];
    snprintf(line, sizeof line, "shutdown: %d", rc);
    say(line);
    return NULL;
}

static void *exit4_together(void *arg) {
    (void)arg;
    hilo_barrier_wait(together, 5.0);
    sleep_ms(20);
    exit(4);
}

/* ---- defect 9: main ends with pthread_exit while a thread joins it ---- */

static void *join_main(void *arg) {
    (void)arg;
    int rc = hilo_join(hilo_main_thread(), HILO_FOREVER, NULL);
    char line[64];
    snprintf(line, sizeof line, "joined main: %d", rc);
    say(line);
    return NULL;
}

/* ---- defect 12: an atexit handler that runs after hilo's exit wait ---- */

static void *never_runs(void *arg) {
    (void)arg;
    say("late thread ran");
    return NULL;
}

static void late_atexit(void) {
    hilo_thread_t t;
    int rc = hilo_create(never_runs, NULL, "Late", &t);
    char line[200];
    if (rc != HILO_OK) {
        snprintf(line, sizeof line, "create: %d", rc);
        say(line);
        return;
    }
    rc = hilo_start(t);
    snprintf(line, sizeof line, "start: %d %s", rc, rc == HILO_OK ? "" : hilo_last_error());
    say(line);
    if (rc == HILO_OK) {
        hilo_join(t, 2.0, NULL);
    }
}

/* ---- new hunts ---- */

static void *timer_exit(void *arg) {
    (void)arg;
    exit(6);
}

static int began, finished;

static void *short_work(void *arg) {
    (void)arg;
    __atomic_add_fetch(&began, 1, __ATOMIC_SEQ_CST);
    sleep_ms(1);
    __atomic_add_fetch(&finished, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

/* Registered before hilo's hook, so it runs after the exit wait: every
 * non-daemon thread that began must have finished by then. */
static void count_at_exit(void) {
    char line[80];
    snprintf(line, sizeof line, "began == finished: %s",
             __atomic_load_n(&began, __ATOMIC_SEQ_CST) ==
                     __atomic_load_n(&finished, __ATOMIC_SEQ_CST)
                 ? "yes"
                 : "no");
    say(line);
}

static void *starter_loop(void *arg) {
    (void)arg;
    for (int i = 0; i < 300; i++) {
        hilo_thread_t t;
        if (hilo_create(short_work, NULL, NULL, &t) != HILO_OK) {
            continue;
        }
        hilo_set_daemon(t, 0);
        hilo_start(t); /* may fail once exit has begun */
        hilo_release(t);
    }
    return NULL;
}

static void *exit7_soon(void *arg) {
    (void)arg;
    sleep_ms(30);
    exit(7);
}

static void *late_worker(void *arg) {
    (void)arg;
    sleep_ms(200);
    say("late worker done");
    return NULL;
}

/* Registered after hilo's hook, so it runs before the exit wait: the
 * non-daemon thread it starts is waited for. */
static void start_before_wait(void) {
    hilo_thread_t t;
    int rc = hilo_create(late_worker, NULL, "LateWorker", &t);
    if (rc == HILO_OK) {
        rc = hilo_start(t);
    }
    char line[64];
    snprintf(line, sizeof line, "early atexit start: %d", rc);
    say(line);
}

static void shutdown_after_wait(void) {
    char line[64];
    snprintf(line, sizeof line, "shutdown after the exit wait: %d", hilo_shutdown());
    say(line);
}

static void *join_main_then_say(void *arg) {
    (void)arg;
    int rc = hilo_join(hilo_main_thread(), HILO_FOREVER, NULL);
    char line[64];
    snprintf(line, sizeof line, "joined main: %d", rc);
    say(line);
    return NULL;
}

static hilo_thread_t parent_main;

static void *fork_during_exit_wait(void *arg) {
    (void)arg;
    sleep_ms(100); /* main has returned: the exit wait is under way */
    int bad = 0;
    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            hilo_thread_t t;
            if (hilo_create(late_worker, NULL, "InChild", &t) != HILO_OK || hilo_start(t) != HILO_OK) {
                _exit(2);
            }
            if (hilo_join(t, 2.0, NULL) != HILO_OK) {
                _exit(3);
            }
            if (hilo_join(parent_main, 1.0, NULL) != HILO_OK) {
                _exit(4);
            }
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            bad++;
        }
    }
    char line[64];
    snprintf(line, sizeof line, "bad children: %d", bad);
    say(line);
    return NULL;
}

static void start_from_dtor(void *value) {
    (void)value;
    sleep_ms(50);
    hilo_thread_t t;
    int rc = hilo_create(late_worker, NULL, "FromDtor", &t);
    if (rc == HILO_OK) {
        rc = hilo_start(t);
    }
    char line[64];
    snprintf(line, sizeof line, "destructor start: %d", rc);
    say(line);
}

static hilo_local *dtor_local;

static void *set_dtor_local(void *arg) {
    (void)arg;
    hilo_local_set(dtor_local, (void *)1);
    return NULL;
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    if (strcmp(which, "exit_during_exit_wait") == 0) {
        /* main returns; hilo waits for W1 and W2; W1 calls exit(3): the
         * process must still wait for W2. */
        spawn(exit3_after_100ms, NULL, "W1", 0);
        spawn(w2_slow, NULL, "W2", 0);
        say("main returns");
        return 0;
    }
    if (strcmp(which, "exit_as_main_returns") == 0) {
        spawn(exit3_when_main_returns, NULL, "W1", 0);
        spawn(w2_quick, NULL, "W2", 0);
        __atomic_store_n(&main_returning, 1, __ATOMIC_RELEASE);
        return 0;
    }
    if (strcmp(which, "exit_while_joined_forever") == 0 ||
        strcmp(which, "exit_while_joined_polling") == 0) {
        exiter = spawn(exit3_after_200ms, NULL, "X", 0);
        int polling = strcmp(which, "exit_while_joined_polling") == 0;
        hilo_thread_t y =
            spawn(polling ? join_exiter_polling : join_exiter_forever, NULL, "Y", 0);
        hilo_join(y, HILO_FOREVER, NULL);
        say("main returns");
        return 0;
    }
    if (strcmp(which, "two_shutdowns") == 0) {
        together = hilo_barrier_new(2, NULL, NULL, HILO_FOREVER);
        hilo_thread_t a = spawn(shutdown_now, NULL, "A", 0);
        hilo_thread_t b = spawn(shutdown_now, NULL, "B", 0);
        hilo_join(a, HILO_FOREVER, NULL);
        hilo_join(b, HILO_FOREVER, NULL);
        say("main returns");
        return 0;
    }
    if (strcmp(which, "shutdown_and_exit") == 0) {
        together = hilo_barrier_new(2, NULL, NULL, HILO_FOREVER);
        spawn(shutdown_now, NULL, "A", 0);
        spawn(exit4_together, NULL, "B", 0);
        sleep_ms(60 * 1000);
        return 0;
    }
    if (strcmp(which, "pthread_exit_main") == 0) {
        spawn(join_main, NULL, "Joiner", 0);
        sleep_ms(100);
        say("main pthread_exits");
        pthread_exit(NULL);
    }
    if (strcmp(which, "atexit_before_hilo") == 0) {
        atexit(late_atexit); /* before any hilo call: runs after hilo's hook */
        hilo_release(spawn(short_work, NULL, "Work", 0));
        say("main returns");
        return 0;
    }
    if (strcmp(which, "exit_from_timer") == 0) {
        hilo_thread_t w = spawn(w2_slow, NULL, "W2", 0);
        hilo_thread_t t;
        if (hilo_timer_create(0.05, timer_exit, NULL, &t) != HILO_OK || hilo_start(t) != HILO_OK) {
            return 92;
        }
        hilo_join(w, HILO_FOREVER, NULL);
        sleep_ms(60 * 1000);
        return 0;
    }
    if (strcmp(which, "exit_racing_starts") == 0) {
        atexit(count_at_exit);
        for (int i = 0; i < 4; i++) {
            spawn(starter_loop, NULL, "Starter", 1);
        }
        spawn(exit7_soon, NULL, "Exiter", 0);
        sleep_ms(60 * 1000);
        return 0;
    }
    if (strcmp(which, "main_returns_racing_starts") == 0) {
        atexit(count_at_exit);
        for (int i = 0; i < 4; i++) {
            spawn(starter_loop, NULL, "Starter", 1);
        }
        sleep_ms(30);
        return 0;
    }
    if (strcmp(which, "atexit_after_hilo_starts_thread") == 0) {
        (void)hilo_current();
        atexit(start_before_wait);
        say("main returns");
        return 0;
    }
    if (strcmp(which, "shutdown_in_late_atexit") == 0) {
        atexit(shutdown_after_wait);
        hilo_release(spawn(w2_quick, NULL, "W2", 0));
        say("main returns");
        return 0;
    }
    if (strcmp(which, "join_main_during_shutdown") == 0) {
        spawn(join_main_then_say, NULL, "Joiner", 0);
        sleep_ms(50);
        char line[64];
        snprintf(line, sizeof line, "shutdown: %d", hilo_shutdown());
        say(line);
        return 0;
    }
    if (strcmp(which, "start_from_destructor_at_exit") == 0) {
        /* A non-daemon thread's hilo_local destructor starts a non-daemon
         * thread while the exit wait runs: it is started by a thread the
         * wait waits for, so it is waited for too. */
        dtor_local = hilo_local_new(start_from_dtor);
        spawn(set_dtor_local, NULL, "Worker", 0);
        say("main returns");
        return 0;
    }
    if (strcmp(which, "fork_during_exit_wait") == 0) {
        parent_main = hilo_main_thread();
        spawn(fork_during_exit_wait, NULL, "Forker", 0);
        say("main returns");
        return 0;
    }
    fprintf(stderr, "unknown case '%s'\n", which);
    return 99;
}
