/* Built by tests/install.rs against an installed hilo, with the flags that
 * `pkg-config --cflags --libs hilo` gives: a named thread, joined. */
#include <stdio.h>
#include <string.h>

#include <hilo.h>

static void *work(void *arg) {
    printf("%s runs\n", hilo_current_name());
    return arg;
}

int main(void) {
    hilo_thread_t t;
    int value = 7;
    void *result = NULL;
    if (hilo_create(work, &value, "installed", &t) != HILO_OK || hilo_start(t) != HILO_OK ||
        hilo_join(t, HILO_FOREVER, &result) != HILO_OK || result != &value) {
        fprintf(stderr, "hilo failed: %s\n", hilo_last_error());
        return 1;
    }
    hilo_release(t);
    printf("version %s (header %d.%d.%d)\n", hilo_version(), HILO_VERSION_MAJOR,
           HILO_VERSION_MINOR, HILO_VERSION_PATCH);
    return 0;
}
