/* Unloading libhilo.so with threads still running (issue 10 defect 1):
 * `unload <path to libhilo.so> <case>`. Not linked with hilo: it dlopens
 * the library, starts threads through it and dlcloses it. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hilo.h"

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) != 0) {
    }
}

/* One write per line, so that lines of different threads do not mix. */
static void say(const char *text) {
    char line[256];
    int n = snprintf(line, sizeof line, "%s\n", text);
    if (n < 0 || (size_t)n >= sizeof line || write(1, line, (size_t)n) != n) {
        _exit(97);
    }
}

static hilo_local *(*local_new)(void (*)(void *));
static int (*local_set)(hilo_local *, void *);
static hilo_local *local;

/* A destructor that is still running when the exit wait (which ends when
 * the targets have returned) lets dlclose go on. */
static void slow_dtor(void *value) {
    (void)value;
    sleep_ms(100);
}

static void *worker(void *arg) {
    if (local != NULL) {
        local_set(local, arg);
    }
    long ms = (long)(size_t)arg;
    if (ms < 0) {
        sleep_ms(-ms); /* quietly */
        return NULL;
    }
    sleep_ms(ms);
    say("worker done");
    return NULL;
}

static int (*create)(hilo_fn, void *, const char *, hilo_thread_t *);
static int (*set_daemon)(hilo_thread_t, bool);
static int (*start)(hilo_thread_t);
static int (*release)(hilo_thread_t);

static void *need(void *lib, const char *name) {
    void *sym = dlsym(lib, name);
    if (sym == NULL) {
        fprintf(stderr, "dlsym %s: %s\n", name, dlerror());
        _exit(92);
    }
    return sym;
}

static void spawn(long ms, int daemon) {
    hilo_thread_t t;
    if (create(worker, (void *)(size_t)ms, NULL, &t) != HILO_OK || set_daemon(t, daemon) != HILO_OK ||
        start(t) != HILO_OK || release(t) != HILO_OK) {
        fprintf(stderr, "could not start a thread\n");
        _exit(93);
    }
}

static void *load(const char *path) {
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        _exit(98);
    }
    /* Object-to-function pointer conversion through memcpy (ISO C). */
    void *sym = need(lib, "hilo_create");
    memcpy(&create, &sym, sizeof sym);
    sym = need(lib, "hilo_set_daemon");
    memcpy(&set_daemon, &sym, sizeof sym);
    sym = need(lib, "hilo_start");
    memcpy(&start, &sym, sizeof sym);
    sym = need(lib, "hilo_release");
    memcpy(&release, &sym, sizeof sym);
    sym = need(lib, "hilo_local_new");
    memcpy(&local_new, &sym, sizeof sym);
    sym = need(lib, "hilo_local_set");
    memcpy(&local_set, &sym, sizeof sym);
    return lib;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: unload <libhilo.so> <case>\n");
        return 99;
    }
    void *lib = load(argv[1]);
    if (strcmp(argv[2], "reload_loop") == 0) {
        /* Load, start 16 non-daemon threads that end at once, unload; 1000
         * times: a thread still in hilo's code after the wait at dlclose
         * meets an unmapped library. */
        for (int round = 0; round < 1000; round++) {
            for (int i = 0; i < 16; i++) {
                spawn(-2, 0);
            }
            dlclose(lib);
            lib = load(argv[1]);
        }
        say("1000 rounds");
        return 0;
    }
    if (strcmp(argv[2], "daemon") == 0) {
        spawn(200, 1);
        dlclose(lib);
        say("dlclosed");
        sleep_ms(600);
        say("survived");
        return 0;
    }
    if (strcmp(argv[2], "nondaemons") == 0) {
        local = local_new(slow_dtor);
        for (int i = 0; i < 8; i++) {
            spawn(200, 0);
        }
        dlclose(lib);
        say("dlclosed");
        return 0;
    }
    if (strcmp(argv[2], "nondaemons_ending") == 0) {
        /* Threads that are ending while dlclose runs. */
        for (int i = 0; i < 8; i++) {
            spawn(i % 3, 0);
        }
        dlclose(lib);
        say("dlclosed");
        return 0;
    }
    fprintf(stderr, "unknown case '%s'\n", argv[2]);
    return 99;
}
