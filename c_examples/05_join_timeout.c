/* Join with a timeout: a join that gives up returns HILO_ETIMEDOUT and can be
 * tried again; the thread's return value comes with the join that succeeds. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "hilo.h"

static void *slow_square(void *arg) {
    struct timespec pause = {0, 600 * 1000 * 1000};
    nanosleep(&pause, NULL);
    intptr_t n = (intptr_t)arg;
    return (void *)(n * n);
}

int main(void) {
    hilo_thread_t t;
    if (hilo_create(slow_square, (void *)(intptr_t)12, "Slow", &t) != HILO_OK) {
        fprintf(stderr, "create: %s\n", hilo_last_error());
        return 1;
    }
    hilo_start(t);
    void *result = NULL;
    int tries = 0;
    int rc;
    while ((rc = hilo_join(t, 0.1, &result)) == HILO_ETIMEDOUT) {
        tries++;
    }
    if (rc != HILO_OK) {
        fprintf(stderr, "join: %s\n", hilo_last_error());
        return 1;
    }
    printf("timed out %s before it finished\n", tries > 0 ? "at least once" : "never");
    printf("Slow returned %ld\n", (long)(intptr_t)result);
    hilo_release(t);
    return 0;
}
