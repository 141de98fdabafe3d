/* The seed tutorial's first example: three threads run a worker.
 *
 * Python:
 *     for i in range(3):
 *         t = threading.Thread(target=worker)
 *         threads.append(t)
 *         t.start()
 *
 * As in Python, main does not join: the process waits for its non-daemon
 * threads at exit. */
#include <stdio.h>

#include "hilo.h"

static void *worker(void *arg) {
    (void)arg;
    printf("Estoy trabajando...\n");
    return NULL;
}

int main(void) {
    for (int i = 0; i < 3; i++) {
        hilo_thread_t t;
        if (hilo_create(worker, NULL, NULL, &t) != HILO_OK || hilo_start(t) != HILO_OK) {
            fprintf(stderr, "thread %d: %s\n", i, hilo_last_error());
            return 1;
        }
        hilo_release(t); /* we never join it; the process still waits for it */
    }
    return 0;
}
