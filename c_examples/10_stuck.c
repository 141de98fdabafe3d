/* Where is a stuck program, and why? Two threads take the same two locks
 * in opposite orders and deadlock (each holds the lock the other wants).
 * The watchdog notices that a thread has waited for longer than half a
 * second and writes one dump: every thread, what it waits for and who
 * holds it, its stack, and the deadlock. Here the dump goes into a pipe
 * that main copies to stdout; a real program would pass 2 (stderr), or run
 * with HILO_DUMP_SIGNAL=QUIT and type `kill -QUIT <pid>`.
 *
 * Java: jstack <pid> ("Found one Java-level deadlock").
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hilo.h"

static hilo_lock *accounts, *journal;
static hilo_barrier *both_hold_one;

static void *transfer(void *arg) {
    (void)arg;
    hilo_lock_acquire(accounts, true, HILO_FOREVER);
    hilo_barrier_wait(both_hold_one, HILO_FOREVER);
    hilo_lock_acquire(journal, true, HILO_FOREVER); /* audit holds it */
    return NULL;
}

static void *audit(void *arg) {
    (void)arg;
    hilo_lock_acquire(journal, true, HILO_FOREVER);
    hilo_barrier_wait(both_hold_one, HILO_FOREVER);
    hilo_lock_acquire(accounts, true, HILO_FOREVER); /* transfer holds it */
    return NULL;
}

int main(void) {
    accounts = hilo_lock_new();
    journal = hilo_lock_new();
    both_hold_one = hilo_barrier_new(2, NULL, NULL, HILO_FOREVER);
    int dump[2];
    if (pipe(dump) != 0 || hilo_watchdog(0.5, dump[1]) != HILO_OK) {
        fprintf(stderr, "watchdog: %s\n", hilo_last_error());
        return 1;
    }
    hilo_fn targets[2] = {transfer, audit};
    const char *names[2] = {"transfer", "audit"};
    for (int i = 0; i < 2; i++) {
        hilo_thread_t t;
        hilo_create(targets[i], NULL, names[i], &t);
        hilo_set_daemon(t, true); /* so that the process may exit */
        hilo_start(t);
    }
    /* Copy the watchdog's dump, up to its last line; on a machine so busy
     * that a thread waited half a second at the barrier, that stall gets a
     * dump of its own first: wait for the one with the deadlock. */
    static char text[1 << 16];
    do {
        size_t have = 0;
        text[0] = '\0';
        while (have < sizeof text - 1 && strstr(text, "End of hilo thread dump.") == NULL) {
            ssize_t n = read(dump[0], text + have, sizeof text - 1 - have);
            if (n <= 0) return 1;
            have += (size_t)n;
            text[have] = '\0';
        }
    } while (strstr(text, "Found one deadlock") == NULL);
    fputs(text, stdout);
    printf("main: transfer and audit will never finish; they are daemon threads, so "
           "the program can still exit.\n");
    return 0;
}
