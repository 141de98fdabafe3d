"""hilo: Python's ``threading`` module on top of the hilo C library.

``import hilo as threading`` and the code runs unchanged: threads are hilo
threads (named, joinable with a timeout, daemon or not, visible to C code and
to ``ps``/``gdb`` under their names), and the locks, events, conditions,
semaphores and barriers are hilo's.

The library is loaded from, in this order: the path in the ``HILO_LIB``
environment variable; the ``libhilo.so.0`` bundled in this package (``pip
install``); the repository's ``target/release/libhilo.so``; the system
(``libhilo.so.0``). The compiled module ``hilo._hilo`` (locks, events,
conditions, thread start and join) links with that same library by its soname,
so C code, ctypes and the extension share one hilo in the process; the rest of
the API goes through ctypes.

How a hilo thread runs Python: every hilo thread started from here runs one C
function of ``hilo._hilo``, which takes a fresh Python thread state for the
thread's life. While ``run()`` runs, the ``Thread`` object is registered in CPython's
``threading._active`` under the thread's ident, so ``threading.current_thread()``
(and so ``logging``'s ``%(threadName)s``) sees the hilo thread and its name.

Exit: non-daemon hilo threads are waited for before the interpreter finalises
(``hilo_shutdown`` runs from a ``threading._register_atexit`` hook and again
from an ``atexit`` hook). ``start()`` returns only once the new thread is
inside Python, as CPython's does, so no hilo thread can first enter the
interpreter while it finalises; daemon threads still running then are stopped
by CPython exactly like its own daemon threads.
"""

import _thread
import atexit as _atexit
import ctypes as _ctypes
import ctypes.util as _ctypes_util
import itertools as _itertools
import operator as _operator
import os as _os
import sys as _sys
import threading as _threading
import weakref as _weakref
from collections import deque as _deque
from time import monotonic as _time

# CPython 3.11's: the deprecated camelCase aliases exist but are not exported.
__all__ = [
    "get_ident", "active_count", "Condition", "current_thread", "enumerate",
    "main_thread", "TIMEOUT_MAX", "Event", "Lock", "RLock", "Semaphore",
    "BoundedSemaphore", "Thread", "Barrier", "BrokenBarrierError", "Timer",
    "ThreadError", "ExceptHookArgs", "setprofile", "settrace", "local",
    "stack_size", "excepthook", "get_native_id", "getprofile", "gettrace",
]

get_ident = _thread.get_ident
get_native_id = _thread.get_native_id
ThreadError = _thread.error
TIMEOUT_MAX = _thread.TIMEOUT_MAX
ExceptHookArgs = _threading.ExceptHookArgs
__excepthook__ = _threading.__excepthook__
# The same class as threading's, so `except threading.BrokenBarrierError`
# catches hilo's too in code that mixes both modules.
BrokenBarrierError = _threading.BrokenBarrierError
# Python objects in thread-local storage: CPython's own, which is correct for
# hilo threads because each runs Python in one thread state for its whole
# life. (hilo_local holds C pointers whose destructors would run after the
# thread left Python; see the docs.)
local = _thread._local

# Status codes (include/hilo.h).
HILO_OK = 0
HILO_EINVAL = -1
HILO_ESRCH = -2
HILO_ESTATE = -3
HILO_EDEADLK = -4
HILO_ETIMEDOUT = -5
HILO_EAGAIN = -6
HILO_EBROKEN = -7
HILO_EINTERNAL = -8
_FOREVER = -1.0


# ---------------------------------------------------------------------------
# Loading the library


def _candidates():
    here = _os.path.dirname(_os.path.abspath(__file__))
    yield _os.path.join(here, "libhilo.so.0")
    yield _os.path.join(here, "..", "..", "..", "target", "release", "libhilo.so")


def _load():
    # Loaded before hilo._hilo: the extension's own need for libhilo.so.0 is
    # then met by this library (the loader matches it by its soname).
    env = _os.environ.get("HILO_LIB")
    if env:
        path = _os.path.join(env, "libhilo.so") if _os.path.isdir(env) else env
        try:
            return _ctypes.CDLL(path, _os.RTLD_GLOBAL), path
        except OSError as e:
            raise ImportError("HILO_LIB=%s: cannot load it: %s" % (env, e)) from e
    for path in _candidates():
        if _os.path.exists(path):
            return _ctypes.CDLL(path, _os.RTLD_GLOBAL), _os.path.normpath(path)
    for name in (_ctypes_util.find_library("hilo"), "libhilo.so.0", "libhilo.so"):
        if name:
            try:
                return _ctypes.CDLL(name, _os.RTLD_GLOBAL), name
            except OSError:
                pass
    raise ImportError(
        "cannot find libhilo.so: set HILO_LIB to its path, build it with "
        "`cargo build --release`, or install it with `make install`"
    )


_lib_handle, LIBRARY_PATH = _load()
try:
    from . import _hilo  # noqa: E402  (after the library it links with)
except ImportError as _e:
    raise ImportError(
        "hilo's compiled module hilo._hilo is missing or does not load (%s): install "
        "the package with `pip install ./bindings/python`, or build it in place with "
        "bindings/python/build_inplace.sh" % _e) from _e

_c_int = _ctypes.c_int
_c_double = _ctypes.c_double
_c_bool = _ctypes.c_bool
_c_size_t = _ctypes.c_size_t
_c_void_p = _ctypes.c_void_p
_c_char_p = _ctypes.c_char_p
_thread_t = _ctypes.c_uint64
_HILO_FN = _ctypes.CFUNCTYPE(_c_void_p, _c_void_p)

_SIGNATURES = {
    # Sections 1-4: threads.
    "hilo_strerror": (_c_char_p, [_c_int]),
    "hilo_last_error": (_c_char_p, []),
    "hilo_create": (_c_int, [_HILO_FN, _c_void_p, _c_char_p, _ctypes.POINTER(_thread_t)]),
    "hilo_start": (_c_int, [_thread_t]),
    "hilo_join": (_c_int, [_thread_t, _c_double, _ctypes.POINTER(_c_void_p)]),
    "hilo_is_alive": (_c_int, [_thread_t]),
    "hilo_set_daemon": (_c_int, [_thread_t, _c_bool]),
    "hilo_is_daemon": (_c_int, [_thread_t]),
    "hilo_release": (_c_int, [_thread_t]),
    "hilo_set_name": (_c_int, [_thread_t, _c_char_p]),
    "hilo_get_name": (_c_int, [_thread_t, _c_char_p, _c_size_t]),
    "hilo_current_name": (_c_char_p, []),
    "hilo_current": (_thread_t, []),
    "hilo_main_thread": (_thread_t, []),
    "hilo_native_id": (_ctypes.c_int64, [_thread_t]),
    "hilo_active_count": (_c_size_t, []),
    "hilo_enumerate": (_c_size_t, [_ctypes.POINTER(_thread_t), _c_size_t]),
    "hilo_shutdown": (_c_int, []),
    "hilo_abandon_exit_wait": (_c_int, []),
    "hilo_set_stack_size": (_c_int, [_c_size_t]),
    "hilo_get_stack_size": (_c_size_t, []),
    "hilo_version": (_c_char_p, []),
    "hilo_dump": (_c_int, [_c_int]),
    "hilo_dump_on_signal": (_c_int, [_c_int, _c_int]),
    # Section 5: the sync objects (opaque pointers).
    "hilo_event_new": (_c_void_p, []),
    "hilo_event_free": (None, [_c_void_p]),
    "hilo_event_set": (_c_int, [_c_void_p]),
    "hilo_event_clear": (_c_int, [_c_void_p]),
    "hilo_event_is_set": (_c_int, [_c_void_p]),
    "hilo_event_wait": (_c_int, [_c_void_p, _c_double]),
    "hilo_lock_new": (_c_void_p, []),
    "hilo_lock_free": (None, [_c_void_p]),
    "hilo_lock_acquire": (_c_int, [_c_void_p, _c_bool, _c_double]),
    "hilo_lock_release": (_c_int, [_c_void_p]),
    "hilo_lock_locked": (_c_int, [_c_void_p]),
    "hilo_rlock_new": (_c_void_p, []),
    "hilo_rlock_free": (None, [_c_void_p]),
    "hilo_rlock_acquire": (_c_int, [_c_void_p, _c_bool, _c_double]),
    "hilo_rlock_release": (_c_int, [_c_void_p]),
    "hilo_rlock_locked": (_c_int, [_c_void_p]),
    "hilo_cond_new": (_c_void_p, []),
    "hilo_cond_new_with_lock": (_c_void_p, [_c_void_p]),
    "hilo_cond_new_with_rlock": (_c_void_p, [_c_void_p]),
    "hilo_cond_free": (None, [_c_void_p]),
    "hilo_cond_acquire": (_c_int, [_c_void_p, _c_bool, _c_double]),
    "hilo_cond_release": (_c_int, [_c_void_p]),
    "hilo_cond_wait": (_c_int, [_c_void_p, _c_double]),
    "hilo_cond_notify": (_c_int, [_c_void_p, _c_size_t]),
    "hilo_cond_notify_all": (_c_int, [_c_void_p]),
    "hilo_sem_new": (_c_void_p, [_ctypes.c_uint]),
    "hilo_sem_new_bounded": (_c_void_p, [_ctypes.c_uint]),
    "hilo_sem_free": (None, [_c_void_p]),
    "hilo_sem_acquire": (_c_int, [_c_void_p, _c_bool, _c_double]),
    "hilo_sem_release": (_c_int, [_c_void_p, _ctypes.c_uint]),
    "hilo_sem_value": (_ctypes.c_int64, [_c_void_p]),
    "hilo_barrier_new": (_c_void_p, [_ctypes.c_uint, _HILO_FN, _c_void_p, _c_double]),
    "hilo_barrier_free": (None, [_c_void_p]),
    "hilo_barrier_wait": (_c_int, [_c_void_p, _c_double]),
    "hilo_barrier_abort": (_c_int, [_c_void_p]),
    "hilo_barrier_reset": (_c_int, [_c_void_p]),
    "hilo_barrier_n_waiting": (_c_int, [_c_void_p]),
    "hilo_barrier_parties": (_c_int, [_c_void_p]),
    "hilo_barrier_broken": (_c_int, [_c_void_p]),
}

# Calls that may wait go through CDLL, which releases the GIL around them.
# Every other call is quick and never waits on anything a Python thread
# holds, so it goes through PyDLL and keeps the GIL: a ctypes call that
# released it would hand the GIL to a waiting thread at every `name` lookup
# (and logging looks the name up on every record), which changes how threads
# interleave compared with CPython's threading.
def _may_wait(name):
    # Barriers run their action (Python) while other threads wait inside.
    # A dump reads every thread's stack: released, as for a wait.
    return (name in ("hilo_join", "hilo_shutdown")
            or name.startswith(("hilo_barrier_", "hilo_dump"))
            or name.endswith(("_wait", "_acquire")))


class _Functions:
    """The library's functions, each with its signature set."""


_lib_waiting = _lib_handle
_lib_quick = _ctypes.PyDLL(_lib_handle._name)
_lib = _Functions()
_MISSING = set()
for _name, (_restype, _argtypes) in _SIGNATURES.items():
    try:
        _fn = getattr(_lib_waiting if _may_wait(_name) else _lib_quick, _name)
    except AttributeError:
        _MISSING.add(_name)
        continue
    _fn.restype = _restype
    _fn.argtypes = _argtypes
    setattr(_lib, _name, _fn)
del _name, _restype, _argtypes


def _has(*symbols):
    """True when the loaded library exports every one of `symbols`."""
    return not any(s in _MISSING for s in symbols)


def _require(*symbols):
    missing = [s for s in symbols if s in _MISSING]
    if missing:
        raise NotImplementedError(
            "%s does not export %s: this libhilo has no sync objects yet"
            % (LIBRARY_PATH, ", ".join(missing))
        )


_missing_sections_1_4 = [s for s in _MISSING if not s.startswith(("hilo_event", "hilo_lock",
                                                                   "hilo_rlock", "hilo_cond",
                                                                   "hilo_sem", "hilo_barrier",
                                                                   "hilo_dump"))]
if _missing_sections_1_4:
    raise ImportError("%s lacks %s" % (LIBRARY_PATH, ", ".join(sorted(_missing_sections_1_4))))


def _last_error():
    return (_lib.hilo_last_error() or b"").decode("utf-8", "replace")


def _raise(status, exc=RuntimeError, message=None):
    """Raises the Python exception for a negative hilo status."""
    text = message or _last_error() or _lib.hilo_strerror(status).decode()
    if status == HILO_EINVAL:
        raise ValueError(text)
    if status == HILO_EBROKEN:
        raise BrokenBarrierError
    if status == HILO_EINTERNAL:
        raise SystemError("hilo: " + text)
    raise exc(text)


def _check(status):
    if status < 0:
        _raise(status)
    return status


def _timeout_arg(timeout):
    """A Python timeout (None: forever; negative: do not wait) for C."""
    if timeout is None:
        return _FOREVER
    return max(float(timeout), 0.0)


def _deprecated(text):
    """A DeprecationWarning about the caller's caller, as CPython's aliases give."""
    import warnings
    warnings.warn(text, DeprecationWarning, stacklevel=3)


# Ctrl-C: a wait in the main thread (hilo._hilo's wait_released) is
# interruptible (hilo_set_interruptible): when a signal handler ran, hilo
# answers HILO_EINTR, Python's handlers run (KeyboardInterrupt), and the wait
# resumes for what is left of its timeout, as CPython's; no periodic wake-ups.


# ---------------------------------------------------------------------------
# Threads

_keys = _itertools.count(1)
# Threads between start() and the moment their hilo thread enters Python.
_starting = {}
# ident -> Thread, for the hilo threads running Python now.
_running = {}
# handle -> Thread objects made here (weakly), to map hilo_enumerate back.
_by_handle = _weakref.WeakValueDictionary()
_start_lock = _thread.allocate_lock()
_exiting = False
_main_ident = _threading.main_thread().ident

_trace_hook = None
_profile_hook = None
# Every Thread object made here, weakly: test.support's threading_helper
# reads CPython's (threading._dangling) to find threads a test left behind.
_dangling = _weakref.WeakSet()


def _bootstrap(key):
    """The target of every hilo thread started from Python (a ctypes callback,
    which holds a fresh thread state). Never lets an exception out."""
    try:
        thread = _starting.pop(key, None)
        if thread is not None:
            thread._bootstrap_inner()
    except BaseException:  # noqa: B036 - nothing may escape into C
        pass
    return None


# hilo._hilo keeps its own reference: a daemon thread may still be inside it
# while the interpreter finalises.
_hilo.set_bootstrap(_bootstrap)


def _encode_name(name):
    data = name.encode("utf-8", "surrogatepass")
    return data.split(b"\0", 1)[0]


_hilo_name = _hilo.name


class Thread:
    """A thread of control: a hilo thread that runs `run()`, which calls
    `target(*args, **kwargs)` unless a subclass overrides it."""

    _initialized = False

    def __init__(self, group=None, target=None, name=None, args=(), kwargs=None, *,
                 daemon=None):
        assert group is None, "group argument must be None for now"
        if kwargs is None:
            kwargs = {}
        self._target = target
        self._args = args
        self._kwargs = kwargs
        self._key = next(_keys)
        self._ident = None
        self._native_id = None
        self._started = False
        self._is_stopped = False
        self._started_lock = None
        self._stderr = _sys.stderr
        self._owned = True
        self._handle = 0
        if name:
            name = str(name)
        encoded = _encode_name(name) if name else None
        rc, handle = _hilo.create(self._key, encoded or None)
        _check(rc)
        self._handle = handle
        if name:
            self._name, self._name_bytes = name, encoded
        else:
            # hilo made "Thread-N" from its process-wide counter.
            base = _hilo_name(self._handle).decode()
            name = base
            if target is not None:
                try:
                    name = "%s (%s)" % (base, target.__name__)
                except AttributeError:
                    pass
            self._name, self._name_bytes = name, _encode_name(name)
            if name != base:
                _check(_hilo.set_name(self._handle, self._name_bytes))
        if daemon is None:
            daemon = current_thread().daemon
        _check(_hilo.set_daemon(self._handle, bool(daemon)))
        _by_handle[self._handle] = self
        _dangling.add(self)
        self._initialized = True

    def __del__(self):
        handle = self.__dict__.get("_handle")
        if handle and self.__dict__.get("_owned"):
            try:
                _hilo.release(handle)
            except Exception:
                pass

    def __repr__(self):
        assert self._initialized, "Thread.__init__() was not called"
        status = "initial"
        if self._started:
            status = "started"
            if not self.is_alive():
                status = "stopped"
        if self.daemon:
            status += " daemon"
        if self._ident is not None:
            status += " %s" % self._ident
        return "<%s(%s, %s)>" % (self.__class__.__name__, self.name, status)

    def start(self):
        """Starts the thread; at most once per Thread object. Returns once the
        new thread runs."""
        if not self._initialized:
            raise RuntimeError("thread.__init__() not called")
        if self._started:
            raise RuntimeError("threads can only be started once")
        started = _thread.allocate_lock()
        started.acquire()
        self._started_lock = started
        with _start_lock:
            if _exiting:
                raise RuntimeError("can't create new thread at interpreter shutdown")
            with _threading._active_limbo_lock:
                _threading._limbo[self] = self
            _starting[self._key] = self
            rc = _hilo.start(self._handle)
            if rc < 0:
                text = _last_error()
                _starting.pop(self._key, None)
                with _threading._active_limbo_lock:
                    _threading._limbo.pop(self, None)
                if rc == HILO_EAGAIN:
                    raise RuntimeError("can't start new thread")
                _raise(rc, message=text)
            self._started = True
        started.acquire()

    def _bootstrap_inner(self):
        ident = _thread.get_ident()
        try:
            self._ident = ident
            self._native_id = _thread.get_native_id()
            with _threading._active_limbo_lock:
                _threading._active[ident] = self
                _threading._limbo.pop(self, None)
            _running[ident] = self
        finally:
            self._started_lock.release()
        try:
            trace = _trace_hook or getattr(_threading, "_trace_hook", None)
            profile = _profile_hook or getattr(_threading, "_profile_hook", None)
            if trace:
                _sys.settrace(trace)
            if profile:
                _sys.setprofile(profile)
            self.run()
        except SystemExit:
            pass
        except BaseException:  # noqa: B036 - reported like CPython's
            self._invoke_excepthook()
        finally:
            _running.pop(ident, None)
            with _threading._active_limbo_lock:
                if _threading._active.get(ident) is self:
                    del _threading._active[ident]

    def _invoke_excepthook(self):
        exc_type, exc_value, exc_tb = _sys.exc_info()
        try:
            hook = excepthook
            if hook is None:
                hook = __excepthook__
            hook(ExceptHookArgs((exc_type, exc_value, exc_tb, self)))
        except SystemExit:
            pass
        except BaseException:  # noqa: B036
            if _sys.stderr is not None:
                _sys.stderr.write("Exception in threading.excepthook:\n")
                _sys.stderr.flush()
            _sys.excepthook(*_sys.exc_info())
        finally:
            exc_type = exc_value = exc_tb = None

    def run(self):
        """What the thread does; calls the target unless overridden."""
        try:
            if self._target is not None:
                self._target(*self._args, **self._kwargs)
        finally:
            del self._target, self._args, self._kwargs

    def join(self, timeout=None):
        """Waits until the thread ends, or `timeout` seconds. Returns None;
        call is_alive() to know which."""
        if not self._initialized:
            raise RuntimeError("Thread.__init__() not called")
        if not self._started:
            raise RuntimeError("cannot join thread before it is started")
        if self is current_thread():
            raise RuntimeError("cannot join current thread")
        rc = _hilo.join(self._handle, _timeout_arg(timeout))
        if rc < 0 and rc != HILO_ETIMEDOUT:
            _raise(rc)

    def _set_name(self, name):
        assert self._initialized, "Thread.__init__() not called"
        name = str(name)
        encoded = _encode_name(name)
        _check(_hilo.set_name(self._handle, encoded))
        self._name, self._name_bytes = name, encoded

    # The getter is C (hilo._hilo.thread_name): the name hilo holds, which C
    # code may have changed, as the str set here when it is the same.
    name = property(_hilo.thread_name, _set_name)

    @property
    def ident(self):
        assert self._initialized, "Thread.__init__() not called"
        return self._ident

    @property
    def native_id(self):
        assert self._initialized, "Thread.__init__() not called"
        return self._native_id

    def is_alive(self):
        assert self._initialized, "Thread.__init__() not called"
        if not self._started or self._is_stopped:
            return False
        return _hilo.is_alive(self._handle) == 1

    @property
    def daemon(self):
        assert self._initialized, "Thread.__init__() not called"
        return _hilo.is_daemon(self._handle) == 1

    @daemon.setter
    def daemon(self, daemonic):
        if not self._initialized:
            raise RuntimeError("Thread.__init__() not called")
        if self._started:
            raise RuntimeError("cannot set daemon status of active thread")
        _check(_hilo.set_daemon(self._handle, bool(daemonic)))

    def isDaemon(self):
        _deprecated("isDaemon() is deprecated, get the daemon attribute instead")
        return self.daemon

    def setDaemon(self, daemonic):
        _deprecated("setDaemon() is deprecated, set the daemon attribute instead")
        self.daemon = daemonic

    def getName(self):
        _deprecated("getName() is deprecated, get the name attribute instead")
        return self.name

    def setName(self, name):
        _deprecated("setName() is deprecated, set the name attribute instead")
        self.name = name

    def isAlive(self):
        """Removed from CPython in 3.9; kept here for old tutorials."""
        _deprecated("isAlive() is deprecated, use is_alive() instead")
        return self.is_alive()

    # Called by CPython's threading._after_fork on objects in threading._active.
    def _reset_internal_locks(self, is_alive):
        if not is_alive:
            self._is_stopped = True

    def _stop(self):
        self._is_stopped = True

    def _after_fork(self, new_ident=None):
        if new_ident is not None:
            self._ident = new_ident
        else:
            self._is_stopped = True


class _HandleThread(Thread):
    """A thread this module did not start: the main thread, or a thread a C
    program started or a foreign thread hilo registered (a "dummy")."""

    def __init__(self, handle, ident=None):
        self._handle = handle
        self._owned = False
        self._key = 0
        self._target = None
        self._args, self._kwargs = (), {}
        self._ident = ident
        native = _lib.hilo_native_id(handle)
        self._native_id = native if native > 0 else None
        self._started = True
        self._is_stopped = False
        self._stderr = _sys.stderr
        name = _hilo_name(handle) or b""
        self._name, self._name_bytes = name.decode("utf-8", "replace"), name
        self._initialized = True

    def start(self):
        raise RuntimeError("threads can only be started once")


class _MainThread(_HandleThread):
    @Thread.name.setter
    def name(self, name):
        Thread.name.fset(self, name)
        # CPython's own main thread object keeps logging's %(threadName)s.
        _threading.main_thread().name = self._name


class _ForeignThread(_HandleThread):
    def join(self, timeout=None):
        if _lib.hilo_is_daemon(self._handle) == 1 and not self.is_alive():
            return
        super().join(timeout)


_main_thread = _MainThread(_lib.hilo_main_thread(), _main_ident)
_by_handle[_main_thread._handle] = _main_thread


def _current_thread_slow():
    """current_thread() for a thread not in _running: the main thread's
    object, or CPython's for a thread its threading (or foreign code) started."""
    if _thread.get_ident() == _main_ident:
        return _main_thread
    return _threading.current_thread()


# The Thread object of the calling thread: one dict lookup in C (_running,
# which holds the main thread too), _current_thread_slow otherwise.
current_thread = _hilo.current_thread
_running[_main_ident] = _main_thread
_hilo.set_current_thread_hooks(_running, _current_thread_slow)


def currentThread():
    _deprecated("currentThread() is deprecated, use current_thread() instead")
    return current_thread()


def main_thread():
    return _main_thread


def enumerate():
    """Every thread alive now: hilo's threads (with the main thread and the
    threads C code started) and those CPython's threading started."""
    result = []
    seen = set()
    native_ids = set()
    main = _threading.main_thread()
    for t in _threading.enumerate():
        if t is main:
            t = _main_thread
        if id(t) not in seen:
            seen.add(id(t))
            result.append(t)
            if t.native_id is not None:
                native_ids.add(t.native_id)
    cap = 64
    while True:
        buf = (_thread_t * cap)()
        n = _lib.hilo_enumerate(buf, cap)
        if n <= cap:
            break
        cap = n + 16
    for handle in buf[:n]:
        t = _by_handle.get(handle)
        if t is None:
            native = _lib.hilo_native_id(handle)
            if native in native_ids:
                continue
            t = _ForeignThread(handle)
            _by_handle[handle] = t
        if id(t) not in seen:
            seen.add(id(t))
            result.append(t)
    return result


def active_count():
    return len(enumerate())


def activeCount():
    _deprecated("activeCount() is deprecated, use active_count() instead")
    return active_count()


def stack_size(size=None):
    """Returns the stack size for new threads (0: the platform's default) and
    sets it to `size` when given."""
    old = _lib.hilo_get_stack_size()
    if size is None:
        return old
    size = _operator.index(size)
    if size < 0:
        raise ValueError("size must be 0 or a positive value")
    if size != 0 and size < 32768:
        raise ValueError("size not valid: %d bytes" % size)
    rc = _lib.hilo_set_stack_size(size)
    if rc < 0:
        raise ValueError("size not valid: %d bytes" % size)
    return old


def settrace(func):
    global _trace_hook
    _trace_hook = func


def gettrace():
    return _trace_hook


def setprofile(func):
    global _profile_hook
    _profile_hook = func


def getprofile():
    return _profile_hook


def excepthook(args, /):
    """Reports an exception that ended a thread's run(): CPython's
    threading.excepthook, looked up when called."""
    return _threading.excepthook(args)


# ---------------------------------------------------------------------------
# Exit


def _non_daemon_running():
    """Whether a started non-daemon hilo thread other than the calling thread
    and the main thread is alive."""
    me = _lib.hilo_current()
    for t in enumerate():
        handle = getattr(t, "_handle", 0)
        if handle and handle != me and t is not _main_thread and \
                _hilo.is_daemon(handle) == 0 and _hilo.is_alive(handle) == 1:
            return True
    return False


# Set once Ctrl-C (or another exception) ended the exit wait: the later exit
# hooks then do not wait again (CPython, too, gives up its wait then).
_exit_wait_interrupted = False


def _give_up_exit_wait():
    """Ctrl-C (or another exception) ended an exit wait: no hook waits again,
    nor does the C library's own wait at exit() (hilo_abandon_exit_wait), so
    the process ends after one Ctrl-C, as CPython's does."""
    global _exit_wait_interrupted
    _exit_wait_interrupted = True
    if _has("hilo_abandon_exit_wait"):
        _lib.hilo_abandon_exit_wait()


def _wait_at_exit():
    """Waits for the non-daemon threads (hilo_shutdown, which also lets joins
    of the main thread return), interruptibly in the main thread: Ctrl-C
    raises KeyboardInterrupt here, as in CPython's shutdown."""
    if _exit_wait_interrupted:
        return
    try:
        _hilo.wait_for_exit()
    except BaseException:
        _give_up_exit_wait()
        raise


# Functions _register_atexit was given, run (last first) by _shutdown before
# it waits for the non-daemon threads, as CPython's threading does.
_threading_atexits = []
_SHUTTING_DOWN = False


def _register_atexit(func, *arg, **kwargs):
    """Calls `func(*arg, **kwargs)` at exit, before the non-daemon threads are
    waited for (concurrent.futures stops its workers so). RuntimeError once
    shutdown has begun, as CPython's."""
    if _SHUTTING_DOWN:
        raise RuntimeError("can't register atexit after shutdown")
    import functools
    _threading_atexits.append(functools.partial(func, *arg, **kwargs))


def _shutdown():
    """Runs the _register_atexit functions, then waits for every non-daemon
    hilo thread (hilo_shutdown). Called at exit; CPython's _shutdown names
    the same step."""
    global _SHUTTING_DOWN
    _SHUTTING_DOWN = True
    for call in reversed(_threading_atexits):
        call()
    _threading_atexits.clear()
    _wait_at_exit()


def _wait_for_non_daemon_threads():
    """threading._register_atexit hook: before CPython joins its own threads."""
    _shutdown()


def _at_exit():
    """atexit hook: the last wait; afterwards no hilo thread may start, so none
    can be running Python when the interpreter finalises unless it is a daemon."""
    global _exiting
    try:
        while not _exit_wait_interrupted:
            _wait_at_exit()
            with _start_lock:
                if not _non_daemon_running():
                    break
    finally:
        with _start_lock:
            _exiting = True


try:
    _threading._register_atexit(_wait_for_non_daemon_threads)
except (AttributeError, RuntimeError):
    pass
_atexit.register(_at_exit)


def _after_fork_in_child():
    """The forking thread is the child's only thread, so its main thread (as
    in CPython, and as hilo_main_thread() answers in the child)."""
    global _main_ident, _main_thread
    ident = _thread.get_ident()
    current = _running.get(ident)
    # In place: hilo._hilo.current_thread holds this dict.
    _running.clear()
    if ident != _main_ident:
        _main_ident = ident
        if current is not None:
            _main_thread = current
        else:
            _main_thread = _MainThread(_lib.hilo_main_thread(), ident)
        _by_handle[_main_thread._handle] = _main_thread
    _running[ident] = _main_thread
    _starting.clear()
    _hilo.set_main_thread()


_os.register_at_fork(after_in_child=_after_fork_in_child)


# ---------------------------------------------------------------------------
# Sync objects (Event, Lock, RLock, Condition, Semaphore, Barrier, Timer, local)

def _answer(rc):
    if rc < 0:
        _raise(rc)
    return rc == 1


class _Object:
    """An opaque C object: made by `_new`, freed by `_free` when collected."""

    _ptr = None
    _free = None

    def __del__(self):
        ptr, free = self._ptr, self._free
        if ptr and free is not None:
            self._ptr = None
            try:
                free(ptr)
            except Exception:
                pass

    def _own(self, ptr, free):
        if not ptr:
            raise MemoryError("hilo could not make the object: " + _last_error())
        self._ptr, self._free = ptr, free


# The locks are hilo._hilo's C types: acquire tries with the GIL held and
# releases it only to block. Lock is a factory, as CPython's is (its type
# cannot be instantiated directly); RLock is the type itself.
Lock = _hilo.allocate_lock
_allocate_lock = _hilo.allocate_lock
LockType = _hilo.lock
RLock = _hilo.RLock


class Condition:
    """A condition variable. Over a hilo Lock or RLock (its own RLock when
    none is given) wait and notify are hilo's (hilo_cond_*); over any other
    object with acquire and release (a threading.Lock, a user's wrapper)
    they are CPython's algorithm, one hilo Lock per waiter."""

    def __init__(self, lock=None):
        if lock is None:
            lock = RLock()
        self._lock = lock
        self.acquire = lock.acquire
        self.release = lock.release
        # As CPython: an RLock's own save/restore/ownership test when it has them.
        for name in ("_release_save", "_acquire_restore", "_is_owned"):
            try:
                setattr(self, name, getattr(lock, name))
            except AttributeError:
                pass
        self._c = None
        if type(lock) is LockType or isinstance(lock, RLock):
            c = self._c = _hilo._Cond(lock)
            self.wait = c.wait
            self.notify = c.notify
            self.notify_all = c.notify_all
        else:
            self._waiters = _deque()

    def _at_fork_reinit(self):
        self._lock._at_fork_reinit()
        if self._c is not None:
            self.__init__(self._lock)
        else:
            self._waiters.clear()

    def __enter__(self):
        return self._lock.__enter__()

    def __exit__(self, *args):
        return self._lock.__exit__(*args)

    def __repr__(self):
        waiting = self._c.waiting() if self._c is not None else len(self._waiters)
        return "<Condition(%s, %d)>" % (self._lock, waiting)

    def _release_save(self):
        self._lock.release()

    def _acquire_restore(self, x):
        self._lock.acquire()

    def _is_owned(self):
        # A plain lock does not know its owner: owned if it cannot be taken.
        if self._lock.acquire(False):
            self._lock.release()
            return False
        return True

    # Over a foreign lock (over a hilo lock, __init__ put hilo's in their place).
    def wait(self, timeout=None):
        if not self._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        waiter = _allocate_lock()
        waiter.acquire()
        self._waiters.append(waiter)
        saved_state = self._release_save()
        gotit = False
        try:
            if timeout is None:
                waiter.acquire()
                gotit = True
            elif timeout > 0:
                gotit = waiter.acquire(True, timeout)
            else:
                gotit = waiter.acquire(False)
            return gotit
        finally:
            self._acquire_restore(saved_state)
            if not gotit:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass

    def notify(self, n=1):
        if not self._is_owned():
            raise RuntimeError("cannot notify on un-acquired lock")
        waiters = self._waiters
        while waiters and n > 0:
            waiter = waiters[0]
            try:
                waiter.release()
            except RuntimeError:
                pass
            else:
                n -= 1
            try:
                waiters.remove(waiter)
            except ValueError:
                pass

    def notify_all(self):
        self.notify(len(self._waiters))

    def wait_for(self, predicate, timeout=None):
        endtime = None
        waittime = timeout
        result = predicate()
        while not result:
            if waittime is not None:
                if endtime is None:
                    endtime = _time() + waittime
                else:
                    waittime = endtime - _time()
                    if waittime <= 0:
                        break
            self.wait(waittime)
            result = predicate()
        return result

    def notifyAll(self):
        _deprecated("notifyAll() is deprecated, use notify_all() instead")
        self.notify_all()


class Semaphore(_Object):
    """A counter that acquire() decrements, waiting while it is 0, and
    release() increments."""

    _bounded = False

    def __init__(self, value=1):
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        _require("hilo_sem_new")
        make = _lib.hilo_sem_new_bounded if self._bounded else _lib.hilo_sem_new
        self._own(make(value), _lib.hilo_sem_free)
        self._initial_value = value

    def acquire(self, blocking=True, timeout=None):
        if not blocking and timeout is not None:
            raise ValueError("can't specify timeout for non-blocking acquire")
        return _answer(_hilo.sem_acquire(self._ptr, _timeout_arg(timeout) if blocking else 0))

    __enter__ = acquire

    def release(self, n=1):
        if n < 1:
            raise ValueError("n must be one or more")
        rc = _lib.hilo_sem_release(self._ptr, n)
        if rc == HILO_ESTATE:
            raise ValueError("Semaphore released too many times")
        _check(rc)

    def __exit__(self, *args):
        self.release()

    def __repr__(self):
        value = _lib.hilo_sem_value(self._ptr)
        if self._bounded:
            value = "%d/%d" % (value, self._initial_value)
        return "<%s.%s at %s: value=%s>" % (self.__class__.__module__,
                                             self.__class__.__qualname__, hex(id(self)), value)


class BoundedSemaphore(Semaphore):
    """A semaphore that refuses to be released above its initial value."""

    _bounded = True


class Event(_hilo._Event):
    """A flag that threads can wait for (is_set, set, clear and wait are
    hilo._hilo's, over hilo_event_*)."""

    def isSet(self):
        _deprecated("isSet() is deprecated, use is_set() instead")
        return self.is_set()

    def _reset_internal_locks(self):
        self._at_fork_reinit()

    def __repr__(self):
        return "<%s.%s at %s: %s>" % (self.__class__.__module__, self.__class__.__qualname__,
                                      hex(id(self)), "set" if self.is_set() else "unset")


def _barrier_action(action, errors):
    def call(_arg):
        try:
            action()
        except BaseException as e:  # noqa: B036 - re-raised in wait()
            errors[_thread.get_ident()] = e
        return None
    return call


class Barrier(_Object):
    """Lets `parties` threads wait for each other; `action` runs in one of
    them when all have arrived, before any is released."""

    def __init__(self, parties, action=None, timeout=None):
        if parties < 1:
            raise ValueError("parties must be >= 1")
        _require("hilo_barrier_new")
        self._action = action
        self._timeout = timeout
        self._errors = {}
        self._callback = _HILO_FN()  # NULL: no action
        if action is not None:
            self._callback = _HILO_FN(_barrier_action(action, self._errors))
        self._own(_lib.hilo_barrier_new(parties, self._callback, None,
                                        _timeout_arg(timeout)),
                  _lib.hilo_barrier_free)

    def wait(self, timeout=None):
        """Waits for the other parties; returns this thread's arrival index
        (0 .. parties-1). BrokenBarrierError when the barrier is or breaks."""
        if timeout is None:
            timeout = self._timeout
        rc = _hilo.barrier_wait(self._ptr, _timeout_arg(timeout))
        error = self._errors.pop(_thread.get_ident(), None)
        if error is not None:
            # The action failed: break the barrier, as CPython does.
            _lib.hilo_barrier_abort(self._ptr)
            raise error
        if rc == HILO_EBROKEN:
            raise BrokenBarrierError
        return _check(rc)

    def reset(self):
        _check(_lib.hilo_barrier_reset(self._ptr))

    def abort(self):
        _check(_lib.hilo_barrier_abort(self._ptr))

    @property
    def parties(self):
        return _check(_lib.hilo_barrier_parties(self._ptr))

    @property
    def n_waiting(self):
        return _check(_lib.hilo_barrier_n_waiting(self._ptr))

    @property
    def broken(self):
        return _answer(_lib.hilo_barrier_broken(self._ptr))

    def __repr__(self):
        if self.broken:
            return "<%s.%s at %s: broken>" % (self.__class__.__module__,
                                              self.__class__.__qualname__, hex(id(self)))
        return "<%s.%s at %s: waiters=%d/%d>" % (
            self.__class__.__module__, self.__class__.__qualname__, hex(id(self)),
            self.n_waiting, self.parties)


class Timer(Thread):
    """Calls `function(*args, **kwargs)` after `interval` seconds unless
    cancel() came first.

    The wait happens inside Python (on a hilo Event), as in CPython, not in
    hilo_timer_create's C thread: a thread that first entered Python only when
    its timer fired could do so while the interpreter finalises."""

    def __init__(self, interval, function, args=None, kwargs=None):
        Thread.__init__(self)
        self.interval = interval
        self.function = function
        self.args = args if args is not None else []
        self.kwargs = kwargs if kwargs is not None else {}
        self.finished = Event()

    def cancel(self):
        """Stops the timer if it has not fired yet."""
        self.finished.set()

    def run(self):
        self.finished.wait(self.interval)
        if not self.finished.is_set():
            self.function(*self.args, **self.kwargs)
        self.finished.set()


# CPython's test_threading runs its RLock tests against both of its RLocks.
_PyRLock = _CRLock = RLock


# ---------------------------------------------------------------------------
# Thread dumps (hilo_dump, hilo_dump_on_signal)


def _fileno(fd):
    return fd.fileno() if hasattr(fd, "fileno") else int(fd)


def dump(fd=2):
    """Writes hilo's thread dump to `fd` (a file descriptor or a file): every
    thread hilo knows, what it waits for in a hilo wait (a Lock and its
    holder, an Event, a join...) and for how long, its native stack, and
    every deadlock. A Python thread that blocks in a hilo wait shows in it
    (a threading.Thread as Dummy-N). Stacks are the interpreter's C frames.
    The GIL is released meanwhile."""
    _require("hilo_dump")
    _check(_lib.hilo_dump(_fileno(fd)))


def dump_on_signal(signo, fd=2):
    """From now on signal `signo` (signal.SIGUSR2, ...; 0 turns it off) makes
    hilo write a dump to `fd`, from a thread of hilo's: the signal handler is
    hilo's C one, not a Python handler. Refused (RuntimeError) for a signal
    that already has a handler, such as SIGINT's in Python."""
    _require("hilo_dump_on_signal")
    _check(_lib.hilo_dump_on_signal(int(signo), _fileno(fd)))


# ---------------------------------------------------------------------------
# ThreadPoolExecutor (hilo_executor_*)

import concurrent.futures as _cf
import concurrent.futures.thread as _cf_thread
from time import sleep as _sleep

BrokenThreadPool = _cf_thread.BrokenThreadPool

_executors = _weakref.WeakSet()
_executors_lock = _thread.allocate_lock()
_executors_shutdown = False
_executor_counter = _itertools.count()


class _Future(_cf.Future):
    """A concurrent.futures.Future whose work is queued in a hilo executor:
    cancel() is hilo_future_cancel (True only while the work is queued, or
    once it was cancelled), and the worker completes it."""

    __slots__ = ()

    def cancel(self):
        hilo_future = getattr(self, "_hilo_future", None)
        if hilo_future is None:
            return _cf.Future.cancel(self)
        # When it was queued, its hilo done callback has cancelled this
        # future (_cancel_queued) before future_cancel returns.
        return _hilo.future_cancel(hilo_future) and _cf.Future.cancel(self)

    def _cancel_queued(self):
        """Called by the C task's done callback when hilo cancelled the work:
        cancelled, and notified at once (wait() and as_completed() count it
        done), since no worker will dequeue it. CPython's waiters see a
        future cancelled while queued only once a worker reaches it."""
        if _cf.Future.cancel(self):
            self.set_running_or_notify_cancel()


# Its repr reads "<Future at ... state=...>", as CPython's.
_Future.__name__ = _Future.__qualname__ = "Future"


class _Initializer:
    """Runs the executor's initializer once in each worker, before its first
    task; once one failed the pool is broken and every task not yet begun
    fails with BrokenThreadPool, as CPython's. Holds no reference to the
    executor (tasks hold it)."""

    def __init__(self, initializer, initargs):
        self.initializer = initializer
        self.initargs = initargs
        self.broken = False

    def __call__(self, first):
        if first and not self.broken:
            try:
                self.initializer(*self.initargs)
            except BaseException:
                _cf_thread._base.LOGGER.critical("Exception in initializer:", exc_info=True)
                self.broken = ("A thread initializer failed, the thread pool "
                               "is not usable anymore")
        if self.broken:
            return BrokenThreadPool(self.broken)
        return None


def _worker_started():
    """A pool worker's first task (GIL held): its Thread object, registered
    as a started hilo.Thread's is, so that current_thread() (hilo's and
    threading's) and logging's %(threadName)s give the worker's name."""
    ident = _thread.get_ident()
    handle = _lib.hilo_current()
    t = _by_handle.get(handle)
    if t is None:
        t = _ForeignThread(handle, ident)
        _by_handle[handle] = t
    with _threading._active_limbo_lock:
        _threading._active[ident] = t
    _running[ident] = t
    _live_workers.add(ident)


# Idents of the pool workers whose thread state is alive (_worker_started
# to _worker_ended).
_live_workers = set()


def _worker_ended():
    """The worker thread ends (GIL held): drops what _worker_started added."""
    ident = _thread.get_ident()
    _live_workers.discard(ident)
    t = _running.pop(ident, None)
    with _threading._active_limbo_lock:
        if t is not None and _threading._active.get(ident) is t:
            del _threading._active[ident]


_hilo.set_executor_hooks(_worker_started, _worker_ended)


class ThreadPoolExecutor(_cf.Executor):
    """concurrent.futures.ThreadPoolExecutor on a hilo executor: the workers
    are hilo threads named ``<thread_name_prefix>_<i>`` (visible to
    enumerate() and dump()), started as work arrives and reused; the futures
    are concurrent.futures.Future objects, so concurrent.futures.wait() and
    as_completed() take them; cancel() succeeds only while the work is
    queued. At exit, the work already submitted runs before the interpreter
    finalises, as CPython's."""

    def __init__(self, max_workers=None, thread_name_prefix="",
                 initializer=None, initargs=()):
        if max_workers is None:
            max_workers = min(32, (_os.cpu_count() or 1) + 4)
        if max_workers <= 0:
            raise ValueError("max_workers must be greater than 0")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        self._max_workers = max_workers
        self._thread_name_prefix = (thread_name_prefix or
                                    ("ThreadPoolExecutor-%d" % next(_executor_counter)))
        self._init = None if initializer is None else _Initializer(initializer, initargs)
        self._initializer = initializer
        self._initargs = initargs
        self._shutdown = False
        self._shutdown_lock = _thread.allocate_lock()
        self._c = _hilo._Executor(max_workers, self._thread_name_prefix.encode("utf-8"),
                                  self._init)
        with _executors_lock:
            _executors.add(self)

    def submit(self, fn, /, *args, **kwargs):
        with self._shutdown_lock:
            if self._init is not None and self._init.broken:
                raise BrokenThreadPool(self._init.broken)
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            if _executors_shutdown:
                raise RuntimeError("cannot schedule new futures after "
                                   "interpreter shutdown")
            f = _Future()
            f._hilo_future = self._c.submit(f, fn, args, kwargs or None)
            return f
    submit.__doc__ = _cf.Executor.submit.__doc__

    def shutdown(self, wait=True, *, cancel_futures=False):
        with self._shutdown_lock:
            self._shutdown = True
        self._c.shutdown(bool(wait), bool(cancel_futures))
    shutdown.__doc__ = _cf.Executor.shutdown.__doc__


def _executors_exit():
    """threading._register_atexit hook: refuses new work and waits for the
    work already submitted to every executor, before the interpreter
    finalises (a worker must not enter Python after that). The wait is
    interruptible in the main thread: Ctrl-C raises KeyboardInterrupt here
    and the exit waits for nothing more, as CPython's."""
    global _executors_shutdown
    with _executors_lock:
        _executors_shutdown = True
        pools = list(_executors)
    if _exit_wait_interrupted:
        return
    try:
        for pool in pools:
            pool.shutdown(wait=False)
        for pool in pools:
            pool.shutdown(wait=True)
        _hilo.executor_reap()
    except BaseException:
        _give_up_exit_wait()
        raise
    # Every worker has ended for hilo; each deletes its Python thread state
    # in its thread-exit destructor, just after. Let those run before the
    # interpreter finalises (bounded: 2 s).
    deadline = _time() + 2
    while _live_workers and _time() < deadline:
        _sleep(0.001)


try:
    _threading._register_atexit(_executors_exit)
except (AttributeError, RuntimeError):
    _atexit.register(_executors_exit)
