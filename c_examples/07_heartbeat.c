/* A heartbeat daemon thread that a hilo_event stops cleanly: the seed's use
 * case for daemon threads, without leaving the daemon to die mid-line.
 *
 * The heartbeat sleeps in hilo_event_wait(stop, interval), so setting the
 * event wakes it at once instead of after a whole interval. A semaphore
 * tells main about each beat; main stops the heartbeat after three.
 *
 * Python:
 *     stop = threading.Event()
 *     def heartbeat():
 *         while not stop.wait(0.1):
 *             log('beat')
 *     t = threading.Thread(target=heartbeat, name='Heartbeat', daemon=True)
 *     t.start(); ...; stop.set(); t.join()
 */
#include <stdio.h>

#include "hilo.h"

#define INTERVAL 0.1 /* seconds between beats */
#define BEATS 3      /* beats before main stops it */

struct heartbeat {
    hilo_event *stop;
    hilo_sem *beats;
};

static void log_line(const char *message, int n) {
    printf("[DEBUG] - %-10s : %s %d\n", hilo_current_name(), message, n);
    fflush(stdout);
}

static void *heartbeat_main(void *arg) {
    struct heartbeat *hb = arg;
    int n = 0;
    /* 0: the interval passed without a stop; 1: stop was set. */
    while (hilo_event_wait(hb->stop, INTERVAL) == 0) {
        log_line("beat", ++n);
        hilo_sem_release(hb->beats, 1);
    }
    log_line("stopping after beat", n);
    return NULL;
}

int main(void) {
    struct heartbeat hb = {hilo_event_new(), hilo_sem_new(0)};
    hilo_thread_t t;
    if (hilo_create(heartbeat_main, &hb, "Heartbeat", &t) != HILO_OK) {
        fprintf(stderr, "create: %s\n", hilo_last_error());
        return 1;
    }
    hilo_set_daemon(t, true); /* the process would not wait for it */
    hilo_start(t);

    for (int i = 0; i < BEATS; i++) {
        hilo_sem_acquire(hb.beats, true, HILO_FOREVER);
    }
    hilo_event_set(hb.stop);
    /* A daemon is not waited for at exit, but joining it makes the stop
     * clean: its last line is written before the event and semaphore go. */
    if (hilo_join(t, 5.0, NULL) != HILO_OK) {
        fprintf(stderr, "join: %s\n", hilo_last_error());
        return 1;
    }
    printf("heartbeat alive after stop: %d\n", hilo_is_alive(t));
    hilo_release(t);
    hilo_sem_free(hb.beats);
    hilo_event_free(hb.stop);
    return 0;
}
