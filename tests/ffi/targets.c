/* Thread targets in C for FFI hosts whose own callbacks must not run on
 * another OS thread (LuaJIT, koffi; docs/ffi.md). The host makes the job,
 * hands ffi_sum_job and the job to hilo_create (or calls
 * ffi_start_sum_job, for an FFI that does not pass C function pointers
 * around), and joins; the target runs on the hilo thread without calling
 * back into the host. Built by tests/ffi.rs as a shared library linked
 * with libhilo. */
#include <stddef.h>
#include <stdio.h>

#include <hilo.h>

/* One job: wait for `go`, sum 1..n, and note the thread's hilo name. */
struct ffi_job {
    hilo_event *go;
    long n;
    long sum;
    char name[32];
};

void *ffi_sum_job(void *arg);
int ffi_start_sum_job(struct ffi_job *job, const char *name, hilo_thread_t *out);

void *ffi_sum_job(void *arg) {
    struct ffi_job *job = arg;
    if (hilo_event_wait(job->go, HILO_FOREVER) != 1) {
        return NULL;
    }
    long sum = 0;
    for (long i = 1; i <= job->n; i++) {
        sum += i;
    }
    job->sum = sum;
    snprintf(job->name, sizeof job->name, "%s", hilo_current_name());
    return job;
}

/* Creates and starts a thread running ffi_sum_job(job); the handle goes to
 * *out. Returns hilo_create's or hilo_start's status. */
int ffi_start_sum_job(struct ffi_job *job, const char *name, hilo_thread_t *out) {
    int status = hilo_create(ffi_sum_job, job, name, out);
    return status == HILO_OK ? hilo_start(*out) : status;
}
