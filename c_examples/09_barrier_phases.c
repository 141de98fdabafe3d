/* Threads meeting at a barrier in phases. Each of four workers updates its
 * own cell of a shared row, then waits at the barrier; the barrier's action
 * runs once per phase, in the last thread to arrive, while every worker is
 * still waiting, so it sees a finished row and prints it. The next phase
 * reads the neighbours' cells of the previous one, which is safe because
 * nobody writes before everybody has arrived.
 *
 * Python:
 *     barrier = threading.Barrier(4, action=print_row)
 *     def worker(k):
 *         for phase in range(3):
 *             ...; barrier.wait()
 */
#include <stdio.h>

#include "hilo.h"

#define WORKERS 4
#define PHASES 3

static int row[2][WORKERS]; /* the current row and the next */
static int phase;
static hilo_barrier *barrier;

/* The action: one thread, once per phase, all workers waiting. */
static void *print_row(void *arg) {
    (void)arg;
    printf("phase %d:", phase + 1);
    for (int k = 0; k < WORKERS; k++) {
        printf(" %3d", row[(phase + 1) % 2][k]);
    }
    printf("\n");
    phase++;
    return NULL;
}

static void *worker(void *arg) {
    int k = (int)(long)arg;
    for (int p = 0; p < PHASES; p++) {
        const int *now = row[p % 2];
        int *next = row[(p + 1) % 2];
        /* Each cell becomes itself plus both neighbours (a ring). */
        next[k] = now[k] + now[(k + 1) % WORKERS] + now[(k + WORKERS - 1) % WORKERS];
        int index = hilo_barrier_wait(barrier, HILO_FOREVER);
        if (index < 0) {
            fprintf(stderr, "worker %d: %s\n", k, hilo_last_error());
            return (void *)1;
        }
    }
    return NULL;
}

int main(void) {
    for (int k = 0; k < WORKERS; k++) {
        row[0][k] = k + 1;
    }
    barrier = hilo_barrier_new(WORKERS, print_row, NULL, 5.0);
    printf("parties: %d, start: 1 2 3 4\n", hilo_barrier_parties(barrier));
    hilo_thread_t threads[WORKERS];
    for (long k = 0; k < WORKERS; k++) {
        hilo_create(worker, (void *)k, NULL, &threads[k]);
        hilo_start(threads[k]);
    }
    int failed = 0;
    for (int k = 0; k < WORKERS; k++) {
        void *result;
        hilo_join(threads[k], HILO_FOREVER, &result);
        failed |= result != NULL;
        hilo_release(threads[k]);
    }
    printf("phases: %d, broken: %d\n", phase, hilo_barrier_broken(barrier));
    hilo_barrier_free(barrier);
    return failed;
}
