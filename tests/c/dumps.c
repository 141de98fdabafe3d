/* The thread dump, the deadlocks hilo refuses, dump-on-signal and the
 * watchdog (tests/dumps.rs runs each case in a child process and reads
 * what it prints). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "testing.h"

static hilo_lock *lock_a, *lock_b;
static hilo_rlock *rlock_a, *rlock_b;
static hilo_event *go;

static void check(int status, const char *what) {
    if (status < 0) {
        fprintf(stderr, "%s: %d %s\n", what, status, hilo_last_error());
        _exit(80);
    }
}

/* ---- AB/BA on two Locks: reported by the dump, not refused ------------- */

static void *alpha_takes_a_then_b(void *arg) {
    (void)arg;
    check(hilo_lock_acquire(lock_a, true, HILO_FOREVER), "alpha takes a");
    check(hilo_event_wait(go, HILO_FOREVER), "alpha waits");
    check(hilo_lock_acquire(lock_b, true, HILO_FOREVER), "alpha takes b");
    return NULL;
}

static void *beta_takes_b_then_a(void *arg) {
    (void)arg;
    check(hilo_lock_acquire(lock_b, true, HILO_FOREVER), "beta takes b");
    check(hilo_event_wait(go, HILO_FOREVER), "beta waits");
    check(hilo_lock_acquire(lock_a, true, HILO_FOREVER), "beta takes a");
    return NULL;
}

static int case_locks(void) {
    lock_a = hilo_lock_new();
    lock_b = hilo_lock_new();
    go = hilo_event_new();
    hilo_thread_t alpha = spawn(alpha_takes_a_then_b, NULL, "alpha", 1);
    hilo_thread_t beta = spawn(beta_takes_b_then_a, NULL, "beta", 1);
    /* Both hold their first lock once both wait for the event. */
    wait_until_blocked(hilo_native_id(alpha), "alpha at the event");
    wait_until_blocked(hilo_native_id(beta), "beta at the event");
    hilo_event_set(go);
    wait_until_blocked(hilo_native_id(alpha), "alpha at lock b");
    wait_until_blocked(hilo_native_id(beta), "beta at lock a");
    check(hilo_dump(1), "dump");
    return 0; /* two daemon threads stay deadlocked; the process ends */
}

/* ---- AB/BA on two RLocks: the second acquirer is refused --------------- */

static hilo_event *alpha_holds, *beta_holds;

static void *alpha_rlocks(void *arg) {
    (void)arg;
    check(hilo_rlock_acquire(rlock_a, true, HILO_FOREVER), "alpha takes ra");
    hilo_event_set(alpha_holds);
    check(hilo_event_wait(beta_holds, HILO_FOREVER), "alpha waits");
    /* Blocks until beta, refused, releases rb. */
    check(hilo_rlock_acquire(rlock_b, true, HILO_FOREVER), "alpha takes rb");
    say("alpha got rb");
    hilo_rlock_release(rlock_b);
    hilo_rlock_release(rlock_a);
    return NULL;
}

static int case_rlocks(void) {
    rlock_a = hilo_rlock_new();
    rlock_b = hilo_rlock_new();
    alpha_holds = hilo_event_new();
    beta_holds = hilo_event_new();
    check(hilo_set_name(hilo_current(), "beta"), "name main");
    hilo_thread_t alpha = spawn(alpha_rlocks, NULL, "alpha", 0);
    check(hilo_event_wait(alpha_holds, HILO_FOREVER), "main waits");
    check(hilo_rlock_acquire(rlock_b, true, HILO_FOREVER), "beta takes rb");
    hilo_event_set(beta_holds);
    wait_until_blocked(hilo_native_id(alpha), "alpha at rb");
    double began = now();
    int status = hilo_rlock_acquire(rlock_a, true, HILO_FOREVER);
    double took = now() - began;
    printf("status %d\n", status);
    printf("message %s\n", hilo_last_error());
    /* A timed acquire is refused too: it would only wait out its time. */
    printf("timed %d\n", hilo_rlock_acquire(rlock_a, true, 60));
    fprintf(stderr, "refused after %.6f s\n", took);
    fflush(stdout);
    check(hilo_rlock_release(rlock_b), "beta releases rb");
    check(hilo_join(alpha, HILO_FOREVER, NULL), "join alpha");
    return 0;
}

/* ---- a cycle of a join and an RLock wait, closed both ways ------------- */

static hilo_thread_t beta_thread;

static void *beta_takes_ra(void *arg) {
    hilo_thread_t alpha = (hilo_thread_t)(uintptr_t)arg;
    wait_until_blocked(hilo_native_id(alpha), "alpha joining beta");
    int status = hilo_rlock_acquire(rlock_a, true, HILO_FOREVER);
    printf("acquire %d ", status);
    printf("%s\n", hilo_last_error());
    fflush(stdout);
    return NULL;
}

static void *alpha_holds_ra_and_joins(void *arg) {
    (void)arg;
    check(hilo_rlock_acquire(rlock_a, true, HILO_FOREVER), "alpha takes ra");
    hilo_event_set(alpha_holds);
    check(hilo_event_wait(go, HILO_FOREVER), "alpha waits for beta's start");
    check(hilo_join(beta_thread, HILO_FOREVER, NULL), "alpha joins beta");
    hilo_rlock_release(rlock_a);
    return NULL;
}

static void *delta_takes_rb(void *arg) {
    (void)arg;
    check(hilo_rlock_acquire(rlock_b, true, HILO_FOREVER), "delta takes rb");
    hilo_rlock_release(rlock_b);
    return NULL;
}

static int case_mixed(void) {
    rlock_a = hilo_rlock_new();
    rlock_b = hilo_rlock_new();
    alpha_holds = hilo_event_new();
    go = hilo_event_new();
    /* 1: alpha holds ra and joins beta; beta's acquire of ra is refused. */
    hilo_thread_t alpha;
    check(hilo_create(alpha_holds_ra_and_joins, NULL, "alpha", &alpha), "create alpha");
    check(hilo_start(alpha), "start alpha");
    check(hilo_event_wait(alpha_holds, HILO_FOREVER), "main waits");
    beta_thread = spawn(beta_takes_ra, (void *)(uintptr_t)alpha, "beta", 0);
    hilo_event_set(go);
    check(hilo_join(alpha, HILO_FOREVER, NULL), "join alpha");
    /* 2: gamma (main) holds rb, delta blocks on it, gamma's join of delta
     * is refused. */
    check(hilo_set_name(hilo_current(), "gamma"), "name main");
    check(hilo_rlock_acquire(rlock_b, true, HILO_FOREVER), "gamma takes rb");
    hilo_thread_t delta = spawn(delta_takes_rb, NULL, "delta", 0);
    wait_until_blocked(hilo_native_id(delta), "delta at rb");
    int status = hilo_join(delta, HILO_FOREVER, NULL);
    printf("join %d ", status);
    printf("%s\n", hilo_last_error());
    fflush(stdout);
    hilo_rlock_release(rlock_b);
    check(hilo_join(delta, HILO_FOREVER, NULL), "join delta");
    return 0;
}

/* ---- one thread blocked on each kind of object ------------------------- */

static hilo_lock *held_lock;
static hilo_rlock *held_rlock;
static hilo_cond *cond;
static hilo_sem *sem;
static hilo_event *never;
static hilo_barrier *barrier;

static void *on_lock(void *arg) {
    (void)arg;
    hilo_lock_acquire(held_lock, true, HILO_FOREVER);
    return NULL;
}
static void *on_rlock(void *arg) {
    (void)arg;
    hilo_rlock_acquire(held_rlock, true, HILO_FOREVER);
    return NULL;
}
static void *on_cond(void *arg) {
    (void)arg;
    hilo_cond_acquire(cond, true, HILO_FOREVER);
    hilo_cond_wait(cond, HILO_FOREVER);
    return NULL;
}
static void *on_sem(void *arg) {
    (void)arg;
    hilo_sem_acquire(sem, true, HILO_FOREVER);
    return NULL;
}
static void *on_event(void *arg) {
    (void)arg;
    hilo_event_wait(never, HILO_FOREVER);
    return NULL;
}
static void *on_barrier(void *arg) {
    (void)arg;
    hilo_barrier_wait(barrier, HILO_FOREVER);
    return NULL;
}
static void *on_join(void *arg) {
    hilo_join((hilo_thread_t)(uintptr_t)arg, HILO_FOREVER, NULL);
    return NULL;
}

static int case_kinds(void) {
    held_lock = hilo_lock_new();
    held_rlock = hilo_rlock_new();
    cond = hilo_cond_new();
    sem = hilo_sem_new(0);
    never = hilo_event_new();
    barrier = hilo_barrier_new(3, NULL, NULL, HILO_FOREVER);
    check(hilo_set_name(hilo_current(), "holder"), "name main");
    hilo_lock_acquire(held_lock, true, HILO_FOREVER);
    hilo_rlock_acquire(held_rlock, true, HILO_FOREVER);
    hilo_fn fns[] = {on_lock, on_rlock, on_cond, on_sem, on_event, on_barrier};
    const char *names[] = {"w-lock", "w-rlock", "w-cond", "w-sem", "w-event", "w-barrier"};
    hilo_thread_t last = 0;
    for (int i = 0; i < 6; i++) {
        last = spawn(fns[i], NULL, names[i], 1);
        wait_until_blocked(hilo_native_id(last), names[i]);
    }
    hilo_thread_t joiner = spawn(on_join, (void *)(uintptr_t)last, "w-join", 1);
    wait_until_blocked(hilo_native_id(joiner), "w-join");
    hilo_thread_t timer;
    check(hilo_timer_create(60, on_event, NULL, &timer), "timer");
    check(hilo_set_name(timer, "w-timer"), "name timer");
    check(hilo_set_daemon(timer, true), "timer daemon");
    check(hilo_start(timer), "start timer");
    wait_until_blocked(hilo_native_id(timer), "w-timer");
    check(hilo_dump(1), "dump");
    return 0;
}

/* ---- futures: result and hilo_wait blocked, and a cycle through one --- */

static hilo_lock *pool_lock;
static hilo_executor *pool;
static hilo_future *running_f, *queued_f;
static _Atomic long worker_tid;

/* The task: blocks on the lock that the thread waiting for it holds. */
static void *takes_pool_lock(void *arg) {
    atomic_store(&worker_tid, hilo_native_id(hilo_current()));
    check(hilo_lock_acquire(pool_lock, true, HILO_FOREVER), "task takes the lock");
    return arg;
}

static void *holds_and_waits(void *arg) {
    (void)arg;
    check(hilo_lock_acquire(pool_lock, true, HILO_FOREVER), "holder takes the lock");
    check(hilo_executor_submit(pool, takes_pool_lock, NULL, &running_f), "submit");
    check(hilo_future_result(running_f, HILO_FOREVER, NULL), "result");
    return NULL;
}

static void *waits_for_queued(void *arg) {
    (void)arg;
    check(hilo_future_result(queued_f, HILO_FOREVER, NULL), "queued result");
    return NULL;
}

static void *waits_for_first(void *arg) {
    (void)arg;
    check(hilo_wait(&queued_f, 1, HILO_FOREVER, HILO_FIRST_COMPLETED), "wait");
    return NULL;
}

static void *identity(void *arg) { return arg; }

static int case_futures(void) {
    pool_lock = hilo_lock_new();
    pool = hilo_executor_new(1, "Pool");
    hilo_thread_t holder = spawn(holds_and_waits, NULL, "w-result", 1);
    while (atomic_load(&worker_tid) == 0) sleep_ms(1);
    wait_until_blocked(atomic_load(&worker_tid), "the task at the lock");
    wait_until_blocked(hilo_native_id(holder), "w-result");
    /* Behind the blocked task: queued. */
    check(hilo_executor_submit(pool, identity, NULL, &queued_f), "submit queued");
    hilo_thread_t queued = spawn(waits_for_queued, NULL, "w-queued", 1);
    wait_until_blocked(hilo_native_id(queued), "w-queued");
    hilo_thread_t first = spawn(waits_for_first, NULL, "w-first", 1);
    wait_until_blocked(hilo_native_id(first), "w-first");
    printf("running %p\nqueued %p\n", (void *)running_f, (void *)queued_f);
    fflush(stdout);
    check(hilo_dump(1), "dump");
    fflush(stdout);
    /* The exit would wait for the pool's worker, which never ends. */
    _exit(0);
}

/* ---- HILO_DUMP_SIGNAL=QUIT: the dump on `kill -QUIT`, and on --------- */

static void *sleeper(void *arg) {
    (void)arg;
    hilo_event_wait(never, HILO_FOREVER);
    return NULL;
}

static int case_signal(void) {
    never = hilo_event_new();
    spawn(sleeper, NULL, "sleeper", 1);
    /* Reads stdin in a system call while the dump is taken; the test
     * writes a line once it has seen the dump. */
    say("ready");
    char line[64];
    ssize_t n;
    do {
        n = read(0, line, sizeof line);
    } while (n < 0 && errno == EINTR);
    printf("read %zd\n", n);
    fflush(stdout);
    say("done");
    return 0;
}

static void own_handler(int signo) {
    (void)signo;
}

/* Reads fd until the end of one dump (its last line) and prints it. */
static void copy_one_dump(int fd) {
    static char text[1 << 16];
    size_t have = 0;
    while (have < sizeof text - 1 && strstr(text, "End of hilo thread dump.") == NULL) {
        ssize_t n = read(fd, text + have, sizeof text - 1 - have);
        if (n <= 0) break;
        have += (size_t)n;
        text[have] = '\0';
    }
    fputs(text, stdout);
}

static int case_refuse(void) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return 3;
    signal(SIGUSR1, own_handler);
    printf("usr1 %d ", hilo_dump_on_signal(SIGUSR1, 2));
    printf("%s\n", hilo_last_error());
    printf("usr2 %d\n", hilo_dump_on_signal(SIGUSR2, 2));
    printf("usr2 again %d\n", hilo_dump_on_signal(SIGUSR2, pipe_fds[1]));
    printf("kill %d\n", hilo_dump_on_signal(SIGKILL, 1));
    printf("bad fd %d\n", hilo_dump_on_signal(SIGUSR2, -1));
    raise(SIGUSR2); /* one dump, from hilo's thread, into the pipe */
    copy_one_dump(pipe_fds[0]);
    printf("off %d\n", hilo_dump_on_signal(0, 1));
    printf("usr1 still %d\n", signal(SIGUSR1, SIG_DFL) == own_handler);
    printf("usr2 default %d\n", signal(SIGUSR2, SIG_DFL) == SIG_DFL);
    fflush(stdout);
    return 0;
}

/* ---- the watchdog: one dump for one stall ------------------------------ */

static void *staller(void *arg) {
    (void)arg;
    hilo_event_wait(never, HILO_FOREVER);
    return NULL;
}

static int case_watchdog(void) {
    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) return 3;
    never = hilo_event_new();
    check(hilo_watchdog(0.2, pipe_fds[1]), "watchdog");
    hilo_thread_t t = spawn(staller, NULL, "staller", 0);
    /* The first dump comes once the stall has lasted 0.2 s. */
    copy_one_dump(pipe_fds[0]);
    /* However long the stall goes on (here five more limits), it makes
     * no other dump. */
    sleep_ms(1000);
    fcntl(pipe_fds[0], F_SETFL, O_NONBLOCK);
    char more[256];
    printf("more %zd\n", read(pipe_fds[0], more, sizeof more));
    hilo_event_set(never);
    check(hilo_join(t, HILO_FOREVER, NULL), "join");
    check(hilo_watchdog(0, 1), "watchdog off");
    fflush(stdout);
    say("end");
    return 0;
}

/* ---- an interruptible wait is not interrupted by a dump --------------- */

static void *interruptible_waiter(void *arg) {
    (void)arg;
    hilo_set_interruptible(true);
    int status = hilo_event_wait(never, HILO_FOREVER);
    printf("wait %d\n", status);
    fflush(stdout);
    return NULL;
}

static int case_interruptible(void) {
    never = hilo_event_new();
    int null = open("/dev/null", O_WRONLY);
    hilo_thread_t t = spawn(interruptible_waiter, NULL, "waiter", 0);
    wait_until_blocked(hilo_native_id(t), "waiter");
    for (int i = 0; i < 3; i++) check(hilo_dump(null), "dump");
    hilo_event_set(never);
    check(hilo_join(t, HILO_FOREVER, NULL), "join");
    return 0;
}

/* ---- dumps while threads start and end --------------------------------- */

static volatile int stop;

static void *nothing(void *arg) {
    return arg;
}

static void *churn(void *arg) {
    (void)arg;
    while (!stop) {
        hilo_thread_t t;
        if (hilo_create(nothing, NULL, "brief", &t) == HILO_OK) {
            if (hilo_start(t) == HILO_OK) hilo_join(t, HILO_FOREVER, NULL);
            /* Released, so the records are reused: a churner that kept its
             * handles would grow the table every dump lists (90,000 rows
             * within a second on a fast machine) until the dumps could not
             * finish. */
            hilo_release(t);
        }
    }
    return NULL;
}

static int case_churn(int dumps) {
    int null = open("/dev/null", O_WRONLY);
    hilo_thread_t churners[3];
    for (int i = 0; i < 3; i++) {
        churners[i] = spawn(churn, NULL, "churner", 0);
    }
    for (int i = 0; i < dumps; i++) {
        check(hilo_dump(null), "dump");
    }
    stop = 1;
    for (int i = 0; i < 3; i++) {
        hilo_join(churners[i], HILO_FOREVER, NULL);
    }
    say("ok");
    return 0;
}

/* ---- a dump right after a start ---------------------------------------- */

/* Each round starts a thread and dumps at once, often before the new thread
 * has run: its row must show the native id `hilo_native_id` gives, and its
 * stack must be listed under its name. Prints how many rounds showed
 * otherwise. */
static void *waits_for_go(void *arg) {
    check(hilo_event_wait(go, HILO_FOREVER), "fresh waits");
    return arg;
}

static int case_fresh(int rounds) {
    go = hilo_event_new();
    int wrong = 0;
    for (int i = 0; i < rounds; i++) {
        hilo_thread_t t = spawn(waits_for_go, NULL, "Fresh", 0);
        FILE *out = tmpfile();
        if (out == NULL) {
            perror("tmpfile");
            return 81;
        }
        check(hilo_dump(fileno(out)), "dump");
        rewind(out);
        char row[64], block[64], line[512];
        snprintf(row, sizeof row, "%#llx ", (unsigned long long)t);
        snprintf(block, sizeof block, "\"Fresh\" %#llx native id %lld,", (unsigned long long)t,
                 (long long)hilo_native_id(t));
        long long listed = -1;
        int has_block = 0;
        while (fgets(line, sizeof line, out) != NULL) {
            if (strncmp(line, row, strlen(row)) == 0) {
                /* HANDLE NAME DAEMON STATE NATIVE_ID JOINING */
                char state[32];
                if (sscanf(line, "%*s %*s %*s %31s %lld", state, &listed) != 2) listed = -2;
            }
            if (strncmp(line, block, strlen(block)) == 0) has_block = 1;
        }
        fclose(out);
        if (listed != hilo_native_id(t) || !has_block) {
            if (wrong++ == 0) printf("first wrong round: row id %lld, native id %lld, block %d\n",
                                     listed, (long long)hilo_native_id(t), has_block);
        }
        hilo_event_set(go);
        check(hilo_join(t, HILO_FOREVER, NULL), "join");
        hilo_release(t);
        hilo_event_clear(go);
    }
    printf("rounds that showed a started thread otherwise: %d of %d\n", wrong, rounds);
    return 0;
}

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "locks") == 0) return case_locks();
    if (strcmp(c, "rlocks") == 0) return case_rlocks();
    if (strcmp(c, "mixed") == 0) return case_mixed();
    if (strcmp(c, "kinds") == 0) return case_kinds();
    if (strcmp(c, "futures") == 0) return case_futures();
    if (strcmp(c, "signal") == 0) return case_signal();
    if (strcmp(c, "refuse") == 0) return case_refuse();
    if (strcmp(c, "watchdog") == 0) return case_watchdog();
    if (strcmp(c, "interruptible") == 0) return case_interruptible();
    if (strcmp(c, "churn") == 0) return case_churn(argc > 2 ? atoi(argv[2]) : 20);
    if (strcmp(c, "fresh") == 0) return case_fresh(argc > 2 ? atoi(argv[2]) : 300);
    fprintf(stderr, "unknown case %s\n", c);
    return 2;
}
