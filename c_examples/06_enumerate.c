/* hilo_enumerate and hilo_active_count (Python's threading.enumerate() and
 * active_count()): the main thread plus every started, unfinished thread.
 * Unstarted threads are not listed. */
#include <stdio.h>
#include <time.h>

#include "hilo.h"

static void *nap(void *arg) {
    (void)arg;
    struct timespec pause = {0, 500 * 1000 * 1000};
    nanosleep(&pause, NULL);
    return NULL;
}

int main(void) {
    const char *names[] = {"Descarga", "Indice", "Limpieza"};
    hilo_thread_t threads[4];
    for (int i = 0; i < 3; i++) {
        if (hilo_create(nap, NULL, names[i], &threads[i]) != HILO_OK ||
            hilo_start(threads[i]) != HILO_OK) {
            fprintf(stderr, "%s: %s\n", names[i], hilo_last_error());
            return 1;
        }
    }
    hilo_create(nap, NULL, "SinEmpezar", &threads[3]); /* never started */

    hilo_thread_t alive[16];
    size_t n = hilo_enumerate(alive, 16);
    printf("active_count: %zu\n", hilo_active_count());
    for (size_t i = 0; i < n && i < 16; i++) {
        char name[64];
        hilo_get_name(alive[i], name, sizeof name);
        printf("  %-10s daemon=%d alive=%d\n", name, hilo_is_daemon(alive[i]),
               hilo_is_alive(alive[i]));
    }
    for (int i = 0; i < 3; i++) {
        hilo_join(threads[i], HILO_FOREVER, NULL);
        hilo_release(threads[i]);
    }
    hilo_release(threads[3]);
    printf("after join, active_count: %zu\n", hilo_active_count());
    return 0;
}
