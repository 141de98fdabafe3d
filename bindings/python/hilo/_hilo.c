/* hilo._hilo: the Python binding's hot paths, compiled against include/hilo.h
 * (so the compiler checks every call against the header) and linked with the
 * one libhilo.so the package loads (its soname, libhilo.so.MAJOR): a Python
 * thread started here is a hilo thread, and C extensions in the same process
 * share the library.
 *
 * Locks: the try-acquire runs while holding the GIL; the GIL is released only
 * to block, so an uncontended acquire+release costs two C calls, and a thread
 * that finds the lock free never hands the GIL to another (which is what
 * made two threads counting under one Lock switch at every acquire).
 *
 * Waits in the main thread are interruptible (wait_released): Ctrl-C raises
 * KeyboardInterrupt in a blocked acquire, wait or join as in CPython. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <pythread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "hilo.h"

/* A Python error is set (not a hilo status). */
#define PY_ERROR INT_MIN

static unsigned long main_ident;
static PyObject *bootstrap; /* hilo/__init__.py's _bootstrap(key) */
/* current_thread(): the dict ident -> Thread of the hilo threads running
 * Python, and what answers for any other thread. */
static PyObject *running;
static PyObject *current_fallback;
/* Attribute names the Thread.name getter reads. */
static PyObject *str_handle, *str_name, *str_name_bytes;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Raises the Python exception for a negative hilo status; returns NULL. */
static PyObject *raise_status(int status) {
    const char *text = hilo_last_error();
    if (text == NULL || text[0] == '\0') {
        text = hilo_strerror(status);
    }
    PyObject *type = PyExc_RuntimeError;
    if (status == HILO_EINVAL) {
        type = PyExc_ValueError;
    } else if (status == HILO_EINTERNAL) {
        type = PyExc_SystemError;
    }
    PyErr_SetString(type, text);
    return NULL;
}

/* A blocking hilo call on `obj` with the given timeout (negative: forever). */
typedef int (*wait_fn)(void *obj, double timeout);

/* Calls `call` with the GIL released and returns its status. In the main
 * thread (where CPython runs signal handlers) the call is interruptible
 * (hilo_set_interruptible, for this call only, so that C code's own waits
 * in this thread keep their setting): when a signal handler ran during it,
 * hilo answers HILO_EINTR, Python's handlers run here (PyErr_CheckSignals;
 * KeyboardInterrupt for Ctrl-C), and unless one raised, the wait resumes
 * for what is left of `timeout`. No periodic wake-ups. PY_ERROR when a
 * handler raised. */
static int wait_released(wait_fn call, void *obj, double timeout) {
    int rc;
    if (timeout == 0 || PyThread_get_thread_ident() != main_ident) {
        Py_BEGIN_ALLOW_THREADS
        rc = call(obj, timeout);
        Py_END_ALLOW_THREADS
        return rc;
    }
    double deadline = timeout < 0 ? 0 : now_s() + timeout;
    for (;;) {
        double left = -1;
        if (timeout >= 0) {
            left = deadline - now_s();
            left = left > 0 ? left : 0;
        }
        Py_BEGIN_ALLOW_THREADS
        int was = hilo_is_interruptible();
        if (was != 1) {
            hilo_set_interruptible(true);
        }
        rc = call(obj, left);
        if (was != 1) {
            hilo_set_interruptible(false);
        }
        Py_END_ALLOW_THREADS
        if (rc != HILO_EINTR) {
            return rc;
        }
        if (PyErr_CheckSignals() < 0) {
            return PY_ERROR;
        }
    }
}

/* Parses acquire(blocking=True, timeout=-1) as CPython's locks do: sets
 * *timeout to the C timeout (negative: forever; 0: do not wait). */
static int parse_acquire(PyObject *args, PyObject *kwargs, double *timeout) {
    static char *kwlist[] = {"blocking", "timeout", NULL};
    int blocking = 1;
    double t = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|id:acquire", kwlist, &blocking, &t)) {
        return -1;
    }
    if (!blocking) {
        if (t != -1) {
            PyErr_SetString(PyExc_ValueError, "can't specify a timeout for a non-blocking call");
            return -1;
        }
        *timeout = 0;
        return 0;
    }
    if (t < 0 && t != -1) {
        PyErr_SetString(PyExc_ValueError, "timeout value must be positive");
        return -1;
    }
    if (t > PY_TIMEOUT_MAX / 1e6) {
        PyErr_SetString(PyExc_OverflowError, "timeout value is too large");
        return -1;
    }
    *timeout = t == -1 ? -1 : t;
    return 0;
}

/* Parses wait(timeout=None) as CPython's Event and Condition do: sets
 * *timeout to the C timeout (None: forever, negative; a negative number: do
 * not wait, 0). */
static int parse_wait(PyObject *args, PyObject *kwargs, double *timeout) {
    static char *kwlist[] = {"timeout", NULL};
    PyObject *arg = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:wait", kwlist, &arg)) {
        return -1;
    }
    *timeout = -1;
    if (arg != Py_None) {
        double t = PyFloat_AsDouble(arg);
        if (t == -1 && PyErr_Occurred()) {
            return -1;
        }
        *timeout = t < 0 ? 0 : t;
    }
    return 0;
}

/* ---------------------------------------------------------------- Lock */

typedef struct {
    PyObject_HEAD
    hilo_lock *lock;
    PyObject *weakrefs;
} LockObject;

static int lock_wait(void *obj, double timeout) {
    return hilo_lock_acquire(obj, true, timeout);
}

/* 1: acquired; 0: not; PY_ERROR. The try runs with the GIL held. */
static int lock_take(hilo_lock *lock, double timeout) {
    int rc = hilo_lock_acquire(lock, false, -1);
    if (rc == 0 && timeout != 0) {
        rc = wait_released(lock_wait, lock, timeout);
    }
    if (rc < 0 && rc != PY_ERROR) {
        raise_status(rc);
        return PY_ERROR;
    }
    return rc;
}

static PyObject *lock_acquire(LockObject *self, PyObject *args, PyObject *kwargs) {
    double timeout;
    if (parse_acquire(args, kwargs, &timeout) < 0) {
        return NULL;
    }
    int rc = lock_take(self->lock, timeout);
    return rc == PY_ERROR ? NULL : PyBool_FromLong(rc);
}

static PyObject *lock_enter(LockObject *self, PyObject *Py_UNUSED(arg)) {
    int rc = lock_take(self->lock, -1);
    return rc == PY_ERROR ? NULL : PyBool_FromLong(rc);
}

static PyObject *lock_release(LockObject *self, PyObject *Py_UNUSED(args)) {
    int rc = hilo_lock_release(self->lock);
    if (rc == HILO_ESTATE) {
        PyErr_SetString(PyExc_RuntimeError, "release unlocked lock");
        return NULL;
    }
    if (rc < 0) {
        return raise_status(rc);
    }
    Py_RETURN_NONE;
}

static PyObject *lock_locked(LockObject *self, PyObject *Py_UNUSED(args)) {
    int rc = hilo_lock_locked(self->lock);
    return rc < 0 ? raise_status(rc) : PyBool_FromLong(rc);
}

/* After fork: a fresh unlocked lock (the old one may be held by a thread
 * that does not exist in the child). */
static PyObject *lock_at_fork_reinit(LockObject *self, PyObject *Py_UNUSED(args)) {
    hilo_lock *fresh = hilo_lock_new();
    if (fresh == NULL) {
        return PyErr_NoMemory();
    }
    hilo_lock_free(self->lock);
    self->lock = fresh;
    Py_RETURN_NONE;
}

static PyObject *lock_repr(LockObject *self) {
    return PyUnicode_FromFormat("<%s %s object at %p>",
                                hilo_lock_locked(self->lock) == 1 ? "locked" : "unlocked",
                                Py_TYPE(self)->tp_name, (void *)self);
}

static void lock_dealloc(LockObject *self) {
    if (self->weakrefs != NULL) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    hilo_lock_free(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef lock_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))lock_acquire, METH_VARARGS | METH_KEYWORDS,
     "acquire(blocking=True, timeout=-1) -> bool"},
    {"acquire_lock", (PyCFunction)(void (*)(void))lock_acquire, METH_VARARGS | METH_KEYWORDS,
     NULL},
    {"release", (PyCFunction)lock_release, METH_NOARGS, "release()"},
    {"release_lock", (PyCFunction)lock_release, METH_NOARGS, NULL},
    {"locked", (PyCFunction)lock_locked, METH_NOARGS, "locked() -> bool"},
    {"__enter__", (PyCFunction)lock_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)lock_release, METH_VARARGS, NULL},
    {"_at_fork_reinit", (PyCFunction)lock_at_fork_reinit, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Lock_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "hilo.lock",
    .tp_basicsize = sizeof(LockObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .tp_doc = "A hilo lock; made by hilo.Lock().",
    .tp_dealloc = (destructor)lock_dealloc,
    .tp_repr = (reprfunc)lock_repr,
    .tp_methods = lock_methods,
    .tp_weaklistoffset = offsetof(LockObject, weakrefs),
};

static PyObject *allocate_lock(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args)) {
    LockObject *self = PyObject_New(LockObject, &Lock_Type);
    if (self == NULL) {
        return NULL;
    }
    self->weakrefs = NULL;
    self->lock = hilo_lock_new();
    if (self->lock == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

/* --------------------------------------------------------------- RLock */

/* The owner and count are kept here too (hilo's RLock keeps its own): they
 * answer _is_owned, _recursion_count and repr without a C call. */
typedef struct {
    PyObject_HEAD
    hilo_rlock *lock;
    unsigned long owner;
    unsigned long count;
    PyObject *weakrefs;
} RLockObject;

static int rlock_wait(void *obj, double timeout) {
    return hilo_rlock_acquire(obj, true, timeout);
}

static int rlock_take(RLockObject *self, double timeout) {
    unsigned long me = PyThread_get_thread_ident();
    int rc = hilo_rlock_acquire(self->lock, false, -1);
    if (rc == 0 && timeout != 0) {
        rc = wait_released(rlock_wait, self->lock, timeout);
    }
    if (rc == 1) {
        self->owner = me;
        self->count++;
    } else if (rc < 0 && rc != PY_ERROR) {
        raise_status(rc);
        return PY_ERROR;
    }
    return rc;
}

static PyObject *rlock_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    (void)args;
    (void)kwargs;
    RLockObject *self = (RLockObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->lock = hilo_rlock_new();
    if (self->lock == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static PyObject *rlock_acquire(RLockObject *self, PyObject *args, PyObject *kwargs) {
    double timeout;
    if (parse_acquire(args, kwargs, &timeout) < 0) {
        return NULL;
    }
    int rc = rlock_take(self, timeout);
    return rc == PY_ERROR ? NULL : PyBool_FromLong(rc);
}

static PyObject *rlock_enter(RLockObject *self, PyObject *Py_UNUSED(arg)) {
    int rc = rlock_take(self, -1);
    return rc == PY_ERROR ? NULL : PyBool_FromLong(rc);
}

static int rlock_owned(RLockObject *self) {
    return self->count > 0 && self->owner == PyThread_get_thread_ident();
}

static PyObject *rlock_release(RLockObject *self, PyObject *Py_UNUSED(args)) {
    if (!rlock_owned(self)) {
        PyErr_SetString(PyExc_RuntimeError, "cannot release un-acquired lock");
        return NULL;
    }
    if (--self->count == 0) {
        self->owner = 0;
    }
    int rc = hilo_rlock_release(self->lock);
    if (rc < 0) {
        return raise_status(rc);
    }
    Py_RETURN_NONE;
}

static PyObject *rlock_locked(RLockObject *self, PyObject *Py_UNUSED(args)) {
    int rc = hilo_rlock_locked(self->lock);
    return rc < 0 ? raise_status(rc) : PyBool_FromLong(rc);
}

static PyObject *rlock_is_owned(RLockObject *self, PyObject *Py_UNUSED(args)) {
    return PyBool_FromLong(rlock_owned(self));
}

static PyObject *rlock_recursion_count(RLockObject *self, PyObject *Py_UNUSED(args)) {
    return PyLong_FromUnsignedLong(rlock_owned(self) ? self->count : 0);
}

/* Releases every level; returns (count, owner) for _acquire_restore. */
static PyObject *rlock_release_save(RLockObject *self, PyObject *Py_UNUSED(args)) {
    if (!rlock_owned(self)) {
        PyErr_SetString(PyExc_RuntimeError, "cannot release un-acquired lock");
        return NULL;
    }
    unsigned long count = self->count, owner = self->owner;
    self->count = 0;
    self->owner = 0;
    for (unsigned long i = 0; i < count; i++) {
        int rc = hilo_rlock_release(self->lock);
        if (rc < 0) {
            return raise_status(rc);
        }
    }
    return Py_BuildValue("(kk)", count, owner);
}

static PyObject *rlock_acquire_restore(RLockObject *self, PyObject *state) {
    unsigned long count, owner;
    if (!PyArg_ParseTuple(state, "kk:_acquire_restore", &count, &owner)) {
        return NULL;
    }
    if (count == 0) {
        Py_RETURN_NONE;
    }
    if (rlock_take(self, -1) == PY_ERROR) {
        return NULL;
    }
    for (unsigned long i = 1; i < count; i++) {
        int rc = hilo_rlock_acquire(self->lock, false, -1);
        if (rc < 0) {
            return raise_status(rc);
        }
    }
    self->count = count;
    self->owner = owner;
    Py_RETURN_NONE;
}

static PyObject *rlock_at_fork_reinit(RLockObject *self, PyObject *Py_UNUSED(args)) {
    hilo_rlock *fresh = hilo_rlock_new();
    if (fresh == NULL) {
        return PyErr_NoMemory();
    }
    hilo_rlock_free(self->lock);
    self->lock = fresh;
    self->owner = 0;
    self->count = 0;
    Py_RETURN_NONE;
}

static PyObject *rlock_repr(RLockObject *self) {
    return PyUnicode_FromFormat("<%s %s object owner=%lu count=%lu at %p>",
                                self->count ? "locked" : "unlocked", Py_TYPE(self)->tp_name,
                                self->owner, self->count, (void *)self);
}

static void rlock_dealloc(RLockObject *self) {
    if (self->weakrefs != NULL) {
        PyObject_ClearWeakRefs((PyObject *)self);
    }
    if (self->lock != NULL) {
        hilo_rlock_free(self->lock);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef rlock_methods[] = {
    {"acquire", (PyCFunction)(void (*)(void))rlock_acquire, METH_VARARGS | METH_KEYWORDS,
     "acquire(blocking=True, timeout=-1) -> bool"},
    {"release", (PyCFunction)rlock_release, METH_NOARGS, "release()"},
    {"locked", (PyCFunction)rlock_locked, METH_NOARGS, "locked() -> bool"},
    {"__enter__", (PyCFunction)rlock_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)rlock_release, METH_VARARGS, NULL},
    {"_is_owned", (PyCFunction)rlock_is_owned, METH_NOARGS, NULL},
    {"_recursion_count", (PyCFunction)rlock_recursion_count, METH_NOARGS, NULL},
    {"_release_save", (PyCFunction)rlock_release_save, METH_NOARGS, NULL},
    {"_acquire_restore", (PyCFunction)rlock_acquire_restore, METH_O, NULL},
    {"_at_fork_reinit", (PyCFunction)rlock_at_fork_reinit, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject RLock_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "hilo.RLock",
    .tp_basicsize = sizeof(RLockObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "A re-entrant hilo lock: its owner may acquire it again.",
    .tp_new = rlock_new,
    .tp_dealloc = (destructor)rlock_dealloc,
    .tp_repr = (reprfunc)rlock_repr,
    .tp_methods = rlock_methods,
    .tp_weaklistoffset = offsetof(RLockObject, weakrefs),
};

/* ----------------------------------------------------------- Condition */

/* The C half of hilo.Condition over a hilo lock or RLock: wait and notify.
 * Acquire and release are the lock's own (so an RLock's owner and count
 * stay right); a wait saves them, and restores them once hilo_cond_wait has
 * re-acquired every level. */
typedef struct {
    PyObject_HEAD
    hilo_cond *cond;
    PyObject *lock;
    Py_ssize_t waiting; /* threads inside wait(), for repr */
} CondObject;

static PyObject *cond_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    PyObject *lock;
    static char *kwlist[] = {"lock", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O:_Cond", kwlist, &lock)) {
        return NULL;
    }
    hilo_cond *cond;
    if (Py_IS_TYPE(lock, &Lock_Type)) {
        cond = hilo_cond_new_with_lock(((LockObject *)lock)->lock);
    } else if (PyObject_TypeCheck(lock, &RLock_Type)) {
        cond = hilo_cond_new_with_rlock(((RLockObject *)lock)->lock);
    } else {
        PyErr_SetString(PyExc_TypeError, "_Cond takes a hilo lock or RLock");
        return NULL;
    }
    if (cond == NULL) {
        return PyErr_NoMemory();
    }
    CondObject *self = (CondObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        hilo_cond_free(cond);
        return NULL;
    }
    self->cond = cond;
    Py_INCREF(lock);
    self->lock = lock;
    return (PyObject *)self;
}

static int cond_wait_call(void *obj, double timeout) {
    return hilo_cond_wait(obj, timeout);
}

static PyObject *cond_wait(CondObject *self, PyObject *args, PyObject *kwargs) {
    double timeout;
    if (parse_wait(args, kwargs, &timeout) < 0) {
        return NULL;
    }
    RLockObject *rlock = NULL;
    unsigned long count = 0, owner = 0;
    if (PyObject_TypeCheck(self->lock, &RLock_Type)) {
        rlock = (RLockObject *)self->lock;
        if (!rlock_owned(rlock)) {
            PyErr_SetString(PyExc_RuntimeError, "cannot wait on un-acquired lock");
            return NULL;
        }
        count = rlock->count;
        owner = rlock->owner;
        rlock->count = 0;
        rlock->owner = 0;
    }
    self->waiting++;
    int rc = wait_released(cond_wait_call, self->cond, timeout);
    self->waiting--;
    if (rlock != NULL && rc != HILO_ESTATE) {
        /* hilo_cond_wait returns with every level held again. */
        rlock->count = count;
        rlock->owner = owner;
    }
    if (rc == PY_ERROR) {
        return NULL;
    }
    if (rc == HILO_ESTATE) {
        PyErr_SetString(PyExc_RuntimeError, "cannot wait on un-acquired lock");
        return NULL;
    }
    return rc < 0 ? raise_status(rc) : PyBool_FromLong(rc);
}

/* Wakes `n` waiters (all of them when `all`), as the lock's owner only. An
 * RLock knows its owner here; hilo checks a plain lock is held. */
static PyObject *cond_notified(CondObject *self, size_t n, bool all) {
    int rc = HILO_ESTATE;
    if (!PyObject_TypeCheck(self->lock, &RLock_Type) || rlock_owned((RLockObject *)self->lock)) {
        rc = all ? hilo_cond_notify_all(self->cond) : hilo_cond_notify(self->cond, n);
    }
    if (rc == HILO_ESTATE) {
        PyErr_SetString(PyExc_RuntimeError, "cannot notify on un-acquired lock");
        return NULL;
    }
    if (rc < 0) {
        return raise_status(rc);
    }
    Py_RETURN_NONE;
}

static PyObject *cond_notify(CondObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"n", NULL};
    Py_ssize_t n = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|n:notify", kwlist, &n)) {
        return NULL;
    }
    return cond_notified(self, n < 0 ? 0 : (size_t)n, false);
}

static PyObject *cond_notify_all(CondObject *self, PyObject *Py_UNUSED(args)) {
    return cond_notified(self, 0, true);
}

static void cond_dealloc(CondObject *self) {
    if (self->cond != NULL) {
        hilo_cond_free(self->cond);
    }
    Py_XDECREF(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *cond_waiting(CondObject *self, PyObject *Py_UNUSED(args)) {
    return PyLong_FromSsize_t(self->waiting);
}

static PyMethodDef cond_methods[] = {
    {"waiting", (PyCFunction)cond_waiting, METH_NOARGS, "threads inside wait()"},
    {"wait", (PyCFunction)(void (*)(void))cond_wait, METH_VARARGS | METH_KEYWORDS, "wait(timeout=None) -> bool"},
    {"notify", (PyCFunction)(void (*)(void))cond_notify, METH_VARARGS | METH_KEYWORDS, "notify(n=1)"},
    {"notify_all", (PyCFunction)cond_notify_all, METH_NOARGS, "notify_all()"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Cond_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "hilo._Cond",
    .tp_basicsize = sizeof(CondObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The C half of a hilo.Condition over a hilo lock.",
    .tp_new = cond_new,
    .tp_dealloc = (destructor)cond_dealloc,
    .tp_methods = cond_methods,
};

/* --------------------------------------------------------------- Event */

typedef struct {
    PyObject_HEAD
    hilo_event *event;
} EventObject;

static PyObject *event_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    (void)args;
    (void)kwargs;
    EventObject *self = (EventObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->event = hilo_event_new();
    if (self->event == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return (PyObject *)self;
}

static PyObject *event_is_set(EventObject *self, PyObject *Py_UNUSED(args)) {
    int rc = hilo_event_is_set(self->event);
    return rc < 0 ? raise_status(rc) : PyBool_FromLong(rc);
}

static PyObject *event_set(EventObject *self, PyObject *Py_UNUSED(args)) {
    int rc = hilo_event_set(self->event);
    if (rc < 0) {
        return raise_status(rc);
    }
    Py_RETURN_NONE;
}

static PyObject *event_clear(EventObject *self, PyObject *Py_UNUSED(args)) {
    int rc = hilo_event_clear(self->event);
    if (rc < 0) {
        return raise_status(rc);
    }
    Py_RETURN_NONE;
}

static int event_wait_call(void *obj, double timeout) {
    return hilo_event_wait(obj, timeout);
}

static PyObject *event_wait(EventObject *self, PyObject *args, PyObject *kwargs) {
    double timeout;
    if (parse_wait(args, kwargs, &timeout) < 0) {
        return NULL;
    }
    int rc = hilo_event_is_set(self->event);
    if (rc == 0 && timeout != 0) {
        rc = wait_released(event_wait_call, self->event, timeout);
    }
    if (rc == PY_ERROR) {
        return NULL;
    }
    return rc < 0 ? raise_status(rc) : PyBool_FromLong(rc);
}

static PyObject *event_at_fork_reinit(EventObject *self, PyObject *Py_UNUSED(args)) {
    hilo_event *fresh = hilo_event_new();
    if (fresh == NULL) {
        return PyErr_NoMemory();
    }
    if (hilo_event_is_set(self->event) == 1) {
        hilo_event_set(fresh);
    }
    hilo_event_free(self->event);
    self->event = fresh;
    Py_RETURN_NONE;
}

static void event_dealloc(EventObject *self) {
    if (self->event != NULL) {
        hilo_event_free(self->event);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef event_methods[] = {
    {"is_set", (PyCFunction)event_is_set, METH_NOARGS, "is_set() -> bool"},
    {"set", (PyCFunction)event_set, METH_NOARGS, "set()"},
    {"clear", (PyCFunction)event_clear, METH_NOARGS, "clear()"},
    {"wait", (PyCFunction)(void (*)(void))event_wait, METH_VARARGS | METH_KEYWORDS, "wait(timeout=None) -> bool"},
    {"_at_fork_reinit", (PyCFunction)event_at_fork_reinit, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Event_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "hilo._Event",
    .tp_basicsize = sizeof(EventObject),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The C half of hilo.Event.",
    .tp_new = event_new,
    .tp_dealloc = (destructor)event_dealloc,
    .tp_methods = event_methods,
};

/* ------------------------------------------------------------- Threads */

/* Reads a handle (an int) from Python. */
static int handle_of(PyObject *arg, hilo_thread_t *out) {
    *out = PyLong_AsUnsignedLongLong(arg);
    return PyErr_Occurred() ? -1 : 0;
}


/* Every hilo thread started from Python runs this: it takes a thread state
 * for the thread's life and calls _bootstrap(key), which never raises. */
static void *trampoline(void *arg) {
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *result = PyObject_CallFunction(bootstrap, "n", (Py_ssize_t)(intptr_t)arg);
    if (result == NULL) {
        PyErr_Clear();
    } else {
        Py_DECREF(result);
    }
    PyGILState_Release(gil);
    return NULL;
}

static PyObject *set_bootstrap(PyObject *Py_UNUSED(module), PyObject *fn) {
    Py_INCREF(fn);
    Py_XSETREF(bootstrap, fn);
    main_ident = PyThread_get_thread_ident();
    Py_RETURN_NONE;
}

/* The calling thread is the main thread from now on (after fork). */
static PyObject *set_main_thread(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args)) {
    main_ident = PyThread_get_thread_ident();
    Py_RETURN_NONE;
}

/* create(key, name) -> (status, handle): hilo_create with the trampoline. */
static PyObject *create(PyObject *Py_UNUSED(module), PyObject *args) {
    Py_ssize_t key;
    PyObject *name_arg;
    if (!PyArg_ParseTuple(args, "nO:create", &key, &name_arg)) {
        return NULL;
    }
    const char *name = NULL;
    if (name_arg != Py_None) {
        name = PyBytes_AsString(name_arg);
        if (name == NULL) {
            return NULL;
        }
    }
    hilo_thread_t handle = 0;
    int rc = hilo_create(trampoline, (void *)(intptr_t)key, name, &handle);
    return Py_BuildValue("(iK)", rc, (unsigned long long)handle);
}

static PyObject *start(PyObject *Py_UNUSED(module), PyObject *arg) {
    hilo_thread_t handle;
    if (handle_of(arg, &handle) < 0) {
        return NULL;
    }
    return PyLong_FromLong(hilo_start(handle));
}

static int join_call(void *obj, double timeout) {
    return hilo_join(*(hilo_thread_t *)obj, timeout, NULL);
}

/* join(handle, timeout) -> status; timeout negative: forever. */
static PyObject *join(PyObject *Py_UNUSED(module), PyObject *args) {
    unsigned long long handle;
    double timeout;
    if (!PyArg_ParseTuple(args, "Kd:join", &handle, &timeout)) {
        return NULL;
    }
    hilo_thread_t t = handle;
    int rc = wait_released(join_call, &t, timeout);
    return rc == PY_ERROR ? NULL : PyLong_FromLong(rc);
}

/* The name hilo holds for `handle`, as bytes; None when hilo has no such
 * thread. */
static PyObject *name_of(hilo_thread_t handle) {
    char small[128];
    int size = hilo_get_name(handle, small, sizeof small);
    if (size < 0) {
        Py_RETURN_NONE;
    }
    if ((size_t)size < sizeof small) {
        return PyBytes_FromStringAndSize(small, size);
    }
    PyObject *bytes = PyBytes_FromStringAndSize(NULL, size);
    if (bytes == NULL) {
        return NULL;
    }
    /* The buffer holds size + 1 bytes (the terminating NUL included). */
    if (hilo_get_name(handle, PyBytes_AS_STRING(bytes), (size_t)size + 1) != size) {
        Py_DECREF(bytes);
        Py_RETURN_NONE;
    }
    return bytes;
}

/* name(handle) -> bytes, or None when hilo has no such thread. */
static PyObject *name(PyObject *Py_UNUSED(module), PyObject *arg) {
    hilo_thread_t handle;
    if (handle_of(arg, &handle) < 0) {
        return NULL;
    }
    return name_of(handle);
}

static PyObject *set_current_thread_hooks(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *dict, *fallback;
    if (!PyArg_ParseTuple(args, "O!O:set_current_thread_hooks", &PyDict_Type, &dict,
                          &fallback)) {
        return NULL;
    }
    Py_INCREF(dict);
    Py_XSETREF(running, dict);
    Py_INCREF(fallback);
    Py_XSETREF(current_fallback, fallback);
    Py_RETURN_NONE;
}

/* current_thread(): one dict lookup in C for a hilo thread. */
static PyObject *current_thread(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args)) {
    if (running == NULL || current_fallback == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "hilo._hilo: current_thread hooks not set");
        return NULL;
    }
    PyObject *key = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
    if (key == NULL) {
        return NULL;
    }
    PyObject *thread = PyDict_GetItemWithError(running, key); /* borrowed */
    Py_DECREF(key);
    if (thread != NULL) {
        Py_INCREF(thread);
        return thread;
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    return PyObject_CallNoArgs(current_fallback);
}

/* Thread.name's getter: the name hilo holds now (C code may rename a thread)
 * as the str Python set when it is the same bytes, decoded otherwise. */
static PyObject *thread_name(PyObject *Py_UNUSED(module), PyObject *thread) {
    PyObject *handle_obj = PyObject_GetAttr(thread, str_handle);
    if (handle_obj == NULL) {
        PyErr_Clear();
        PyErr_SetString(PyExc_AssertionError, "Thread.__init__() not called");
        return NULL;
    }
    hilo_thread_t handle;
    int bad = handle_of(handle_obj, &handle);
    Py_DECREF(handle_obj);
    if (bad) {
        return NULL;
    }
    PyObject *cached = PyObject_GetAttr(thread, str_name_bytes);
    if (cached == NULL) {
        return NULL;
    }
    char small[128];
    int size = hilo_get_name(handle, small, sizeof small);
    if (size < 0 || ((size_t)size < sizeof small && PyBytes_Check(cached) &&
                     PyBytes_GET_SIZE(cached) == size &&
                     memcmp(PyBytes_AS_STRING(cached), small, (size_t)size) == 0)) {
        Py_DECREF(cached);
        return PyObject_GetAttr(thread, str_name);
    }
    /* Renamed from C, or too long for the buffer: hilo's name, whole. */
    PyObject *now = name_of(handle);
    if (now == NULL || now == Py_None) {
        Py_DECREF(cached);
        Py_XDECREF(now);
        return now == NULL ? NULL : PyObject_GetAttr(thread, str_name);
    }
    int equal = PyObject_RichCompareBool(now, cached, Py_EQ);
    Py_DECREF(cached);
    if (equal != 0) {
        Py_DECREF(now);
        return equal < 0 ? NULL : PyObject_GetAttr(thread, str_name);
    }
    PyObject *text =
        PyUnicode_DecodeUTF8(PyBytes_AS_STRING(now), PyBytes_GET_SIZE(now), "replace");
    Py_DECREF(now);
    return text;
}

static PyObject *set_name(PyObject *Py_UNUSED(module), PyObject *args) {
    unsigned long long handle;
    const char *text;
    if (!PyArg_ParseTuple(args, "Ky:set_name", &handle, &text)) {
        return NULL;
    }
    return PyLong_FromLong(hilo_set_name(handle, text));
}

static PyObject *set_daemon(PyObject *Py_UNUSED(module), PyObject *args) {
    unsigned long long handle;
    int daemon;
    if (!PyArg_ParseTuple(args, "Kp:set_daemon", &handle, &daemon)) {
        return NULL;
    }
    return PyLong_FromLong(hilo_set_daemon(handle, daemon != 0));
}

static PyObject *is_daemon(PyObject *Py_UNUSED(module), PyObject *arg) {
    hilo_thread_t handle;
    if (handle_of(arg, &handle) < 0) {
        return NULL;
    }
    return PyLong_FromLong(hilo_is_daemon(handle));
}

static PyObject *release(PyObject *Py_UNUSED(module), PyObject *arg) {
    hilo_thread_t handle;
    if (handle_of(arg, &handle) < 0) {
        return NULL;
    }
    return PyLong_FromLong(hilo_release(handle));
}

static PyObject *is_alive(PyObject *Py_UNUSED(module), PyObject *arg) {
    hilo_thread_t handle;
    if (handle_of(arg, &handle) < 0) {
        return NULL;
    }
    return PyLong_FromLong(hilo_is_alive(handle));
}

/* Reads a pointer that hilo/__init__.py got from one of hilo's _new
 * functions through ctypes (an int; never 0 for a live object). */
static void *pointer_of(PyObject *arg) {
    void *ptr = PyLong_AsVoidPtr(arg);
    if (ptr == NULL && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_ValueError, "hilo._hilo: a NULL object");
    }
    return ptr;
}

static int sem_wait_call(void *obj, double timeout) {
    return hilo_sem_acquire(obj, true, timeout);
}

/* sem_acquire(ptr, timeout) -> status: 1 taken, 0 not. timeout 0: do not
 * wait; negative: forever. The try runs with the GIL held. */
static PyObject *sem_acquire(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *ptr_obj;
    double timeout;
    if (!PyArg_ParseTuple(args, "Od:sem_acquire", &ptr_obj, &timeout)) {
        return NULL;
    }
    hilo_sem *sem = pointer_of(ptr_obj);
    if (sem == NULL) {
        return NULL;
    }
    int rc = hilo_sem_acquire(sem, false, -1);
    if (rc == 0 && timeout != 0) {
        rc = wait_released(sem_wait_call, sem, timeout);
    }
    return rc == PY_ERROR ? NULL : PyLong_FromLong(rc);
}

static int barrier_wait_call(void *obj, double timeout) {
    return hilo_barrier_wait(obj, timeout);
}

/* barrier_wait(ptr, timeout) -> status, with the GIL released (the action,
 * Python, runs in the last thread to arrive, which takes the GIL for it). An
 * interrupted waiter leaves the barrier unbroken (hilo_set_interruptible)
 * and arrives anew when it waits again, as CPython's. */
static PyObject *barrier_wait(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *ptr_obj;
    double timeout;
    if (!PyArg_ParseTuple(args, "Od:barrier_wait", &ptr_obj, &timeout)) {
        return NULL;
    }
    hilo_barrier *barrier = pointer_of(ptr_obj);
    if (barrier == NULL) {
        return NULL;
    }
    int rc = wait_released(barrier_wait_call, barrier, timeout);
    return rc == PY_ERROR ? NULL : PyLong_FromLong(rc);
}

/* The exit wait's helper: a daemon hilo thread that runs only C. */
static void *exit_wait_target(void *event) {
    hilo_shutdown();
    hilo_event_set(event);
    return NULL;
}

/* wait_for_exit(): hilo_shutdown (the wait for every started non-daemon
 * thread, C's included; joins of the main thread return from then on), run
 * in a daemon helper thread while this thread waits for it on an event, so
 * that the main thread's wait is interruptible like any other: Ctrl-C
 * raises KeyboardInterrupt here, as in CPython's shutdown. The helper then
 * goes on alone (and its event is left to it). */
static PyObject *wait_for_exit(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args)) {
    hilo_event *done = hilo_event_new();
    if (done == NULL) {
        return PyErr_NoMemory();
    }
    hilo_thread_t helper = 0;
    int rc = hilo_create(exit_wait_target, done, "hilo-exit-wait", &helper);
    if (rc == HILO_OK) {
        rc = hilo_set_daemon(helper, true);
        rc = rc == HILO_OK ? hilo_start(helper) : rc;
        if (rc != HILO_OK) {
            hilo_release(helper);
        }
    }
    if (rc != HILO_OK) {
        /* No helper (out of threads, or starts refused): wait here. */
        hilo_event_free(done);
        Py_BEGIN_ALLOW_THREADS
        hilo_shutdown();
        Py_END_ALLOW_THREADS
        Py_RETURN_NONE;
    }
    rc = wait_released(event_wait_call, done, -1);
    if (rc == PY_ERROR) {
        hilo_release(helper); /* it runs on, a daemon, and sets `done` */
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    hilo_join(helper, -1, NULL);
    Py_END_ALLOW_THREADS
    hilo_release(helper);
    hilo_event_free(done);
    Py_RETURN_NONE;
}


/* ------------------------------------------------------------ Executor */

/* hilo.ThreadPoolExecutor's C half: a hilo_executor whose tasks run Python.
 *
 * A task owns strong references to its concurrent.futures.Future, the
 * callable, its args and kwargs, and the initializer hook (or NULL). The
 * worker (a hilo thread named <prefix>_<i>) takes the GIL for each task
 * (PyGILState_Ensure), marks the future running, calls the callable and
 * stores its result or exception in the future, then drops the references
 * and frees the task. A task cancelled while queued never runs: its hilo
 * done callback (in the thread that cancelled it, which may or may not hold
 * the GIL) cancels the Python future and frees the task instead. */
typedef struct {
    PyObject *future, *fn, *args, *kwargs, *init;
} Task;

/* Whether this worker thread has run its executor's initializer (a hilo
 * worker serves one executor for its whole life). */
static _Thread_local bool worker_initialized;

static PyObject *str_set_running, *str_set_result, *str_set_exception, *str_cancel_py;

static void task_clear(Task *t) {
    Py_CLEAR(t->future);
    Py_CLEAR(t->fn);
    Py_CLEAR(t->args);
    Py_CLEAR(t->kwargs);
    Py_CLEAR(t->init);
    PyMem_RawFree(t);
}

/* Sets the raised exception (with its traceback) on the future. */
static void task_fail(PyObject *future) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL) {
        Py_XDECREF(type);
        Py_XDECREF(tb);
        return;
    }
    if (tb != NULL) {
        PyException_SetTraceback(value, tb);
    }
    PyObject *r = PyObject_CallMethodOneArg(future, str_set_exception, value);
    if (r == NULL) {
        PyErr_WriteUnraisable(future);
    }
    Py_XDECREF(r);
    Py_XDECREF(type);
    Py_DECREF(value);
    Py_XDECREF(tb);
}

/* A worker keeps one Python thread state for its life: made at its first
 * task (PyGILState_Ensure, then the GIL released with the state kept), so a
 * task's PyGILState_Ensure only takes the GIL rather than making and
 * deleting a thread state each time (which cost more than CPython's whole
 * hand-off). Deleted when the worker thread ends (a pthread key's
 * destructor), unless the interpreter is finalising by then. */
static pthread_key_t worker_state_key;
/* hilo/__init__.py's _worker_started() and _worker_ended(): register the
 * worker's Thread object (threading.current_thread() and logging's
 * %(threadName)s then give its hilo name), and drop it. */
static PyObject *worker_started_hook, *worker_ended_hook;

static void call_hook(PyObject *hook) {
    if (hook == NULL) {
        return;
    }
    PyObject *r = PyObject_CallNoArgs(hook);
    if (r == NULL) {
        PyErr_WriteUnraisable(hook);
    }
    Py_XDECREF(r);
}

static void worker_state_end(void *tstate) {
    if (tstate == NULL || _Py_IsFinalizing()) {
        return;
    }
    /* What PyGILState_Release does when its count falls to 0; called
     * directly, as CPython's own lookup of the thread's state (a TLS key of
     * its own) may already be cleared while threads' key destructors run. */
    PyEval_RestoreThread(tstate);
    call_hook(worker_ended_hook);
    PyThreadState_Clear(tstate);
    PyThreadState_DeleteCurrent(); /* releases the GIL */
}

static void worker_state_keep(void) {
    if (pthread_getspecific(worker_state_key) != NULL) {
        return;
    }
    PyGILState_Ensure();
    call_hook(worker_started_hook);
    PyThreadState *tstate = PyEval_SaveThread();
    pthread_setspecific(worker_state_key, tstate);
}

static void *task_run(void *arg) {
    Task *t = arg;
    worker_state_keep();
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *go = PyObject_CallMethodNoArgs(t->future, str_set_running);
    int run = go == NULL ? -1 : PyObject_IsTrue(go);
    Py_XDECREF(go);
    if (run < 0) {
        PyErr_WriteUnraisable(t->future);
    } else if (run) {
        PyObject *result = NULL;
        if (t->init != NULL) {
            /* init(first) -> None, or the exception to set (the pool is
             * broken: its initializer failed). */
            PyObject *broken = PyObject_CallOneArg(t->init, worker_initialized ? Py_False : Py_True);
            worker_initialized = true;
            if (broken == NULL) {
                task_fail(t->future);
                goto done;
            }
            if (broken != Py_None) {
                PyErr_SetObject((PyObject *)Py_TYPE(broken), broken);
                Py_DECREF(broken);
                task_fail(t->future);
                goto done;
            }
            Py_DECREF(broken);
        }
        result = PyObject_Call(t->fn, t->args, t->kwargs);
        if (result == NULL) {
            task_fail(t->future);
        } else {
            PyObject *r = PyObject_CallMethodOneArg(t->future, str_set_result, result);
            if (r == NULL) {
                PyErr_WriteUnraisable(t->future);
            }
            Py_XDECREF(r);
            Py_DECREF(result);
        }
    }
done:
    task_clear(t);
    PyGILState_Release(gil);
    return NULL;
}

/* hilo done callback: frees a task that was cancelled before it ran (one
 * that ran was freed by task_run, and its pointer is not read here). */
static void task_done(hilo_future *f, void *arg) {
    if (hilo_future_cancelled(f) != 1) {
        return;
    }
    Task *t = arg;
    PyGILState_STATE gil = PyGILState_Ensure();
    PyObject *r = PyObject_CallMethodNoArgs(t->future, str_cancel_py);
    if (r == NULL) {
        PyErr_WriteUnraisable(t->future);
    }
    Py_XDECREF(r);
    task_clear(t);
    PyGILState_Release(gil);
}

static void future_capsule_free(PyObject *capsule) {
    hilo_future_free(PyCapsule_GetPointer(capsule, "hilo_future"));
}

typedef struct {
    PyObject_HEAD
    hilo_executor *ex;
    PyObject *init; /* the initializer hook, or NULL */
} ExecutorObject;

/* Executors collected without shutdown(wait=True): shut down (their queued
 * work still runs) but not freed, which would wait for that work in the
 * collecting thread; the exit hook (reap) waits for them and frees them. */
typedef struct Orphan {
    hilo_executor *ex;
    struct Orphan *next;
} Orphan;
static Orphan *orphans;

/* _Executor(max_workers, prefix: bytes, init=None) */
static PyObject *executor_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"max_workers", "prefix", "init", NULL};
    Py_ssize_t max_workers;
    const char *prefix;
    PyObject *init = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "ny|O:_Executor", kwlist, &max_workers,
                                     &prefix, &init)) {
        return NULL;
    }
    if (max_workers <= 0) {
        PyErr_SetString(PyExc_ValueError, "max_workers must be greater than 0");
        return NULL;
    }
    ExecutorObject *self = (ExecutorObject *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->ex = hilo_executor_new((size_t)max_workers, prefix);
    if (init != Py_None) {
        Py_INCREF(init);
        self->init = init;
    }
    return (PyObject *)self;
}

/* submit(future, fn, args, kwargs) -> capsule of the hilo_future. */
static PyObject *executor_submit(ExecutorObject *self, PyObject *args) {
    PyObject *future, *fn, *fargs, *fkwargs;
    if (!PyArg_ParseTuple(args, "OOO!O:submit", &future, &fn, &PyTuple_Type, &fargs, &fkwargs)) {
        return NULL;
    }
    Task *t = PyMem_RawMalloc(sizeof *t);
    if (t == NULL) {
        return PyErr_NoMemory();
    }
    Py_INCREF(future);
    Py_INCREF(fn);
    Py_INCREF(fargs);
    t->future = future;
    t->fn = fn;
    t->args = fargs;
    t->kwargs = NULL;
    if (fkwargs != Py_None) {
        Py_INCREF(fkwargs);
        t->kwargs = fkwargs;
    }
    t->init = self->init;
    Py_XINCREF(t->init);
    hilo_future *f = NULL;
    int rc = hilo_executor_submit(self->ex, task_run, t, &f);
    if (rc != HILO_OK) {
        task_clear(t);
        return raise_status(rc);
    }
    PyObject *capsule = PyCapsule_New(f, "hilo_future", future_capsule_free);
    /* From here the task may run (or be cancelled by another thread's
     * shutdown) at any time; task_done frees it only if it was cancelled. */
    hilo_future_add_done_callback(f, task_done, t);
    if (capsule == NULL) {
        hilo_future_free(f);
    }
    return capsule;
}

/* cancel(capsule) -> bool: hilo_future_cancel; its done callback cancels
 * the Python future here when it was queued. */
static PyObject *executor_cancel(PyObject *Py_UNUSED(module), PyObject *capsule) {
    hilo_future *f = PyCapsule_GetPointer(capsule, "hilo_future");
    if (f == NULL) {
        return NULL;
    }
    int rc = hilo_future_cancel(f);
    if (rc < 0) {
        return raise_status(rc);
    }
    return PyBool_FromLong(rc == 1);
}

/* What executor_shutdown_call is given. */
typedef struct {
    hilo_executor *ex;
    bool cancel;
} ShutdownCall;

static int executor_shutdown_call(void *obj, double timeout) {
    (void)timeout; /* none: the wait is a join of every worker */
    ShutdownCall *call = obj;
    return hilo_executor_shutdown(call->ex, true, call->cancel);
}

/* shutdown(wait, cancel_futures), with the GIL released (the workers need
 * it to finish; cancelled tasks' callbacks take it here). The wait is
 * interruptible in the main thread (wait_released): Ctrl-C raises
 * KeyboardInterrupt, as in CPython's join of its workers; the executor is
 * shut down all the same, and a handler that does not raise lets the wait
 * go on (hilo_executor_shutdown again, which waits again). */
static PyObject *executor_shutdown(ExecutorObject *self, PyObject *args) {
    int wait, cancel;
    if (!PyArg_ParseTuple(args, "pp:shutdown", &wait, &cancel)) {
        return NULL;
    }
    int rc;
    if (wait) {
        ShutdownCall call = {self->ex, cancel != 0};
        rc = wait_released(executor_shutdown_call, &call, -1);
        if (rc == PY_ERROR) {
            return NULL;
        }
    } else {
        Py_BEGIN_ALLOW_THREADS
        rc = hilo_executor_shutdown(self->ex, false, cancel != 0);
        Py_END_ALLOW_THREADS
    }
    if (rc != HILO_OK) {
        return raise_status(rc);
    }
    Py_RETURN_NONE;
}

static void executor_dealloc(ExecutorObject *self) {
    if (self->ex != NULL) {
        hilo_executor_shutdown(self->ex, false, false);
        Orphan *o = PyMem_RawMalloc(sizeof *o);
        if (o != NULL) {
            o->ex = self->ex;
            o->next = orphans;
            orphans = o;
        }
    }
    Py_CLEAR(self->init);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* reap(): waits for the work of the collected executors and frees them, with
 * the GIL released (the exit hook). The wait is interruptible as
 * executor_shutdown's; an executor whose wait was interrupted stays listed
 * (not freed: its workers may still run). */
static PyObject *executor_reap(PyObject *Py_UNUSED(module), PyObject *Py_UNUSED(args)) {
    while (orphans != NULL) {
        Orphan *o = orphans;
        orphans = o->next;
        ShutdownCall call = {o->ex, false};
        int rc = wait_released(executor_shutdown_call, &call, -1);
        if (rc == PY_ERROR) {
            o->next = orphans; /* the GIL is held again */
            orphans = o;
            return NULL;
        }
        Py_BEGIN_ALLOW_THREADS
        hilo_executor_free(o->ex);
        Py_END_ALLOW_THREADS
        PyMem_RawFree(o);
    }
    Py_RETURN_NONE;
}

/* set_executor_hooks(started, ended) */
static PyObject *set_executor_hooks(PyObject *Py_UNUSED(module), PyObject *args) {
    PyObject *started, *ended;
    if (!PyArg_ParseTuple(args, "OO:set_executor_hooks", &started, &ended)) {
        return NULL;
    }
    Py_INCREF(started);
    Py_XSETREF(worker_started_hook, started);
    Py_INCREF(ended);
    Py_XSETREF(worker_ended_hook, ended);
    Py_RETURN_NONE;
}

static PyMethodDef executor_methods[] = {
    {"submit", (PyCFunction)executor_submit, METH_VARARGS, "submit(future, fn, args, kwargs)"},
    {"shutdown", (PyCFunction)executor_shutdown, METH_VARARGS, "shutdown(wait, cancel_futures)"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject Executor_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "hilo._hilo._Executor",
    .tp_basicsize = sizeof(ExecutorObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The C half of hilo.ThreadPoolExecutor: a hilo_executor running Python tasks.",
    .tp_new = executor_new,
    .tp_dealloc = (destructor)executor_dealloc,
    .tp_methods = executor_methods,
};

static PyMethodDef module_methods[] = {
    {"future_cancel", executor_cancel, METH_O, NULL},
    {"executor_reap", executor_reap, METH_NOARGS, NULL},
    {"set_executor_hooks", set_executor_hooks, METH_VARARGS, NULL},
    {"wait_for_exit", wait_for_exit, METH_NOARGS, NULL},
    {"sem_acquire", sem_acquire, METH_VARARGS, NULL},
    {"barrier_wait", barrier_wait, METH_VARARGS, NULL},
    {"allocate_lock", allocate_lock, METH_NOARGS, "A new hilo lock."},
    {"set_bootstrap", set_bootstrap, METH_O, NULL},
    {"set_main_thread", set_main_thread, METH_NOARGS, NULL},
    {"create", create, METH_VARARGS, NULL},
    {"start", start, METH_O, NULL},
    {"join", join, METH_VARARGS, NULL},
    {"name", name, METH_O, NULL},
    {"is_alive", is_alive, METH_O, NULL},
    {"set_current_thread_hooks", set_current_thread_hooks, METH_VARARGS, NULL},
    {"current_thread", current_thread, METH_NOARGS, "The Thread object of the calling thread."},
    {"thread_name", thread_name, METH_O, NULL},
    {"set_name", set_name, METH_VARARGS, NULL},
    {"set_daemon", set_daemon, METH_VARARGS, NULL},
    {"is_daemon", is_daemon, METH_O, NULL},
    {"release", release, METH_O, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "hilo._hilo",
    "The hilo binding's compiled hot paths (see hilo/__init__.py).", -1, module_methods,
    NULL, NULL, NULL, NULL,
};

static int add_type(PyObject *module, PyTypeObject *type, const char *name) {
    if (PyType_Ready(type) < 0) {
        return -1;
    }
    return PyModule_AddObjectRef(module, name, (PyObject *)type);
}

PyMODINIT_FUNC PyInit__hilo(void) {
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) {
        return NULL;
    }
    main_ident = PyThread_get_thread_ident();
    str_handle = PyUnicode_InternFromString("_handle");
    str_name = PyUnicode_InternFromString("_name");
    str_name_bytes = PyUnicode_InternFromString("_name_bytes");
    if (pthread_key_create(&worker_state_key, worker_state_end) != 0) {
        Py_DECREF(module);
        return PyErr_NoMemory();
    }
    str_set_running = PyUnicode_InternFromString("set_running_or_notify_cancel");
    str_set_result = PyUnicode_InternFromString("set_result");
    str_set_exception = PyUnicode_InternFromString("set_exception");
    str_cancel_py = PyUnicode_InternFromString("_cancel_queued");
    if (str_handle == NULL || str_name == NULL || str_name_bytes == NULL ||
        str_set_running == NULL || str_set_result == NULL || str_set_exception == NULL ||
        str_cancel_py == NULL) {
        Py_DECREF(module);
        return NULL;
    }
    if (add_type(module, &Lock_Type, "lock") < 0 || add_type(module, &RLock_Type, "RLock") < 0 ||
        add_type(module, &Cond_Type, "_Cond") < 0 || add_type(module, &Event_Type, "_Event") < 0 ||
        add_type(module, &Executor_Type, "_Executor") < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
