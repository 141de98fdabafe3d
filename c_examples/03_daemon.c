/* The seed tutorial's third example: a daemon thread does not keep the
 * process alive. Its second message is never printed: main returns at once,
 * and the process ends without waiting for it.
 *
 * Python:
 *     d = threading.Thread(target=daemon, name='Daemon')
 *     d.setDaemon(True)
 *     d.start()
 */
#include <stdio.h>
#include <time.h>

#include "hilo.h"

/* logging's format '[%(levelname)s] - %(threadName)-10s : %(message)s' */
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
    /* Give it a moment to log its first line, as the tutorial's run shows. */
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    return 0; /* does not wait for the daemon */
}
