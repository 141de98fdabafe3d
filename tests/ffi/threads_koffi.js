// hilo from Node.js with koffi (docs/ffi.md), run by tests/ffi.rs:
//   node threads_koffi.js <libhilo.so> <libffi_targets.so> <workers>
// koffi takes C prototypes, not the header: statuses are numbers here. The
// targets are C (targets.c), started by a C helper, so no function pointer
// crosses into JavaScript; their argument is C memory (koffi.alloc), which
// outlives the call, unlike the temporary copy koffi makes of a JS object.
// Last, a JS callback as a target: koffi runs it on the JS main thread, so
// a synchronous join cannot see it end; an asynchronous one can.
'use strict';
const koffi = require('koffi');

const [libhilo, libtargets, workersArg] = process.argv.slice(2);
const workers = Number(workersArg);
const hilo = koffi.load(libhilo);
const targets = koffi.load(libtargets);

const HILO_OK = 0;
const HILO_ETIMEDOUT = -5;
koffi.opaque('hilo_event');
const Job = koffi.struct('ffi_job', {
    go: 'hilo_event *',
    n: 'long',
    sum: 'long',
    name: koffi.array('char', 32, 'String'),
});
const hilo_event_new = hilo.func('hilo_event *hilo_event_new(void)');
const hilo_event_set = hilo.func('int hilo_event_set(hilo_event *e)');
const hilo_create = hilo.func('int hilo_create(void *target, void *arg, const char *name, _Out_ uint64_t *out)');
const hilo_start = hilo.func('int hilo_start(uint64_t t)');
const hilo_join = hilo.func('int hilo_join(uint64_t t, double timeout, _Out_ void **result)');
const hilo_release = hilo.func('int hilo_release(uint64_t t)');
const hilo_strerror = hilo.func('const char *hilo_strerror(int status)');
const hilo_current_name = hilo.func('const char *hilo_current_name(void)');
const ffi_start_sum_job = targets.func('int ffi_start_sum_job(ffi_job *job, const char *name, _Out_ uint64_t *out)');

function check(status, what) {
    if (status !== HILO_OK) throw new Error(`${what}: ${hilo_strerror(status)}`);
}

const go = hilo_event_new();
const jobs = [];
const threads = [];
try {
    for (let i = 1; i <= workers; i++) {
        const job = koffi.alloc(Job, 1);
        koffi.encode(job, Job, { go, n: 100 * i, sum: 0, name: '' });
        const out = [null];
        check(ffi_start_sum_job(job, `js-worker-${i}`, out), 'start');
        jobs.push(job);
        threads.push(out[0]);
    }
    const status = hilo_join(threads[0], 0.05, [null]);
    console.log(`before go: ${hilo_strerror(status)}${status === HILO_ETIMEDOUT ? ' (HILO_ETIMEDOUT)' : ''}`);
} finally {
    hilo_event_set(go);   // let every worker end, whatever happened
}
// C targets: a synchronous join is fine.
for (let i = 0; i < workers; i++) {
    check(hilo_join(threads[i], -1.0, [null]), 'join');
    const job = koffi.decode(jobs[i], Job);
    console.log(`${job.name} sum ${job.sum}`);
    check(hilo_release(threads[i]), 'release');
    koffi.free(jobs[i]);
}

// A JS callback as the target.
const Target = koffi.proto('void *js_target(void *arg)');
const callback = koffi.register(() => {
    console.log(`js target ran on ${hilo_current_name()}`);
    return null;
}, koffi.pointer(Target));
const out = [null];
check(hilo_create(callback, null, 'js-callback', out), 'create');
check(hilo_start(out[0]), 'start');
console.log(`js target, synchronous join: ${hilo_strerror(hilo_join(out[0], 0.2, [null]))}`);
hilo_join.async(out[0], -1.0, [null], (err, status) => {
    console.log(`js target, asynchronous join: ${err || hilo_strerror(status)}`);
    hilo_release(out[0]);
    koffi.unregister(callback);
});
