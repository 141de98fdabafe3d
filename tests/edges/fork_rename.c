/* A fork at each free() inside a rename: `fork_rename`.
 *
 * The program replaces free() (libhilo's calls resolve to this definition,
 * as to any malloc replacement): it fills the block with 0xA5 before it
 * frees it, and a free made by the renaming thread pauses there until the
 * main thread has forked. So each child begins while the renaming thread,
 * which does not exist in the child, holds the slot's lock right after one
 * of its frees. The child reads the renamed thread's name, which must be
 * the old or the new one, never the freed bytes, then renames it and reads
 * it back. hilo's rename dropped the old name before it stored the new
 * one: a child forked at that free found its record pointing at the freed
 * name (and a child that renamed it freed it twice; found as "malloc():
 * unaligned tcache chunk detected" in 1 of 25 runs of fork_races
 * rename_during_fork). tests/edges.rs checks the output. */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hilo.h"
#include "../c/testing.h"

/* glibc's own free, which free() below calls. */
extern void __libc_free(void *block);

static pthread_t renaming_thread;
static atomic_int armed;   /* the renaming thread's frees pause */
static atomic_int paused;  /* one of them waits for the fork */
static atomic_int forked;  /* the fork is done: it goes on */
static atomic_int renamed; /* hilo_set_name returned */

void free(void *block) {
    if (block == NULL) {
        return;
    }
    memset(block, 0xA5, malloc_usable_size(block));
    __libc_free(block);
    if (atomic_load(&armed) && pthread_equal(pthread_self(), renaming_thread)) {
        atomic_store(&paused, 1);
        while (!atomic_load(&forked)) {
            sched_yield();
        }
        atomic_store(&forked, 0);
    }
}

static hilo_thread_t target;
static hilo_event *release;

static void *waits(void *arg) {
    hilo_event_wait(release, HILO_FOREVER);
    return arg;
}

static void *renames(void *arg) {
    (void)arg;
    renaming_thread = pthread_self();
    atomic_store(&armed, 1);
    int rc = hilo_set_name(target, "Second");
    atomic_store(&armed, 0);
    atomic_store(&renamed, 1);
    return (void *)(intptr_t)rc;
}

/* The child: 0 when the name reads whole and a rename works. */
static int child(void) {
    char name[64];
    int n = hilo_get_name(target, name, sizeof name);
    if (n < 0 || (strcmp(name, "First") != 0 && strcmp(name, "Second") != 0)) {
        return 1;
    }
    if (hilo_set_name(target, "InChild") != HILO_OK) {
        return 2;
    }
    n = hilo_get_name(target, name, sizeof name);
    return n == 7 && strcmp(name, "InChild") == 0 ? 0 : 3;
}

int main(void) {
    release = hilo_event_new();
    /* At most 31 bytes: the record's reference is the name's only one, so
     * the rename frees it. */
    target = spawn(waits, NULL, "First", 0);
    hilo_thread_t renamer = spawn(renames, NULL, "Renamer", 0);
    int forks = 0, bad = 0, first_bad = -1;
    while (!atomic_load(&renamed)) {
        if (!atomic_load(&paused)) {
            sched_yield();
            continue;
        }
        atomic_store(&paused, 0);
        pid_t pid = fork();
        if (pid == 0) {
            _exit(child());
        }
        int status = 0;
        waitpid(pid, &status, 0);
        forks++;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (code != 0) {
            bad++;
            if (first_bad < 0) first_bad = code;
        }
        atomic_store(&forked, 1);
    }
    void *rc = NULL;
    hilo_join(renamer, HILO_FOREVER, &rc);
    char name[64];
    hilo_get_name(target, name, sizeof name);
    printf("rename %d, now %s; forks at its frees: %s; bad children: %d", (int)(intptr_t)rc, name,
           forks > 0 ? "some" : "none", bad);
    if (bad > 0) printf(" (first status %d)", first_bad);
    printf("\n");
    hilo_event_set(release);
    hilo_join(target, HILO_FOREVER, NULL);
    return 0;
}
