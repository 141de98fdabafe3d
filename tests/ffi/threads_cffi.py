"""hilo from Python's cffi (docs/ffi.md), run by tests/ffi.rs:

    python3 threads_cffi.py <preprocessed hilo.h> <libhilo.so> <libffi_targets.so> <workers>

cffi's ``cdef`` takes the header once the preprocessor has run (no
``#include`` or ``#define`` left), and keeps the statuses from its enum.
A thread's target may be a C function (targets.c) or a cffi callback:
cffi takes the GIL for a callback entered on a thread Python did not
start.
"""
import sys

from cffi import FFI

header_path, libhilo, libtargets, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ffi = FFI()
with open(header_path) as f:
    ffi.cdef(f.read())
ffi.cdef("""
struct ffi_job { hilo_event *go; long n; long sum; char name[32]; };
void *ffi_sum_job(void *arg);
""")
hilo = ffi.dlopen(libhilo)
targets = ffi.dlopen(libtargets)


def check(status, what):
    if status != hilo.HILO_OK:
        raise RuntimeError("%s: %s: %s" % (what, ffi.string(hilo.hilo_strerror(status)).decode(),
                                           ffi.string(hilo.hilo_last_error()).decode()))


@ffi.callback("void *(void *)")
def python_target(arg):
    # On a hilo thread: its name is hilo's.
    job = ffi.cast("struct ffi_job *", arg)
    job.sum = sum(range(1, job.n + 1))
    job.name = ffi.string(hilo.hilo_current_name())[:31]
    return arg


def run(target, name, n, go):
    job = ffi.new("struct ffi_job *", {"go": go, "n": n})
    out = ffi.new("hilo_thread_t *")
    check(hilo.hilo_create(target, job, name.encode(), out), "create")
    return job, out[0]


go = hilo.hilo_event_new()
try:
    started = []
    for i in range(1, workers + 1):
        job, t = run(targets.ffi_sum_job, "cffi-worker-%d" % i, i * 100, go)
        check(hilo.hilo_start(t), "start")
        started.append((job, t))
    status = hilo.hilo_join(started[0][1], 0.05, ffi.NULL)
    print("before go: %s%s" % (ffi.string(hilo.hilo_strerror(status)).decode(),
                               " (HILO_ETIMEDOUT)" if status == hilo.HILO_ETIMEDOUT else ""))
    check(hilo.hilo_event_set(go), "event set")
    job, t = run(python_target, "cffi-python", workers * 100, go)
    check(hilo.hilo_start(t), "start")
    started.append((job, t))
    for job, t in started:
        result = ffi.new("void **")
        check(hilo.hilo_join(t, -1.0, result), "join")
        same = ffi.cast("struct ffi_job *", result[0]) == job
        print("%s sum %d%s" % (ffi.string(job.name).decode(), job.sum, "" if same else " (another job!)"))
        check(hilo.hilo_release(t), "release")
    status = hilo.hilo_join(hilo.hilo_current(), -1.0, ffi.NULL)
    print("self-join: %s (%s)" % ("HILO_EDEADLK" if status == hilo.HILO_EDEADLK else status,
                                  ffi.string(hilo.hilo_last_error()).decode()))
finally:
    # Let every worker end: the process waits for them at exit.
    hilo.hilo_event_set(go)
