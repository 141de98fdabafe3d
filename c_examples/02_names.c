/* The seed tutorial's second example: named threads, and the name a thread
 * sees for itself (Python's threading.current_thread().name).
 *
 * "Servicio" and "Worker" are named; the third thread gets the default name
 * "Thread-1". The process waits for all three at exit. */
#include <stdio.h>
#include <time.h>

#include "hilo.h"

static void *worker(void *arg) {
    (void)arg;
    printf("%s Lanzado\n", hilo_current_name());
    fflush(stdout);
    struct timespec pause = {1, 0}; /* the tutorial sleeps 5 s */
    nanosleep(&pause, NULL);
    printf("%s Deteniendo\n", hilo_current_name());
    return NULL;
}

static void *servicio(void *arg) {
    (void)arg;
    printf("%s Lanzado\n", hilo_current_name());
    printf("%s Deteniendo\n", hilo_current_name());
    return NULL;
}

int main(void) {
    hilo_thread_t t, w, z;
    if (hilo_create(servicio, NULL, "Servicio", &t) != HILO_OK ||
        hilo_create(worker, NULL, "Worker", &w) != HILO_OK ||
        hilo_create(worker, NULL, NULL, &z) != HILO_OK) {
        fprintf(stderr, "create: %s\n", hilo_last_error());
        return 1;
    }
    hilo_start(w);
    hilo_start(z);
    hilo_start(t);
    return 0;
}
