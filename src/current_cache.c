/* The fast path of hilo_current_name(): the calling thread's cached name in
 * an initial-exec thread-local (src/current.rs owns the name and fills this
 * cache; docs/performance.md says why this is C).
 *
 * A Rust thread_local! in a cdylib uses the general-dynamic TLS model: each
 * read calls __tls_get_addr through the PLT. Stable Rust cannot choose the
 * model, C can: an initial-exec variable is one %fs-relative load through a
 * GOT entry. Its cost is that the library's TLS block is static: a program
 * that dlopen()s libhilo.so takes these few bytes from glibc's static TLS
 * surplus (which exists for exactly this), and dlopen() fails with "cannot
 * allocate memory in static TLS block" only when other libraries already
 * used that surplus up.
 *
 * Nothing here is exported: the symbols are hidden, and the cdylib's version
 * script exports only hilo_* functions.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define HIDDEN __attribute__((visibility("hidden")))

struct hilo_name_cache {
    /* The slot's name_version (an AtomicU32), or NULL when nothing is
     * cached: the thread has no identity yet, or it has ended. */
    const _Atomic uint32_t *version;
    /* The name_version at which `name` was cached. */
    uint32_t cached_version;
    /* The cached name, owned by src/current.rs (an Arc it holds). */
    const char *name;
};

static __thread struct hilo_name_cache cache
    __attribute__((tls_model("initial-exec")));

/* Sets the calling thread's cache (src/current.rs): `name` is its name
 * while *version is cached_version; a NULL `version` clears it. */
HIDDEN void hilo_internal_set_cached_name(const _Atomic uint32_t *version,
                                          uint32_t cached_version, const char *name) {
    cache.version = version;
    cache.cached_version = cached_version;
    cache.name = name;
}

/* The calling thread's name: the cached one while it is current (the slot
 * was not renamed since), else what `slow` (src/current.rs) gives. `slow`
 * is passed in rather than named so that no Rust symbol needs exporting for
 * C to call it; both calls are tail calls. */
HIDDEN const char *hilo_internal_current_name(const char *(*slow)(void)) {
    const _Atomic uint32_t *version = cache.version;
    if (version != NULL &&
        atomic_load_explicit(version, memory_order_acquire) == cache.cached_version) {
        return cache.name;
    }
    return slow();
}
