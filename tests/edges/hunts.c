/* Hunts for new defects, one case per run: `hunts <case>`. Each case
 * prints what it found; tests/edges.rs checks it. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hilo.h"
#include "../c/testing.h"

static void sleep_us(long us) {
    struct timespec t = {us / 1000000L, (us % 1000000L) * 1000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

static volatile int stop;

/* ---- pthread_cancel of a hilo thread ---- */

static pthread_t cancel_me;
static hilo_event *ready;

static void *sleep_until_cancelled(void *arg) {
    (void)arg;
    cancel_me = pthread_self();
    hilo_event_set(ready);
    for (;;) {
        struct timespec t = {10, 0};
        nanosleep(&t, NULL); /* a cancellation point */
    }
    return NULL;
}

/* ---- small stacks ---- */

static hilo_thread_t partner_a, partner_b;
static hilo_barrier *both;
static int small_stack_failures;
static int devnull;

static void fail(const char *what) {
    printf("small stack: %s failed\n", what);
    __atomic_add_fetch(&small_stack_failures, 1, __ATOMIC_SEQ_CST);
}

static void *nothing(void *arg) {
    return arg;
}

static void *join_partner(void *arg) {
    int am_a = arg != NULL;
    hilo_barrier_wait(both, HILO_FOREVER);
    if (am_a) {
        /* B joins A with a timeout meanwhile: one of them gets EDEADLK. */
        int rc = hilo_join(partner_b, 2.0, NULL);
        if (rc != HILO_OK && rc != HILO_EDEADLK) {
            fail("join A->B");
        }
        (void)hilo_last_error();
        return NULL;
    }
    int rc = hilo_join(partner_a, 2.0, NULL);
    if (rc != HILO_OK && rc != HILO_EDEADLK) {
        fail("join B->A");
    }
    (void)hilo_last_error();
    return NULL;
}

static void local_dtor(void *value) {
    (void)value;
    (void)hilo_current_name();
}

static hilo_local *small_stack_local;

static void *small_stack_body(void *arg) {
    (void)arg;
    if (strcmp(hilo_current_name(), "Small-stack-thread-with-a-long-name") != 0) {
        fail("current name");
    }
    if (hilo_join(hilo_current(), 1.0, NULL) != HILO_EDEADLK || hilo_last_error()[0] == '\0') {
        fail("self join");
    }
    if (hilo_release(hilo_main_thread()) != HILO_ESTATE) {
        fail("release main");
    }
    if (hilo_dump(devnull) != HILO_OK) {
        fail("dump");
    }
    /* Its destructor runs on this small stack as the thread ends; the
     * main thread frees the key after the join. */
    small_stack_local = hilo_local_new(local_dtor);
    hilo_local_set(small_stack_local, (void *)1);
    hilo_thread_t t = spawn(nothing, (void *)7, "Nested", 0);
    void *r = NULL;
    if (hilo_join(t, HILO_FOREVER, &r) != HILO_OK || r != (void *)7) {
        fail("nested join");
    }
    hilo_release(t);
    hilo_timer_cancel(hilo_current());
    (void)hilo_last_error();
    return NULL;
}

/* ---- hilo_local freed while a thread holds a value; key reuse ---- */

static hilo_local *first_local, *second_local;
static int first_dtor_calls, second_dtor_calls;
static void *seen_in_second = (void *)0xbad;
static hilo_event *value_set, *freed;

static void first_dtor(void *value) {
    (void)value;
    __atomic_add_fetch(&first_dtor_calls, 1, __ATOMIC_SEQ_CST);
}

static void second_dtor(void *value) {
    (void)value;
    __atomic_add_fetch(&second_dtor_calls, 1, __ATOMIC_SEQ_CST);
}

static void *hold_value(void *arg) {
    (void)arg;
    hilo_local_set(first_local, (void *)0x11);
    hilo_event_set(value_set);
    hilo_event_wait(freed, HILO_FOREVER);
    seen_in_second = hilo_local_get(second_local);
    return NULL;
}

/* ---- release and join racing the end of a thread ---- */

static void *maybe_sleep(void *arg) {
    if (arg != NULL) {
        sleep_us((long)(size_t)arg);
    }
    return (void *)0x1;
}

static hilo_thread_t joined;
static int bad_join_results;

static void *join_joined(void *arg) {
    (void)arg;
    void *r = NULL;
    int rc = hilo_join(joined, HILO_FOREVER, &r);
    if (!(rc == HILO_OK && r == (void *)0x1) && rc != HILO_ESRCH) {
        __atomic_add_fetch(&bad_join_results, 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

/* ---- timers cancelled as they fire ---- */

static int fired;

static void *fire(void *arg) {
    (void)arg;
    __atomic_add_fetch(&fired, 1, __ATOMIC_SEQ_CST);
    return (void *)0x2;
}

/* ---- enumerate while records come and go ---- */

static void *ask_name(void *arg) {
    (void)arg;
    (void)hilo_current_name();
    return NULL;
}

static void *foreign_churn(void *arg) {
    (void)arg;
    while (!stop) {
        pthread_t p;
        if (pthread_create(&p, NULL, ask_name, NULL) == 0) {
            pthread_join(p, NULL);
        }
    }
    return NULL;
}

static void *hilo_churn(void *arg) {
    (void)arg;
    while (!stop) {
        hilo_thread_t t;
        if (hilo_create(nothing, NULL, "Churn", &t) == HILO_OK) {
            hilo_start(t);
            hilo_release(t);
        }
    }
    return NULL;
}

/* ---- start and release racing on one handle ---- */

static hilo_thread_t contested;
static int arrivals;
static int start_ok, release_ok;

static void spin_together(int round) {
    __atomic_add_fetch(&arrivals, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&arrivals, __ATOMIC_SEQ_CST) < 2 * (round + 1)) {
        sched_yield();
    }
}

static void *contend(void *arg) {
    int rounds = *(int *)arg;
    for (int i = 0; i < rounds; i++) {
        spin_together(2 * i);
        if (hilo_start(contested) == HILO_OK) {
            __atomic_add_fetch(&start_ok, 1, __ATOMIC_SEQ_CST);
        }
        spin_together(2 * i + 1);
        if (hilo_release(contested) == HILO_OK) {
            __atomic_add_fetch(&release_ok, 1, __ATOMIC_SEQ_CST);
        }
    }
    return NULL;
}

/* ---- a start the OS refuses, with a joiner waiting ---- */

static hilo_thread_t refused;
static int joiner_rc = 1;

static void *join_refused(void *arg) {
    (void)arg;
    hilo_event_set(ready);
    int rc;
    /* Joins before the start answer HILO_ESTATE; keep trying until the
     * start has been tried, then report what the join says. */
    while ((rc = hilo_join(refused, 2.0, NULL)) == HILO_ESTATE && !stop) {
    }
    joiner_rc = rc;
    return NULL;
}

/* ---- timers: cancel from inside, and an infinite interval ---- */

static hilo_thread_t self_timer;

static void *cancel_self(void *arg) {
    (void)arg;
    return (void *)(size_t)(hilo_timer_cancel(self_timer) == HILO_OK ? 0x3 : 0x4);
}


/* ---- a join of the main thread that closes a cycle ---- */

static hilo_thread_t main_handle;
static int join_main_rc = 1;

static void *join_main_late(void *arg) {
    double timeout = *(double *)arg;
    sleep_us(50000); /* main is joining this thread by now */
    double t0 = now();
    join_main_rc = hilo_join(main_handle, timeout, NULL);
    if (now() - t0 > 0.3) {
        join_main_rc = 100;
    }
    return NULL;
}

/* ---- the current name stays valid while others rename the thread ---- */

static hilo_event *renamed;
static int name_changed_under_us;

static void *hold_current_name(void *arg) {
    (void)arg;
    for (int round = 0; round < 50; round++) {
        const char *mine = hilo_current_name();
        char copy[128];
        snprintf(copy, sizeof copy, "%s", mine);
        hilo_event_set(ready);
        hilo_event_wait(renamed, HILO_FOREVER);
        hilo_event_clear(renamed);
        if (strcmp(copy, mine) != 0) {
            name_changed_under_us++;
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    ready = hilo_event_new();
    devnull = open("/dev/null", O_WRONLY);
    if (strcmp(which, "cancel") == 0) {
        hilo_thread_t t = spawn(sleep_until_cancelled, NULL, "Cancelled", 0);
        hilo_event_wait(ready, HILO_FOREVER);
        sleep_us(20000);
        pthread_cancel(cancel_me);
        void *result = NULL;
        int rc = hilo_join(t, 5.0, &result);
        printf("join: %d, cancelled result: %s, alive: %d\n", rc,
               result == PTHREAD_CANCELED ? "yes" : "no", hilo_is_alive(t));
        return 0;
    }
    if (strcmp(which, "small_stack") == 0) {
        if (hilo_set_stack_size(32768) != HILO_OK) {
            printf("set_stack_size failed\n");
            return 1;
        }
        hilo_thread_t t = spawn(small_stack_body, NULL, "Small-stack-thread-with-a-long-name", 0);
        hilo_join(t, HILO_FOREVER, NULL);
        hilo_release(t);
        hilo_local_free(small_stack_local);
        both = hilo_barrier_new(2, NULL, NULL, HILO_FOREVER);
        for (int i = 0; i < 20; i++) {
            char name[4096];
            memset(name, 'x', sizeof name - 1);
            name[sizeof name - 1] = '\0';
            hilo_create(join_partner, (void *)1, name, &partner_a);
            hilo_create(join_partner, NULL, name, &partner_b);
            hilo_start(partner_a);
            hilo_start(partner_b);
            hilo_join(partner_a, HILO_FOREVER, NULL);
            hilo_join(partner_b, HILO_FOREVER, NULL);
            hilo_release(partner_a);
            hilo_release(partner_b);
        }
        hilo_barrier_free(both);
        printf("small stack failures: %d\n", small_stack_failures);
        return 0;
    }
    if (strcmp(which, "local_freed_and_key_reused") == 0) {
        value_set = hilo_event_new();
        freed = hilo_event_new();
        first_local = hilo_local_new(first_dtor);
        hilo_thread_t t = spawn(hold_value, NULL, "Holder", 0);
        hilo_event_wait(value_set, HILO_FOREVER);
        hilo_local_free(first_local);
        second_local = hilo_local_new(second_dtor);
        hilo_event_set(freed);
        hilo_join(t, HILO_FOREVER, NULL);
        sleep_us(50000);
        printf("value seen through the new local: %p, first dtor calls %d, second %d\n",
               seen_in_second, first_dtor_calls, second_dtor_calls);
        return 0;
    }
    if (strcmp(which, "release_race") == 0) {
        for (int i = 0; i < 2000; i++) {
            hilo_thread_t t = spawn(maybe_sleep, (void *)(size_t)(i % 4 == 0 ? 0 : i % 50), "R", 0);
            hilo_release(t);
        }
        for (int i = 0; i < 500; i++) {
            joined = spawn(maybe_sleep, (void *)(size_t)(i % 7 == 0 ? 0 : i % 300), "J", 0);
            hilo_thread_t j = spawn(join_joined, NULL, "Joiner", 0);
            sleep_us(i % 200);
            hilo_release(joined);
            hilo_join(j, HILO_FOREVER, NULL);
            hilo_release(j);
        }
        hilo_shutdown();
        sleep_us(20000);
        printf("bad join results %d, active %zu, listed %zu\n", bad_join_results,
               hilo_active_count(), hilo_enumerate(NULL, 0));
        return 0;
    }
    if (strcmp(which, "timer_cancel_race") == 0) {
        int with_result = 0, cancel_errors = 0;
        for (int i = 0; i < 600; i++) {
            hilo_thread_t t;
            hilo_timer_create(0.0005 * (i % 4), fire, NULL, &t);
            hilo_start(t);
            sleep_us(i % 1500);
            if (hilo_timer_cancel(t) != HILO_OK) {
                cancel_errors++;
            }
            void *r = NULL;
            if (hilo_join(t, 5.0, &r) == HILO_OK && r == (void *)0x2) {
                with_result++;
            }
            hilo_release(t);
        }
        printf("fired %d, joins with its result %d, cancel errors %d\n", fired, with_result,
               cancel_errors);
        return 0;
    }
    if (strcmp(which, "enumerate_churn") == 0) {
        pthread_t foreign[3];
        for (int i = 0; i < 3; i++) {
            pthread_create(&foreign[i], NULL, foreign_churn, NULL);
        }
        hilo_thread_t churners[3];
        for (int i = 0; i < 3; i++) {
            churners[i] = spawn(hilo_churn, NULL, "Churner", 1);
        }
        int odd = 0;
        for (int i = 0; i < 3000; i++) {
            hilo_thread_t listed[256];
            size_t n = hilo_enumerate(listed, 256);
            for (size_t k = 0; k < n && k < 256; k++) {
                char name[32];
                int rc = hilo_get_name(listed[k], name, sizeof name);
                int alive = hilo_is_alive(listed[k]);
                int daemon = hilo_is_daemon(listed[k]);
                int64_t id = hilo_native_id(listed[k]);
                if ((rc < 0 && rc != HILO_ESRCH) || (alive < 0 && alive != HILO_ESRCH) ||
                    (daemon < 0 && daemon != HILO_ESRCH) || (id < 0 && id != HILO_ESRCH)) {
                    odd++;
                }
            }
        }
        stop = 1;
        for (int i = 0; i < 3; i++) {
            pthread_join(foreign[i], NULL);
            hilo_join(churners[i], HILO_FOREVER, NULL);
            hilo_release(churners[i]);
        }
        sleep_us(50000);
        printf("odd answers %d, active %zu, listed %zu\n", odd, hilo_active_count(),
               hilo_enumerate(NULL, 0));
        return 0;
    }
    if (strcmp(which, "start_release_race") == 0) {
        /* Each round, two threads start one unstarted handle at the same
         * moment, then both release it: one start and one release win. */
        enum { ROUNDS = 200 };
        int rounds = ROUNDS;
        for (int i = 0; i < rounds; i++) {
            hilo_create(nothing, NULL, "Contested", &contested);
            hilo_set_daemon(contested, 1);
            hilo_thread_t x, y;
            int one = 1;
            arrivals = 0;
            hilo_create(contend, &one, "A", &x);
            hilo_create(contend, &one, "B", &y);
            hilo_start(x);
            hilo_start(y);
            hilo_join(x, HILO_FOREVER, NULL);
            hilo_join(y, HILO_FOREVER, NULL);
            hilo_release(x);
            hilo_release(y);
        }
        sleep_us(50000);
        printf("starts ok %d, releases ok %d of %d, active %zu\n", start_ok, release_ok, rounds,
               hilo_active_count());
        return 0;
    }
    if (strcmp(which, "refused_start_with_joiner") == 0) {
        hilo_create(nothing, (void *)5, "Refused", &refused);
        hilo_thread_t j = spawn(join_refused, NULL, "Joiner", 0);
        hilo_event_wait(ready, HILO_FOREVER);
        /* A stack the address space cannot hold: pthread_create fails. */
        hilo_set_stack_size((size_t)1 << 46);
        int first = hilo_start(refused);
        stop = 1;
        hilo_join(j, HILO_FOREVER, NULL);
        hilo_set_stack_size(0);
        int second = hilo_start(refused);
        void *r = NULL;
        int joined = hilo_join(refused, 5.0, &r);
        printf("first start %d, joiner %d, second start %d, join %d, result %p\n", first,
               joiner_rc, second, joined, r);
        return 0;
    }
    if (strcmp(which, "timer_edges") == 0) {
        hilo_timer_create(0.0, cancel_self, NULL, &self_timer);
        hilo_start(self_timer);
        void *r = NULL;
        int rc = hilo_join(self_timer, 5.0, &r);
        printf("cancel from inside: join %d, result %p\n", rc, r);
        hilo_thread_t forever;
        hilo_timer_create(1.0 / 0.0, fire, NULL, &forever);
        hilo_start(forever);
        sleep_us(50000);
        double t0 = now();
        hilo_timer_cancel(forever);
        rc = hilo_join(forever, 5.0, &r);
        printf("infinite interval cancelled: join %d, result %p, quick: %s\n", rc, r,
               now() - t0 < 0.5 ? "yes" : "no");
        return 0;
    }
    if (strcmp(which, "join_cycle_through_main") == 0) {
        main_handle = hilo_main_thread();
        double timeouts[] = {HILO_FOREVER, 5.0};
        for (int i = 0; i < 2; i++) {
            hilo_thread_t t = spawn(join_main_late, &timeouts[i], "JoinsMain", 0);
            int rc = hilo_join(t, 10.0, NULL);
            printf("main joins T: %d, T joins main (%s): %d\n", rc, i ? "timeout" : "forever",
                   join_main_rc);
            hilo_release(t);
        }
        return 0;
    }
    if (strcmp(which, "current_name_stays_valid") == 0) {
        renamed = hilo_event_new();
        hilo_thread_t t = spawn(hold_current_name, NULL, "Original-name-of-the-thread", 0);
        for (int round = 0; round < 50; round++) {
            hilo_event_wait(ready, HILO_FOREVER);
            hilo_event_clear(ready);
            for (int i = 0; i < 20; i++) {
                char name[100];
                snprintf(name, sizeof name, "Renamed-%d-%d-%080d", round, i, 0);
                hilo_set_name(t, name);
                free(malloc(90));
            }
            hilo_event_set(renamed);
        }
        hilo_join(t, HILO_FOREVER, NULL);
        printf("current name changed under its holder: %d times\n", name_changed_under_us);
        return 0;
    }
    fprintf(stderr, "unknown case '%s'\n", which);
    return 99;
}
