/* Joins and thread-local destructors (issue 10 defects 6 and 8), one case
 * per run: `destructors <case>`. tests/edges.rs checks the output. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hilo.h"
#include "../c/testing.h"

static int dtor_done;
static long dtor_sleep_ms;

static void slow_dtor(void *value) {
    (void)value;
    sleep_ms(dtor_sleep_ms);
    __atomic_store_n(&dtor_done, 1, __ATOMIC_SEQ_CST);
}

static hilo_local *slow_local;
static hilo_event *go;

/* Waits for `go`, sets a value whose destructor is slow, returns. */
static void *set_slow_local(void *arg) {
    hilo_event_wait(go, HILO_FOREVER);
    hilo_local_set(slow_local, (void *)1);
    if (arg != NULL) {
        pthread_exit(arg);
    }
    return (void *)0x5a;
}

static hilo_thread_t target;
static int violations;

/* Every successful join must come after the destructors have run. */
static void check_ok(int rc) {
    if (rc == HILO_OK && !__atomic_load_n(&dtor_done, __ATOMIC_SEQ_CST)) {
        __atomic_add_fetch(&violations, 1, __ATOMIC_SEQ_CST);
    }
}

static void *join_forever(void *arg) {
    (void)arg;
    check_ok(hilo_join(target, HILO_FOREVER, NULL));
    return NULL;
}

static void *join_with_timeout(void *arg) {
    (void)arg;
    check_ok(hilo_join(target, 5.0, NULL));
    return NULL;
}

static void *join_polling(void *arg) {
    (void)arg;
    int rc;
    while ((rc = hilo_join(target, 0.01, NULL)) == HILO_ETIMEDOUT) {
    }
    check_ok(rc);
    return NULL;
}

static void *join_zero_polling(void *arg) {
    (void)arg;
    int rc;
    while ((rc = hilo_join(target, 0.0, NULL)) == HILO_ETIMEDOUT) {
    }
    check_ok(rc);
    return NULL;
}

/* ---- defect 8 ---- */

static char dtor_name[64];
static hilo_thread_t dtor_current;

static void name_dtor(void *value) {
    (void)value;
    snprintf(dtor_name, sizeof dtor_name, "%s", hilo_current_name());
    dtor_current = hilo_current();
}

static hilo_local *name_local;

static void *set_name_local(void *arg) {
    (void)arg;
    hilo_local_set(name_local, (void *)1);
    return NULL;
}

/* ---- a hilo thread's identity in other pthread keys' destructors ---- */

/* A key created after hilo's own (its destructor runs after hilo's in each
 * round), whose destructor sets itself again once: it runs in the first
 * two of pthread's destructor rounds, and notes the name and handle there. */
static pthread_key_t name_key;
static int key_round;
static char key_names[2][96];
static hilo_thread_t key_currents[2];
static hilo_event *in_key_dtor, *renamed, *key_dtor_done;
static int rename_in_dtor;

static void name_key_dtor(void *value) {
    (void)value;
    int r = key_round++;
    if (r == 0 && rename_in_dtor) {
        /* The main thread renames this finished thread meanwhile. */
        hilo_event_set(in_key_dtor);
        hilo_event_wait(renamed, HILO_FOREVER);
    }
    snprintf(key_names[r], sizeof key_names[r], "%s", hilo_current_name());
    key_currents[r] = hilo_current();
    if (r == 0) {
        pthread_setspecific(name_key, (void *)1);
    } else {
        hilo_event_set(key_dtor_done);
    }
}

static void *set_name_key(void *arg) {
    (void)arg;
    pthread_setspecific(name_key, (void *)1);
    return NULL;
}

/* One thread named `name` through its key destructors; `new_name`, if not
 * NULL, is given to it while its first key destructor runs. */
static void names_in_key_destructors(const char *name, const char *new_name) {
    key_round = 0;
    rename_in_dtor = new_name != NULL;
    hilo_event_clear(key_dtor_done);
    hilo_thread_t t = spawn(set_name_key, NULL, name, 0);
    if (new_name != NULL) {
        hilo_event_wait(in_key_dtor, HILO_FOREVER);
        hilo_join(t, HILO_FOREVER, NULL);
        hilo_set_name(t, new_name);
        hilo_event_set(renamed);
    }
    hilo_event_wait(key_dtor_done, HILO_FOREVER);
    hilo_join(t, HILO_FOREVER, NULL);
    printf("%s: rounds %d, names '%s' '%s', current is the thread: %s %s\n", name, key_round,
           key_names[0], key_names[1], key_currents[0] == t ? "yes" : "no",
           key_currents[1] == t ? "yes" : "no");
    hilo_release(t);
}

/* ---- a released thread's wait in a key destructor, after its record's
 * slot went to another thread ---- */

static pthread_key_t wait_key;
static int t_in_dtor, t_go, t_done;
static hilo_event *u_event, *t_event;

static void wait_key_dtor(void *value) {
    (void)value;
    __atomic_store_n(&t_in_dtor, 1, __ATOMIC_SEQ_CST);
    while (!__atomic_load_n(&t_go, __ATOMIC_SEQ_CST)) {
        sleep_ms(1);
    }
    hilo_event_wait(t_event, 0.05); /* blocks, then times out */
    __atomic_store_n(&t_done, 1, __ATOMIC_SEQ_CST);
}

static void *set_wait_key(void *arg) {
    (void)arg;
    pthread_setspecific(wait_key, (void *)1);
    return NULL;
}

static void *wait_for_u_event(void *arg) {
    (void)arg;
    hilo_event_wait(u_event, HILO_FOREVER);
    return NULL;
}

/* Whether hilo_dump shows the thread named `name` waiting. */
static int dump_shows_waiting(const char *name) {
    static char text[1 << 16];
    FILE *f = tmpfile();
    hilo_dump(fileno(f));
    rewind(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\" 0x", name);
    const char *line = strstr(text, pattern);
    const char *next = line ? strchr(line, '\n') : NULL;
    return next != NULL && strncmp(next + 1, "    waiting", 11) == 0;
}

static int zero_currents, dtor_calls;

static void current_in_dtor(void *value) {
    (void)value;
    __atomic_add_fetch(&dtor_calls, 1, __ATOMIC_SEQ_CST);
    if (hilo_current() == 0) {
        __atomic_add_fetch(&zero_currents, 1, __ATOMIC_SEQ_CST);
    }
    (void)hilo_current_name();
}

static pthread_key_t key;
static hilo_local *current_local;

struct foreign_mode {
    int register_first; /* call hilo_current() in the body first */
    int use_key;        /* a pthread key destructor calls hilo_current() */
    int use_local;      /* a hilo_local destructor calls hilo_current() */
};

static void *foreign_body(void *arg) {
    struct foreign_mode *mode = arg;
    if (mode->register_first) {
        (void)hilo_current();
    }
    if (mode->use_key) {
        pthread_setspecific(key, (void *)1);
    }
    if (mode->use_local) {
        hilo_local_set(current_local, (void *)1);
    }
    return NULL;
}

static void foreign_case(struct foreign_mode mode) {
    pthread_key_create(&key, current_in_dtor);
    current_local = hilo_local_new(current_in_dtor);
    size_t before = hilo_active_count();
    size_t enumerated_before = hilo_enumerate(NULL, 0);
    for (int round = 0; round < 8; round++) {
        pthread_t threads[8];
        for (int i = 0; i < 8; i++) {
            pthread_create(&threads[i], NULL, foreign_body, &mode);
        }
        for (int i = 0; i < 8; i++) {
            pthread_join(threads[i], NULL);
        }
    }
    sleep_ms(50);
    hilo_thread_t listed[64];
    size_t n = hilo_enumerate(listed, 64);
    int dead_listed = 0;
    for (size_t i = 0; i < n && i < 64; i++) {
        if (listed[i] != hilo_main_thread()) {
            dead_listed++;
        }
    }
    printf("destructor calls: %d, zero handles: %d\n", dtor_calls, zero_currents);
    printf("active: before %zu after %zu\n", before, hilo_active_count());
    printf("enumerate: before %zu after %zu, others listed %d\n", enumerated_before, n,
           dead_listed);
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "";
    go = hilo_event_new();
    if (strcmp(which, "timed_join_behind_slow_destructor") == 0) {
        /* J joins T forever (the join that waits for T's destructors); the
         * main thread's 0.5 s join must still return near 0.5 s. */
        dtor_sleep_ms = 2500;
        slow_local = hilo_local_new(slow_dtor);
        target = spawn(set_slow_local, NULL, "T", 0);
        hilo_thread_t j = spawn(join_forever, NULL, "J", 0);
        sleep_ms(100);
        hilo_event_set(go);
        while (hilo_is_alive(target) == 1) {
            sleep_ms(1);
        }
        sleep_ms(100);
        double t0 = now();
        int rc = hilo_join(target, 0.5, NULL);
        double took = now() - t0;
        printf("rc %d, destructor done %d, took < 0.9 s: %s\n", rc, dtor_done,
               took < 0.9 ? "yes" : "no");
        check_ok(rc);
        hilo_join(j, HILO_FOREVER, NULL);
        printf("violations: %d\n", violations);
        return 0;
    }
    if (strcmp(which, "timed_join_of_pthread_exit_thread") == 0) {
        dtor_sleep_ms = 2500;
        slow_local = hilo_local_new(slow_dtor);
        hilo_event_set(go);
        target = spawn(set_slow_local, (void *)0x77, "T", 0);
        while (hilo_is_alive(target) == 1) {
            sleep_ms(1);
        }
        sleep_ms(100);
        double t0 = now();
        int rc = hilo_join(target, 0.2, NULL);
        double took = now() - t0;
        printf("rc %d, destructor done %d, took < 0.6 s: %s\n", rc, dtor_done,
               took < 0.6 ? "yes" : "no");
        check_ok(rc);
        printf("violations: %d\n", violations);
        return 0;
    }
    if (strcmp(which, "ok_joins_follow_destructors") == 0) {
        dtor_sleep_ms = 200;
        slow_local = hilo_local_new(slow_dtor);
        /* Rounds 0-3: two joins without a timeout among the joiners; rounds
         * 4-7: only joins with a timeout, or polling ones. */
        for (int round = 0; round < 8; round++) {
            hilo_event_clear(go);
            __atomic_store_n(&dtor_done, 0, __ATOMIC_SEQ_CST);
            target = spawn(set_slow_local, round % 2 ? (void *)0x77 : NULL, "T", 0);
            hilo_fn joins[] = {join_forever, join_forever, join_with_timeout, join_polling,
                               join_zero_polling};
            hilo_thread_t joiners[5];
            for (int i = 0; i < 5; i++) {
                joiners[i] = spawn(round >= 4 && i < 2 ? join_polling : joins[i], NULL, "Joiner", 0);
            }
            sleep_ms(50);
            hilo_event_set(go);
            check_ok(hilo_join(target, 5.0, NULL));
            for (int i = 0; i < 5; i++) {
                hilo_join(joiners[i], HILO_FOREVER, NULL);
                hilo_release(joiners[i]);
            }
            hilo_release(target);
        }
        printf("violations: %d\n", violations);
        return 0;
    }
    if (strcmp(which, "name_in_destructor") == 0) {
        name_local = hilo_local_new(name_dtor);
        hilo_thread_t t = spawn(set_name_local, NULL, "Named-T", 0);
        hilo_join(t, HILO_FOREVER, NULL);
        sleep_ms(100); /* in case the join did not wait for the destructor */
        printf("name in destructor: %s\n", dtor_name);
        printf("current in destructor is the thread: %s\n", dtor_current == t ? "yes" : "no");
        return 0;
    }
    if (strcmp(which, "names_in_key_destructors") == 0) {
        (void)hilo_current(); /* hilo's key first, so name_key runs after it */
        pthread_key_create(&name_key, name_key_dtor);
        in_key_dtor = hilo_event_new();
        renamed = hilo_event_new();
        key_dtor_done = hilo_event_new();
        /* A short name is a copy in the thread-local (no teardown key); a
         * long one, from the start or given in a destructor, a reference
         * that hilo's teardown key drops. */
        names_in_key_destructors("Keyed-T", NULL);
        names_in_key_destructors("Keyed-thread-with-a-name-longer-than-31-bytes", NULL);
        names_in_key_destructors("Keyed-R", "Renamed-in-a-key-destructor-to-a-long-name");
        return 0;
    }
    if (strcmp(which, "wait_after_slot_reused") == 0) {
        (void)hilo_current();
        pthread_key_create(&wait_key, wait_key_dtor);
        u_event = hilo_event_new();
        t_event = hilo_event_new();
        /* T is released: its record is freed when it ends (or now), before
         * its key destructor goes on. U takes the freed slot. */
        hilo_thread_t t = spawn(set_wait_key, NULL, "T", 0);
        hilo_release(t);
        while (!__atomic_load_n(&t_in_dtor, __ATOMIC_SEQ_CST)) {
            sleep_ms(1);
        }
        hilo_thread_t u = spawn(wait_for_u_event, NULL, "U", 0);
        while (!dump_shows_waiting("U")) {
            sleep_ms(1);
        }
        /* T's wait in its destructor must not be recorded in U's record:
         * its end would erase U's wait from the dumps. */
        __atomic_store_n(&t_go, 1, __ATOMIC_SEQ_CST);
        while (!__atomic_load_n(&t_done, __ATOMIC_SEQ_CST)) {
            sleep_ms(1);
        }
        int reused = (t & 0xffffff) == (u & 0xffffff);
        printf("slot reused: %s, U shown waiting after T's wait: %s\n", reused ? "yes" : "no",
               dump_shows_waiting("U") ? "yes" : "no");
        hilo_event_set(u_event);
        hilo_join(u, HILO_FOREVER, NULL);
        hilo_release(u);
        return 0;
    }
    if (strcmp(which, "foreign_key_registered") == 0) {
        foreign_case((struct foreign_mode){1, 1, 0});
        return 0;
    }
    if (strcmp(which, "foreign_key_unregistered") == 0) {
        foreign_case((struct foreign_mode){0, 1, 0});
        return 0;
    }
    if (strcmp(which, "foreign_local_registered") == 0) {
        foreign_case((struct foreign_mode){1, 0, 1});
        return 0;
    }
    if (strcmp(which, "foreign_local_unregistered") == 0) {
        foreign_case((struct foreign_mode){0, 0, 1});
        return 0;
    }
    fprintf(stderr, "unknown case '%s'\n", which);
    return 99;
}
