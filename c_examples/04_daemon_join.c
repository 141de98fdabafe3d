/* The third example again, now waiting for the daemon explicitly with
 * hilo_join, and asking hilo_is_alive (Python's isAlive()) before and after. */
#include <stdio.h>
#include <time.h>

#include "hilo.h"

static void debug(const char *message) {
    printf("[DEBUG] - %-10s : %s\n", hilo_current_name(), message);
    fflush(stdout);
}

static void *daemon_main(void *arg) {
    (void)arg;
    debug("Lanzado");
    struct timespec pause = {2, 0};
    nanosleep(&pause, NULL);
    debug("Deteniendo");
    return NULL;
}

int main(void) {
    hilo_thread_t d;
    if (hilo_create(daemon_main, NULL, "Daemon", &d) != HILO_OK) {
        fprintf(stderr, "create: %s\n", hilo_last_error());
        return 1;
    }
    hilo_set_daemon(d, true);
    hilo_start(d);
    printf("Daemon vivo: %s\n", hilo_is_alive(d) == 1 ? "True" : "False");
    if (hilo_join(d, HILO_FOREVER, NULL) != HILO_OK) {
        fprintf(stderr, "join: %s\n", hilo_last_error());
        return 1;
    }
    printf("Daemon vivo: %s\n", hilo_is_alive(d) == 1 ? "True" : "False");
    hilo_release(d);
    return 0;
}
