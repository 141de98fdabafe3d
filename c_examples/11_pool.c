/* The seed tutorial's workers, handed to a thread pool as tasks with
 * futures (Python's concurrent.futures.ThreadPoolExecutor).
 *
 * Python:
 *     def worker(num):
 *         """funcion que realiza el trabajo en el thread"""
 *         return 'Worker: %s (%s)' % (num, threading.current_thread().name)
 *
 *     with ThreadPoolExecutor(max_workers=3, thread_name_prefix='Trabajador') as ex:
 *         futures = [ex.submit(worker, i) for i in range(5)]
 *         futures[0].add_done_callback(first_done)
 *         wait(futures, return_when=FIRST_COMPLETED)
 *         for f in futures:
 *             print(f.result())
 *     print('done callbacks run:', callbacks_run)
 *
 * Three workers run five tasks: a worker that is free takes the next one.
 * Results come back in submit order, whichever worker ran each. */
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "hilo.h"

#define TASKS 5

static void *worker(void *arg) {
    /* The result is ours to free: a "Worker: N (Trabajador_K)" line. */
    static const char format[] = "Worker: %d (%s)";
    const char *name = hilo_current_name();
    size_t size = sizeof format + strlen(name) + 16;
    char *line = malloc(size);
    if (line != NULL) snprintf(line, size, format, (int)(intptr_t)arg, name);
    return line;
}

static int callbacks_run; /* read once the workers have ended */

static void first_done(hilo_future *f, void *arg) {
    (void)arg;
    if (hilo_future_done(f) == 1) callbacks_run++;
}

int main(void) {
    hilo_executor *ex = hilo_executor_new(3, "Trabajador");
    hilo_future *futures[TASKS];
    for (int i = 0; i < TASKS; i++) {
        if (hilo_executor_submit(ex, worker, (void *)(intptr_t)i, &futures[i]) != HILO_OK) {
            fprintf(stderr, "submit %d: %s\n", i, hilo_last_error());
            return 1;
        }
    }
    /* Runs in the worker that finishes it, or here if it is done already. */
    hilo_future_add_done_callback(futures[0], first_done, NULL);
    hilo_wait(futures, TASKS, HILO_FOREVER, HILO_FIRST_COMPLETED);
    for (int i = 0; i < TASKS; i++) {
        void *line = NULL;
        if (hilo_future_result(futures[i], HILO_FOREVER, &line) == HILO_OK && line != NULL) {
            /* Which worker ran it varies from run to run: print up to it. */
            printf("%.*s\n", (int)(strchr(line, '(') - (char *)line - 1), (char *)line);
            if (strncmp(strchr(line, '(') + 1, "Trabajador_", 11) != 0) return 1;
            free(line);
        }
        hilo_future_free(futures[i]);
    }
    /* Python's `with` block: shut down, waiting for the workers. */
    hilo_executor_free(ex);
    printf("done callbacks run: %d\n", callbacks_run);
    return 0;
}
