/* Fork races (issue 10 defects 5 and 7, native ids in the child, and new
 * hunts), one case per run: `fork_races <case>`. Each case forks many
 * children; a child reports through its exit status (0 good); the parent
 * kills a child still running after 5 s and counts it as hung, then prints
 * "<case>: bad B hung H of N" (and details of the first bad child). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "hilo.h"
#include "../c/testing.h"

/* Tallies of the children of one case. */
static int bad, hung, total, first_bad_status = -1;
static pthread_mutex_t tally = PTHREAD_MUTEX_INITIALIZER;

/* Waits up to 5 s for a child, then kills it; counts the outcome. */
static void reap(pid_t pid) {
    int status = 0;
    double deadline = now() + 5.0;
    int stuck = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            break;
        }
        if (now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            stuck = 1;
            break;
        }
        sleep_ms(1);
    }
    pthread_mutex_lock(&tally);
    total++;
    if (stuck) {
        hung++;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        bad++;
        if (first_bad_status < 0) {
            first_bad_status = WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
        }
    }
    pthread_mutex_unlock(&tally);
}

static void report(const char *which) {
    printf("%s: bad %d hung %d of %d", which, bad, hung, total);
    if (first_bad_status >= 0) {
        printf(" (first bad child: %s %d)", first_bad_status >= 1000 ? "signal" : "status",
               first_bad_status >= 1000 ? first_bad_status - 1000 : first_bad_status);
    }
    printf("\n");
    fflush(stdout);
}

static volatile int stop;

/* Three hung children show a defect; waiting 5 s for each of the rest
 * would only make the run slow. */
static int enough_hung(void) {
    pthread_mutex_lock(&tally);
    int n = hung;
    pthread_mutex_unlock(&tally);
    return n >= 3;
}

/* ---- defect 5: fork while other threads are inside sync calls ---- */

static hilo_event *event;
static hilo_sem *sem;
static hilo_barrier *busy_barrier;

static void *event_churn(void *arg) {
    (void)arg;
    while (!stop) {
        hilo_event_set(event);
        hilo_event_clear(event);
    }
    return NULL;
}

static void *sem_churn(void *arg) {
    (void)arg;
    while (!stop) {
        hilo_sem_release(sem, 1);
        hilo_sem_acquire(sem, true, HILO_FOREVER);
    }
    return NULL;
}

static void *barrier_churn(void *arg) {
    (void)arg;
    while (!stop) {
        hilo_barrier_wait(busy_barrier, 0.0005);
        hilo_barrier_reset(busy_barrier);
    }
    return NULL;
}

static hilo_lock *lock;
static hilo_cond *cond;
static hilo_rlock *rlock;

static void *cond_churn(void *arg) {
    (void)arg;
    while (!stop) {
        if (hilo_cond_acquire(cond, true, 0.01) == 1) {
            hilo_cond_notify(cond, 1);
            hilo_cond_wait(cond, 0.0005);
            hilo_cond_release(cond);
        }
    }
    return NULL;
}

static void *rlock_churn(void *arg) {
    (void)arg;
    while (!stop) {
        if (hilo_rlock_acquire(rlock, true, 0.01) == 1) {
            hilo_rlock_acquire(rlock, true, HILO_FOREVER);
            hilo_rlock_release(rlock);
            hilo_rlock_release(rlock);
        }
    }
    return NULL;
}

/* The condition's lock is a hilo_lock, which the child may release if a
 * thread that is not in the child held it. */
static int child_cond(void) {
    double t0 = now();
    if (hilo_lock_locked(lock) == 1 && hilo_lock_release(lock) != HILO_OK) {
        return 2;
    }
    if (hilo_cond_acquire(cond, true, 0.5) != 1) {
        return 3;
    }
    if (hilo_cond_notify_all(cond) != HILO_OK || hilo_cond_wait(cond, 0.05) != 0) {
        return 4;
    }
    if (hilo_cond_release(cond) != HILO_OK || hilo_lock_acquire(lock, true, 0.5) != 1) {
        return 5;
    }
    return now() - t0 < 1.0 ? 0 : 6;
}

/* An rlock held by a thread that is not in the child stays held: a timed
 * acquire must time out in time, and a free one must work. */
static int child_rlock(void) {
    double t0 = now();
    int rc = hilo_rlock_acquire(rlock, true, 0.2);
    double took = now() - t0;
    if (rc == 1) {
        return hilo_rlock_release(rlock) == HILO_OK && took < 0.5 ? 0 : 2;
    }
    return rc == 0 && took >= 0.19 && took < 0.7 ? 0 : 3;
}

static int child_event(void) {
    double t0 = now();
    if (hilo_event_set(event) != HILO_OK || hilo_event_wait(event, 0.0) != 1) {
        return 2;
    }
    if (hilo_event_clear(event) != HILO_OK || hilo_event_wait(event, 0.05) != 0) {
        return 3;
    }
    return now() - t0 < 1.0 ? 0 : 4;
}

static int child_sem(void) {
    double t0 = now();
    if (hilo_sem_release(sem, 1) != HILO_OK) {
        return 2;
    }
    if (hilo_sem_acquire(sem, true, 0.5) != 1) {
        return 3;
    }
    return now() - t0 < 1.0 ? 0 : 4;
}

static int child_barrier(void) {
    hilo_barrier_reset(busy_barrier);
    double t0 = now();
    int rc = hilo_barrier_wait(busy_barrier, 0.5);
    double took = now() - t0;
    if (rc != HILO_EBROKEN) {
        return 2;
    }
    return took >= 0.45 && took < 1.5 ? 0 : 4;
}

static void fork_during_churn(const char *which, hilo_fn churn, int (*child)(void), int forks) {
    hilo_thread_t threads[4];
    for (int i = 0; i < 4; i++) {
        threads[i] = spawn(churn, NULL, "Churn", 1);
    }
    for (int i = 0; i < forks && !enough_hung(); i++) {
        sleep_ms(2);
        pid_t pid = fork();
        if (pid == 0) {
            _exit(child());
        }
        if (pid < 0) {
            perror("fork");
            exit(98);
        }
        reap(pid);
    }
    stop = 1;
    for (int i = 0; i < 4; i++) {
        hilo_join(threads[i], HILO_FOREVER, NULL);
    }
    report(which);
}

/* ---- defect 7: two threads fork at once ---- */

static int arrived;

/* Both threads spin until the other arrives, so that their fork() calls
 * begin within a microsecond or so of each other. */
static void *fork_in_step(void *arg) {
    int rounds = *(int *)arg;
    for (int i = 0; i < rounds && !enough_hung(); i++) {
        __atomic_add_fetch(&arrived, 1, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&arrived, __ATOMIC_SEQ_CST) < 2 * (i + 1)) {
        }
        pid_t pid = fork();
        if (pid == 0) {
            _exit(hilo_current() == hilo_main_thread() ? 0 : 1);
        }
        if (pid > 0) {
            reap(pid);
        }
    }
    return NULL;
}

/* ---- native ids of the parent's other threads, in the child ---- */

static hilo_event *release_sleeper;

static void *wait_for_release(void *arg) {
    (void)arg;
    hilo_event_wait(release_sleeper, HILO_FOREVER);
    return NULL;
}

/* ---- fork from a hilo thread while main joins it ---- */

static void *fork_from_thread(void *arg) {
    hilo_thread_t parent_main = *(hilo_thread_t *)arg;
    for (int i = 0; i < 50; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            if (hilo_current() != hilo_main_thread()) {
                _exit(2);
            }
            double t0 = now();
            if (hilo_join(parent_main, 1.0, NULL) != HILO_OK || hilo_is_alive(parent_main) != 0) {
                _exit(3);
            }
            if (now() - t0 > 0.5) {
                _exit(4);
            }
            hilo_thread_t t = spawn(wait_for_release, NULL, "InChild", 0);
            hilo_event_set(release_sleeper);
            if (hilo_join(t, 2.0, NULL) != HILO_OK) {
                _exit(5);
            }
            hilo_event_clear(release_sleeper);
            exit(0); /* runs hilo's exit wait in the child */
        }
        if (pid > 0) {
            reap(pid);
        }
    }
    return NULL;
}

/* ---- hilo_dump and thread churn during fork ---- */

static int devnull;

static void *dump_loop(void *arg) {
    (void)arg;
    while (!stop) {
        hilo_dump(devnull);
    }
    return NULL;
}

static void *nothing(void *arg) {
    (void)arg;
    return NULL;
}

static void *create_loop(void *arg) {
    (void)arg;
    while (!stop) {
        hilo_thread_t t;
        if (hilo_create(nothing, NULL, "Short", &t) == HILO_OK) {
            hilo_set_daemon(t, 1);
            hilo_start(t);
            hilo_release(t);
        }
    }
    return NULL;
}

static hilo_thread_t renamed_threads[2];

static void *rename_loop(void *arg) {
    (void)arg;
    unsigned n = 0;
    while (!stop) {
        char name[64];
        snprintf(name, sizeof name, "Renamed-%u-with-a-longer-tail", n++);
        hilo_set_name(renamed_threads[n % 2], name);
        char back[64];
        hilo_get_name(renamed_threads[(n + 1) % 2], back, sizeof back);
    }
    return NULL;
}

static int child_after_renames(void) {
    for (int i = 0; i < 2; i++) {
        if (hilo_set_name(renamed_threads[i], "InChild") != HILO_OK) {
            return 2;
        }
        char back[16];
        if (hilo_get_name(renamed_threads[i], back, sizeof back) != 7 || strcmp(back, "InChild") != 0) {
            return 3;
        }
    }
    if (hilo_dump(devnull) != HILO_OK) {
        return 4;
    }
    return 0;
}

static int child_after_dump(void) {
    if (hilo_dump(devnull) != HILO_OK) {
        return 2;
    }
    hilo_thread_t t = spawn(nothing, NULL, "InChild", 0);
    if (hilo_join(t, 2.0, NULL) != HILO_OK) {
        return 3;
    }
    hilo_release(t);
    if (hilo_current() != hilo_main_thread()) {
        return 4;
    }
    return 0;
}

/* ---- fork from a hilo_local destructor ---- */

static int child_in_dtor(void) {
    if (hilo_current() != hilo_main_thread()) {
        return 2;
    }
    if (strcmp(hilo_current_name(), "MainThread") != 0 &&
        strcmp(hilo_current_name(), "DtorForker") != 0) {
        return 3;
    }
    hilo_thread_t t = spawn(nothing, NULL, "InChild", 0);
    if (hilo_join(t, 2.0, NULL) != HILO_OK) {
        return 4;
    }
    return hilo_active_count() == 1 ? 0 : 5;
}

static void fork_in_dtor(void *value) {
    (void)value;
    pid_t pid = fork();
    if (pid == 0) {
        _exit(child_in_dtor());
    }
    if (pid > 0) {
        reap(pid);
    }
}

static hilo_local *forking_local;

static void *set_forking_local(void *arg) {
    (void)arg;
    hilo_local_set(forking_local, (void *)1);
    return NULL;
}

static void *foreign_set_forking_local(void *arg) {
    (void)arg;
    (void)hilo_current(); /* registered as a dummy */
    hilo_local_set(forking_local, (void *)1);
    return NULL;
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    if (strcmp(which, "event") == 0) {
        event = hilo_event_new();
        fork_during_churn(which, event_churn, child_event, 60);
        return 0;
    }
    if (strcmp(which, "sem") == 0) {
        sem = hilo_sem_new(0);
        fork_during_churn(which, sem_churn, child_sem, 60);
        return 0;
    }
    if (strcmp(which, "barrier") == 0) {
        busy_barrier = hilo_barrier_new(5, NULL, NULL, HILO_FOREVER);
        fork_during_churn(which, barrier_churn, child_barrier, 40);
        return 0;
    }
    if (strcmp(which, "cond") == 0) {
        lock = hilo_lock_new();
        cond = hilo_cond_new_with_lock(lock);
        fork_during_churn(which, cond_churn, child_cond, 60);
        return 0;
    }
    if (strcmp(which, "rlock") == 0) {
        rlock = hilo_rlock_new();
        fork_during_churn(which, rlock_churn, child_rlock, 40);
        return 0;
    }
    if (strcmp(which, "fork_in_destructor") == 0) {
        forking_local = hilo_local_new(fork_in_dtor);
        for (int i = 0; i < 20; i++) {
            hilo_thread_t t = spawn(set_forking_local, NULL, "DtorForker", 0);
            hilo_join(t, HILO_FOREVER, NULL);
            hilo_release(t);
            pthread_t p;
            pthread_create(&p, NULL, foreign_set_forking_local, NULL);
            pthread_join(p, NULL);
        }
        report(which);
        return 0;
    }
    if (strcmp(which, "two_forkers") == 0) {
        int rounds = 1000;
        hilo_thread_t a = spawn(fork_in_step, &rounds, "ForkerA", 0);
        hilo_thread_t b = spawn(fork_in_step, &rounds, "ForkerB", 0);
        hilo_join(a, HILO_FOREVER, NULL);
        hilo_join(b, HILO_FOREVER, NULL);
        report(which);
        return 0;
    }
    if (strcmp(which, "native_id") == 0) {
        release_sleeper = hilo_event_new();
        hilo_thread_t t = spawn(wait_for_release, NULL, "Sleeper", 0);
        int64_t id = 0;
        for (int i = 0; i < 100 && id == 0; i++) {
            id = hilo_native_id(t);
            sleep_ms(1);
        }
        for (int i = 0; i < 20; i++) {
            pid_t pid = fork();
            if (pid == 0) {
                _exit(hilo_native_id(t) == id && id > 0 ? 0 : 1);
            }
            reap(pid);
        }
        hilo_event_set(release_sleeper);
        hilo_join(t, HILO_FOREVER, NULL);
        report(which);
        return 0;
    }
    if (strcmp(which, "native_id_at_start") == 0) {
        /* Fork right after hilo_start, before the new thread may have
         * published its TID: the child must still read a TID, not 0. */
        for (int i = 0; i < 300 && !enough_hung(); i++) {
            hilo_thread_t t = spawn(nothing, NULL, "Fresh", 0);
            pid_t pid = fork();
            if (pid == 0) {
                _exit(hilo_native_id(t) > 0 ? 0 : 1);
            }
            reap(pid);
            hilo_join(t, HILO_FOREVER, NULL);
            hilo_release(t);
        }
        report(which);
        return 0;
    }
    if (strcmp(which, "fork_from_thread_while_main_joins") == 0) {
        release_sleeper = hilo_event_new();
        hilo_thread_t me = hilo_current();
        hilo_thread_t f = spawn(fork_from_thread, &me, "Forker", 0);
        hilo_join(f, HILO_FOREVER, NULL);
        report(which);
        return 0;
    }
    if (strcmp(which, "rename_during_fork") == 0) {
        devnull = open("/dev/null", O_WRONLY);
        /* The children dump; a process's first dump reads the symbol tables
           (0.1-0.6 s), which a fork child inherits once the parent has. What
           is tested here is renames racing the fork, not that cost 100
           times over. */
        hilo_dump(devnull);
        release_sleeper = hilo_event_new();
        for (int i = 0; i < 2; i++) {
            renamed_threads[i] = spawn(wait_for_release, NULL, "Renamed", 1);
        }
        hilo_thread_t renamers[2];
        for (int i = 0; i < 2; i++) {
            renamers[i] = spawn(rename_loop, NULL, "Renamer", 1);
        }
        for (int i = 0; i < 100 && !enough_hung(); i++) {
            sleep_ms(1);
            pid_t pid = fork();
            if (pid == 0) {
                _exit(child_after_renames());
            }
            reap(pid);
        }
        stop = 1;
        for (int i = 0; i < 2; i++) {
            hilo_join(renamers[i], HILO_FOREVER, NULL);
        }
        hilo_event_set(release_sleeper);
        report(which);
        return 0;
    }
    if (strcmp(which, "dump_during_fork") == 0) {
        devnull = open("/dev/null", O_WRONLY);
        hilo_thread_t threads[4];
        for (int i = 0; i < 4; i++) {
            threads[i] = spawn(i < 2 ? dump_loop : create_loop, NULL, "Busy", 1);
        }
        for (int i = 0; i < 100; i++) {
            sleep_ms(1);
            pid_t pid = fork();
            if (pid == 0) {
                _exit(child_after_dump());
            }
            reap(pid);
        }
        stop = 1;
        for (int i = 0; i < 4; i++) {
            hilo_join(threads[i], HILO_FOREVER, NULL);
        }
        report(which);
        return 0;
    }
    fprintf(stderr, "unknown case '%s'\n", which);
    return 99;
}
