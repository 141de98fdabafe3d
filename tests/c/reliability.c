/* Fork safety, join cycles through the main thread, the thread dump, and
 * the OS refusing a thread: `reliability <case>`; exits 0 when every check
 * holds, else prints the failed check and exits 1. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hilo.h"
#include "testing.h"

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "[pid %d] %s:%d: check failed: %s (last error: %s)\n",     \
                    (int)getpid(), __FILE__, __LINE__, #cond, hilo_last_error());      \
            /* _exit: the exit wait would hang on the blocked threads. */             \
            fflush(stdout);                                                            \
            _exit(1);                                                                  \
        }                                                                              \
    } while (0)

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_open = 0;

static void open_gate(void) {
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_lock);
}

static void *wait_gate(void *arg) {
    pthread_mutex_lock(&gate_lock);
    while (!gate_open) {
        pthread_cond_wait(&gate_cv, &gate_lock);
    }
    pthread_mutex_unlock(&gate_lock);
    return arg;
}

static void *return_arg(void *arg) { return arg; }

/* What a forked child checks: it is the only thread, it is the main thread,
 * the others are finished, and threads work. */
static void child_checks(const hilo_thread_t *others, int n, const char *my_name) {
    alarm(120); /* a deadlock in the child ends it with SIGALRM */
    CHECK(hilo_active_count() == 1);
    CHECK(hilo_current() == hilo_main_thread());
    CHECK(strcmp(hilo_current_name(), my_name) == 0);
    CHECK(hilo_native_id(hilo_main_thread()) == (int64_t)getpid());
    CHECK(hilo_is_daemon(hilo_current()) == 0);
    for (int i = 0; i < n; i++) {
        CHECK(hilo_is_alive(others[i]) == 0);
        CHECK(hilo_join(others[i], HILO_FOREVER, NULL) == HILO_OK);
    }
    hilo_thread_t buf[8];
    CHECK(hilo_enumerate(buf, 8) == 1 && buf[0] == hilo_main_thread());
    void *result = NULL;
    hilo_thread_t t = spawn(return_arg, (void *)0x77, "InChild", -1);
    CHECK(hilo_join(t, HILO_FOREVER, &result) == HILO_OK && result == (void *)0x77);
    CHECK(hilo_release(t) == HILO_OK);
    for (int i = 0; i < n; i++) {
        CHECK(hilo_release(others[i]) == HILO_OK);
    }
    CHECK(hilo_dump(STDOUT_FILENO) == HILO_OK);
}

static int wait_child(pid_t pid) {
    int status = 0;
    for (int waited_ms = 0;; waited_ms += 5) {
        pid_t got = waitpid(pid, &status, WNOHANG);
        CHECK(got == pid || got == 0);
        if (got == pid) break;
        if (waited_ms >= 60000) {
            fprintf(stderr, "child %d still ran after 60 s: killed\n", (int)pid);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        struct timespec pause = {0, 5000000};
        nanosleep(&pause, NULL);
    }
    if (!WIFEXITED(status)) {
        fprintf(stderr, "child ended by signal %d\n", WTERMSIG(status));
        return -1;
    }
    return WEXITSTATUS(status);
}

/* A thread that holds a lock while it waits at the gate. */
static void *hold_then_wait(void *arg) {
    CHECK(hilo_lock_acquire((hilo_lock *)arg, true, HILO_FOREVER) == 1);
    wait_gate(NULL);
    CHECK(hilo_lock_release((hilo_lock *)arg) == HILO_OK);
    return NULL;
}

/* Sets the event once the child's main thread is blocked waiting on it. */
static int64_t child_main_tid;
static void *set_event_soon(void *arg) {
    wait_until_blocked((long)child_main_tid, "the child's main thread blocked in hilo_event_wait");
    CHECK(hilo_event_set((hilo_event *)arg) == HILO_OK);
    return NULL;
}

static void *take_lock(void *arg) {
    int got = hilo_lock_acquire((hilo_lock *)arg, true, HILO_FOREVER);
    CHECK(hilo_lock_release((hilo_lock *)arg) == HILO_OK);
    return (void *)(intptr_t)got;
}

/* Sync objects in a forked child: one held by a thread that is not in the
 * child stays held (as a pthread mutex does) until the child releases it;
 * new objects wait and wake across the child's threads. */
static void child_sync_checks(hilo_lock *held) {
    CHECK(hilo_lock_locked(held) == 1);
    CHECK(hilo_lock_acquire(held, false, -1) == 0);
    CHECK(hilo_lock_release(held) == HILO_OK);
    CHECK(hilo_lock_acquire(held, false, -1) == 1);

    hilo_event *e = hilo_event_new();
    child_main_tid = hilo_native_id(hilo_current());
    CHECK(child_main_tid > 0);
    hilo_thread_t setter = spawn(set_event_soon, e, "Setter", -1);
    CHECK(hilo_event_wait(e, 60.0) == 1);
    CHECK(hilo_join(setter, HILO_FOREVER, NULL) == HILO_OK);
    hilo_event_free(e);

    hilo_lock *contended = hilo_lock_new();
    CHECK(hilo_lock_acquire(contended, true, HILO_FOREVER) == 1);
    hilo_thread_t taker = spawn(take_lock, contended, "Taker", -1);
    wait_until_blocked((long)hilo_native_id(taker), "Taker blocked in hilo_lock_acquire");
    CHECK(hilo_lock_release(contended) == HILO_OK);
    void *got = NULL;
    CHECK(hilo_join(taker, HILO_FOREVER, &got) == HILO_OK && got == (void *)1);
    hilo_lock_free(contended);
}

static void case_fork_from_main(void) {
    hilo_lock *held = hilo_lock_new();
    hilo_thread_t others[3] = {spawn(wait_gate, NULL, "Blocked-1", -1),
                               spawn(wait_gate, NULL, "Blocked-2", -1),
                               spawn(hold_then_wait, held, "Holder", -1)};
    while (hilo_lock_locked(held) != 1) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    hilo_thread_t old_main = hilo_main_thread();
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        CHECK(hilo_main_thread() == old_main);
        child_checks(others, 3, "MainThread");
        child_sync_checks(held);
        exit(0);
    }
    CHECK(wait_child(pid) == 0);
    /* The parent is unaffected. */
    CHECK(hilo_is_alive(others[0]) == 1 && hilo_is_alive(others[1]) == 1);
    CHECK(hilo_active_count() == 4);
    CHECK(hilo_lock_locked(held) == 1);
    open_gate();
    for (int i = 0; i < 3; i++) {
        CHECK(hilo_join(others[i], HILO_FOREVER, NULL) == HILO_OK);
    }
    CHECK(hilo_lock_locked(held) == 0);
    hilo_lock_free(held);
    printf("fork from main: ok\n");
}

static hilo_thread_t blocked;
static void *forker(void *arg) {
    (void)arg;
    hilo_thread_t old_main = hilo_main_thread();
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The forking thread is the child's main thread, under its own name;
         * the parent's main thread is gone. */
        CHECK(hilo_main_thread() == hilo_current());
        CHECK(hilo_main_thread() != old_main);
        hilo_thread_t others[2] = {old_main, blocked};
        CHECK(hilo_is_alive(old_main) == 0);
        CHECK(hilo_is_alive(blocked) == 0);
        child_checks(others, 2, "Forker");
        exit(0);
    }
    return (void *)(intptr_t)wait_child(pid);
}

static void case_fork_from_thread(void) {
    blocked = spawn(wait_gate, NULL, "Blocked", -1);
    hilo_thread_t f = spawn(forker, NULL, "Forker", -1);
    void *status = NULL;
    CHECK(hilo_join(f, HILO_FOREVER, &status) == HILO_OK);
    CHECK((intptr_t)status == 0);
    CHECK(hilo_is_alive(blocked) == 1);
    CHECK(hilo_current() == hilo_main_thread());
    open_gate();
    CHECK(hilo_join(blocked, HILO_FOREVER, NULL) == HILO_OK);
    printf("fork from thread: ok\n");
}

static volatile int hammering = 1;
static void *hammer(void *arg) {
    (void)arg;
    while (hammering) {
        hilo_thread_t t;
        if (hilo_create(return_arg, NULL, "Hammer", &t) != HILO_OK) continue;
        hilo_set_name(t, "Hammered");
        hilo_start(t);
        hilo_join(t, HILO_FOREVER, NULL);
        hilo_release(t);
    }
    return NULL;
}

/* Two threads fight over one lock, so that some thread is inside a
 * contended acquire or release whenever the main thread forks. */
static hilo_lock *fought_over;
static void *contend(void *arg) {
    (void)arg;
    while (hammering) {
        CHECK(hilo_lock_acquire(fought_over, true, HILO_FOREVER) == 1);
        CHECK(hilo_lock_release(fought_over) == HILO_OK);
    }
    return NULL;
}

static void case_fork_under_load(void) {
    fought_over = hilo_lock_new();
    hilo_thread_t h[4] = {spawn(hammer, NULL, "Hammer-A", -1), spawn(hammer, NULL, "Hammer-B", -1),
                          spawn(contend, NULL, "Contend-A", -1), spawn(contend, NULL, "Contend-B", -1)};
    for (int i = 0; i < 30; i++) {
        fflush(stdout);
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            alarm(120);
            CHECK(hilo_active_count() == 1);
            for (int k = 0; k < 3; k++) {
                hilo_thread_t t = spawn(return_arg, (void *)0x9, NULL, -1);
                void *r = NULL;
                CHECK(hilo_join(t, HILO_FOREVER, &r) == HILO_OK && r == (void *)0x9);
                CHECK(hilo_release(t) == HILO_OK);
            }
            /* Sync objects made in the child wait and wake. */
            hilo_event *e = hilo_event_new();
            child_main_tid = hilo_native_id(hilo_current());
            CHECK(child_main_tid > 0);
            hilo_thread_t setter = spawn(set_event_soon, e, "Setter", -1);
            CHECK(hilo_event_wait(e, 60.0) == 1);
            CHECK(hilo_join(setter, HILO_FOREVER, NULL) == HILO_OK);
            hilo_event_free(e);
            _exit(0);
        }
        CHECK(wait_child(pid) == 0);
    }
    hammering = 0;
    for (int i = 0; i < 4; i++) {
        CHECK(hilo_join(h[i], HILO_FOREVER, NULL) == HILO_OK);
    }
    hilo_lock_free(fought_over);
    printf("30 forks under load: ok\n");
}

static hilo_thread_t joiner_of_main;
static void *join_main(void *arg) {
    (void)arg;
    return (void *)(intptr_t)hilo_join(hilo_main_thread(), HILO_FOREVER, NULL);
}

static void case_main_cycle(void) {
    /* T joins the main thread (until exit begins); main then joins T: the
     * cycle is refused at once, naming both threads. */
    joiner_of_main = spawn(join_main, NULL, "Waiter", -1);
    for (int i = 0; i < 2000; i++) { /* let Waiter block first */
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
        int blocked_on_main = 0;
        char buf[4096];
        FILE *f = tmpfile();
        CHECK(f != NULL);
        CHECK(hilo_dump(fileno(f)) == HILO_OK);
        rewind(f);
        while (fgets(buf, sizeof buf, f)) {
            if (strstr(buf, "Waiter") && strstr(buf, "(MainThread)")) blocked_on_main = 1;
        }
        fclose(f);
        if (blocked_on_main) break;
    }
    CHECK(hilo_join(joiner_of_main, HILO_FOREVER, NULL) == HILO_EDEADLK);
    printf("%s\n", hilo_last_error());
    hilo_release(joiner_of_main); /* it returns when exit begins */
}

static void case_dump(void) {
    hilo_thread_t t = spawn(wait_gate, NULL, "Volcado", -1);
    hilo_thread_t u;
    CHECK(hilo_create(return_arg, NULL, "SinEmpezar", &u) == HILO_OK);
    CHECK(hilo_dump(-1) == HILO_EINVAL);
    CHECK(strcmp(hilo_last_error(), "fd -1 is not an open file descriptor") == 0);
    CHECK(hilo_dump(987) == HILO_EINVAL);
    CHECK(hilo_dump(STDOUT_FILENO) == HILO_OK);
    fflush(stdout);
    open_gate();
    CHECK(hilo_join(t, HILO_FOREVER, NULL) == HILO_OK);
}

static void case_os_refusal(void) {
    /* A stack larger than the address space allows: the kernel refuses. */
    struct rlimit limit = {512UL << 20, 512UL << 20};
    CHECK(setrlimit(RLIMIT_AS, &limit) == 0);
    CHECK(hilo_set_stack_size(1UL << 30) == HILO_OK);
    hilo_thread_t t;
    CHECK(hilo_create(return_arg, (void *)0x33, "Refused", &t) == HILO_OK);
    for (int i = 0; i < 100; i++) {
        CHECK(hilo_start(t) == HILO_EAGAIN);
    }
    printf("%s\n", hilo_last_error());
    CHECK(hilo_is_alive(t) == 0);
    CHECK(hilo_native_id(t) == 0);
    CHECK(hilo_join(t, 0.0, NULL) == HILO_ESTATE);
    CHECK(hilo_set_daemon(t, true) == HILO_OK); /* still unstarted */
    CHECK(hilo_set_stack_size(0) == HILO_OK);
    CHECK(hilo_start(t) == HILO_OK);
    void *r = NULL;
    CHECK(hilo_join(t, HILO_FOREVER, &r) == HILO_OK && r == (void *)0x33);
    CHECK(hilo_release(t) == HILO_OK);
    /* A refused thread that is then released is discarded. */
    CHECK(hilo_set_stack_size(1UL << 30) == HILO_OK);
    CHECK(hilo_create(return_arg, NULL, "Refused-2", &t) == HILO_OK);
    CHECK(hilo_start(t) == HILO_EAGAIN);
    CHECK(hilo_release(t) == HILO_OK);
    CHECK(hilo_is_alive(t) == HILO_ESRCH);
    printf("active: %zu\n", hilo_active_count());
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    if (strcmp(which, "fork_from_main") == 0) case_fork_from_main();
    else if (strcmp(which, "fork_from_thread") == 0) case_fork_from_thread();
    else if (strcmp(which, "fork_under_load") == 0) case_fork_under_load();
    else if (strcmp(which, "main_cycle") == 0) case_main_cycle();
    else if (strcmp(which, "dump") == 0) case_dump();
    else if (strcmp(which, "os_refusal") == 0) case_os_refusal();
    else {
        fprintf(stderr, "unknown case '%s'\n", which);
        return 99;
    }
    return 0;
}
