/* Process-wide semantics that only a fresh process shows exactly: default
 * name numbering, the main thread, dummies, pthread_exit, counts, OS names.
 * Prints one line per check; the Rust harness compares the whole output. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hilo.h"

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s (last error: %s)\n", __FILE__,    \
                    __LINE__, #cond, hilo_last_error());                               \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

static void *return_arg(void *arg) { return arg; }

static void *ends_with_pthread_exit(void *arg) {
    pthread_exit(arg);
    return NULL; /* not reached */
}

static void *print_name(void *arg) {
    (void)arg;
    printf("in thread: %s\n", hilo_current_name());
    return NULL;
}

static void *foreign(void *arg) {
    (void)arg;
    printf("foreign: %s\n", hilo_current_name());
    hilo_thread_t me = hilo_current();
    printf("foreign is daemon: %d, alive: %d\n", hilo_is_daemon(me), hilo_is_alive(me));
    /* A thread hilo did not create makes daemon threads. */
    hilo_thread_t t;
    CHECK(hilo_create(return_arg, NULL, NULL, &t) == HILO_OK);
    printf("created by foreign: daemon %d\n", hilo_is_daemon(t));
    hilo_release(t);
    return (void *)(uintptr_t)me;
}

static void *wait_for_event(void *arg) {
    hilo_event_wait((hilo_event *)arg, HILO_FOREVER);
    return NULL;
}

/* Whether hilo_enumerate lists `t` now. */
static int lists(hilo_thread_t t) {
    hilo_thread_t buf[64];
    size_t n = hilo_enumerate(buf, 64);
    for (size_t i = 0; i < n && i < 64; i++) {
        if (buf[i] == t) return 1;
    }
    return 0;
}

/* Until `t`, released, has ended: it leaves the list. */
static void wait_unlisted(hilo_thread_t t) {
    while (lists(t)) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
}

static void comm_of(int64_t tid, char *buf, size_t size) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%lld/comm", (long long)tid);
    FILE *f = fopen(path, "r");
    CHECK(f != NULL);
    CHECK(fgets(buf, (int)size, f) != NULL);
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
}

int main(void) {
    printf("main: %s\n", hilo_current_name());
    CHECK(hilo_current() == hilo_main_thread());
    CHECK(hilo_native_id(hilo_main_thread()) == (int64_t)getpid());
    printf("active: %zu\n", hilo_active_count());

    /* Default names: one counter from 1, advanced only by default names. */
    hilo_thread_t a, b, named, c;
    CHECK(hilo_create(print_name, NULL, NULL, &a) == HILO_OK);
    CHECK(hilo_create(print_name, NULL, "Named", &named) == HILO_OK);
    CHECK(hilo_create(print_name, NULL, "", &b) == HILO_OK);
    CHECK(hilo_start(a) == HILO_OK && hilo_join(a, HILO_FOREVER, NULL) == HILO_OK);
    CHECK(hilo_start(named) == HILO_OK && hilo_join(named, HILO_FOREVER, NULL) == HILO_OK);
    CHECK(hilo_start(b) == HILO_OK && hilo_join(b, HILO_FOREVER, NULL) == HILO_OK);
    printf("main's threads are daemons: %d\n", hilo_is_daemon(a));

    /* A foreign pthread is a dummy "Dummy-3" and leaves when it ends. */
    pthread_t p;
    void *dummy = NULL;
    CHECK(pthread_create(&p, NULL, foreign, NULL) == 0);
    CHECK(pthread_join(p, &dummy) == 0);
    printf("dummy after its end: %d\n", hilo_is_alive((hilo_thread_t)(uintptr_t)dummy));

    CHECK(hilo_create(print_name, NULL, NULL, &c) == HILO_OK);
    char name[32];
    CHECK(hilo_get_name(c, name, sizeof name) == 8);
    printf("next default: %s\n", name);

    /* pthread_exit(value) is a normal end. */
    hilo_thread_t q;
    void *value = NULL;
    CHECK(hilo_create(ends_with_pthread_exit, (void *)0x5a, "Quitter", &q) == HILO_OK);
    CHECK(hilo_start(q) == HILO_OK);
    CHECK(hilo_join(q, HILO_FOREVER, &value) == HILO_OK);
    printf("pthread_exit: value %p, alive %d\n", value, hilo_is_alive(q));
    value = NULL;
    CHECK(hilo_join(q, 0.0, &value) == HILO_OK);
    printf("joined again: value %p\n", value);

    /* A pthread_exit thread released without a join. */
    hilo_thread_t r;
    CHECK(hilo_create(ends_with_pthread_exit, NULL, NULL, &r) == HILO_OK);
    CHECK(hilo_start(r) == HILO_OK);
    CHECK(hilo_release(r) == HILO_OK);
    wait_unlisted(r);

    /* A released thread that still runs is counted and listed (as Python
     * counts a thread whose object was dropped), under its released
     * handle, which answers HILO_ESRCH. */
    hilo_event *gate = hilo_event_new();
    hilo_thread_t g;
    CHECK(hilo_create(wait_for_event, gate, "Released", &g) == HILO_OK);
    CHECK(hilo_start(g) == HILO_OK);
    CHECK(hilo_release(g) == HILO_OK);
    printf("released and running: active %zu, enumerate %zu, listed %d, alive %d\n",
           hilo_active_count(), hilo_enumerate(NULL, 0), lists(g), hilo_is_alive(g));
    hilo_event_set(gate);
    wait_unlisted(g);
    printf("after its end: active %zu, enumerate %zu\n", hilo_active_count(),
           hilo_enumerate(NULL, 0));
    hilo_event_free(gate);

    /* The OS name: set by the thread itself when it starts. */
    hilo_thread_t n;
    CHECK(hilo_create(print_name, NULL, "Servicio-de-nombres-largos", &n) == HILO_OK);
    CHECK(hilo_start(n) == HILO_OK);
    CHECK(hilo_join(n, HILO_FOREVER, NULL) == HILO_OK);

    printf("active at the end: %zu\n", hilo_active_count());
    hilo_release(a);
    hilo_release(b);
    hilo_release(c);
    hilo_release(named);
    hilo_release(q);
    hilo_release(n);
    /* hilo_last_error: one buffer for the thread's life, overwritten in
     * place, so the text is the latest error's whatever order C evaluates
     * printf's arguments in. Here both orders, spelled out. */
    const char *early = hilo_last_error();
    int rc = hilo_join(n, 0, NULL); /* released: HILO_ESRCH */
    printf("read before the call: %d %s\n", rc, early);
    rc = hilo_set_daemon(hilo_main_thread(), true);
    printf("read after the call: %d %s\n", rc, hilo_last_error());
    printf("same pointer: %s, now: %s\n", early == hilo_last_error() ? "yes" : "no", early);

    char comm[32];
    comm_of(getpid(), comm, sizeof comm);
    printf("main's OS name unchanged: %s\n", strcmp(comm, "MainThread") != 0 ? "yes" : "no");
    return 0;
}
