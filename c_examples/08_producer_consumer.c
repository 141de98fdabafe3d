/* Producers and consumers on a bounded buffer, guarded by one hilo_lock
 * with two conditions bound to it, as Python's queue.Queue does:
 *
 *     mutex = threading.Lock()
 *     not_empty = threading.Condition(mutex)
 *     not_full = threading.Condition(mutex)
 *
 * Producers wait while the buffer is full, consumers while it is empty;
 * each side wakes one waiter of the other. Which consumer takes which item
 * varies from run to run; the totals do not. */
#include <stdio.h>

#include "hilo.h"

#define CAPACITY 4
#define PRODUCERS 2
#define CONSUMERS 3
#define ITEMS_EACH 50

static struct {
    hilo_lock *mutex;
    hilo_cond *not_empty;
    hilo_cond *not_full;
    int items[CAPACITY];
    int head, count;
    int producers_left;
} buf;

static void put(int item) {
    hilo_lock_acquire(buf.mutex, true, HILO_FOREVER);
    while (buf.count == CAPACITY) {
        hilo_cond_wait(buf.not_full, HILO_FOREVER);
    }
    buf.items[(buf.head + buf.count) % CAPACITY] = item;
    buf.count++;
    hilo_cond_notify(buf.not_empty, 1);
    hilo_lock_release(buf.mutex);
}

/* 1 and the item, or 0 once the producers are done and the buffer empty. */
static int get(int *item) {
    hilo_lock_acquire(buf.mutex, true, HILO_FOREVER);
    while (buf.count == 0 && buf.producers_left > 0) {
        hilo_cond_wait(buf.not_empty, HILO_FOREVER);
    }
    int got = buf.count > 0;
    if (got) {
        *item = buf.items[buf.head];
        buf.head = (buf.head + 1) % CAPACITY;
        buf.count--;
        hilo_cond_notify(buf.not_full, 1);
    }
    hilo_lock_release(buf.mutex);
    return got;
}

static void *producer(void *arg) {
    int first = *(int *)arg;
    for (int i = 0; i < ITEMS_EACH; i++) {
        put(first + i);
    }
    hilo_lock_acquire(buf.mutex, true, HILO_FOREVER);
    if (--buf.producers_left == 0) {
        hilo_cond_notify_all(buf.not_empty); /* wake the consumers to finish */
    }
    hilo_lock_release(buf.mutex);
    return NULL;
}

struct tally {
    long items, sum;
};

static void *consumer(void *arg) {
    struct tally *tally = arg;
    int item;
    while (get(&item)) {
        tally->items++;
        tally->sum += item;
    }
    return NULL;
}

int main(void) {
    buf.mutex = hilo_lock_new();
    buf.not_empty = hilo_cond_new_with_lock(buf.mutex);
    buf.not_full = hilo_cond_new_with_lock(buf.mutex);
    buf.producers_left = PRODUCERS;

    hilo_thread_t threads[PRODUCERS + CONSUMERS];
    int firsts[PRODUCERS];
    struct tally tallies[CONSUMERS] = {{0, 0}};
    for (int i = 0; i < PRODUCERS; i++) {
        firsts[i] = 1 + i * ITEMS_EACH;
        hilo_create(producer, &firsts[i], NULL, &threads[i]);
    }
    for (int i = 0; i < CONSUMERS; i++) {
        hilo_create(consumer, &tallies[i], NULL, &threads[PRODUCERS + i]);
    }
    for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
        if (hilo_start(threads[i]) != HILO_OK) {
            fprintf(stderr, "start: %s\n", hilo_last_error());
            return 1;
        }
    }
    long items = 0, sum = 0;
    for (int i = 0; i < PRODUCERS + CONSUMERS; i++) {
        hilo_join(threads[i], HILO_FOREVER, NULL);
        hilo_release(threads[i]);
    }
    for (int i = 0; i < CONSUMERS; i++) {
        items += tallies[i].items;
        sum += tallies[i].sum;
    }
    const long n = PRODUCERS * ITEMS_EACH;
    printf("produced %ld items 1..%ld, consumed %ld with sum %ld (expected %ld)\n", n, n, items,
           sum, n * (n + 1) / 2);
    hilo_cond_free(buf.not_full);
    hilo_cond_free(buf.not_empty);
    hilo_lock_free(buf.mutex);
    return items == n && sum == n * (n + 1) / 2 ? 0 : 1;
}
