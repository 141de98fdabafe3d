//! `hilo_set_interruptible`: a thread that asks for it sees `HILO_EINTR`
//! from a blocking wait during which a signal handler ran, instead of the
//! wait resuming (the default, as for `pthread_join`).
//!
//! Every blocking wait of hilo sleeps in FUTEX_WAIT, and the kernel reports
//! a handled signal to it as EINTR, with one exception: an untimed
//! FUTEX_WAIT whose signal's handler has `SA_RESTART` is restarted silently.
//! With a timeout, the kernel never restarts it once a handler ran
//! (-ERESTART_RESTARTBLOCK becomes EINTR whatever the handler's flags). So
//! an interruptible thread's untimed sleeps are given a timeout of a day
//! (`FAR`), whose end is one more spurious wake-up that the waits' loops
//! already handle: every handled signal then ends the sleep.
//!
//! Only the user-facing waits sleep through `sleep` (`hilo_join`, the sync
//! objects' waits and acquires); hilo's internal locks never give up, and a
//! condition's re-acquire of its lock is made uninterruptible
//! (`uninterrupted`), so no wait returns with its state half-restored.
//!
//! A signal that arrives while the thread is not asleep in the kernel (just
//! before it sleeps, or while it spins on a lock) interrupts nothing, as
//! for any system call: the wait ends as it otherwise would. A host that
//! must react within a bound waits with a timeout of that bound and checks
//! its flags between waits.

use std::cell::Cell;
use std::time::Duration;

thread_local! {
    // A const cell without a destructor: readable during TLS teardown.
    static ON: Cell<bool> = const { Cell::new(false) };
}

/// The timeout an interruptible thread's untimed sleep gets (see the top).
const FAR: Duration = Duration::from_secs(24 * 60 * 60);

/// A signal handler ran during the wait, and the thread asked to be told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interrupted;

/// Makes the calling thread's blocking waits interruptible, or not.
pub fn set(on: bool) {
    let _ = ON.try_with(|cell| cell.set(on));
}

/// Whether the calling thread's blocking waits are interruptible.
pub fn enabled() -> bool {
    ON.try_with(Cell::get).unwrap_or(false)
}

/// One sleep of a user-facing wait: `wait` is the futex sleep, given the
/// timeout to sleep for, and answers whether a signal handler interrupted
/// it (`os::futex_wait`). `Err` when the thread is interruptible and one
/// did; the caller then checks once more whether what it waited for
/// happened (that wins) before it gives up.
pub fn sleep(
    timeout: Option<Duration>,
    wait: impl FnOnce(Option<Duration>) -> bool,
) -> Result<(), Interrupted> {
    if !enabled() {
        wait(timeout);
        return Ok(());
    }
    // A dump's signal (src/stacks.rs) is not the program's: the wait goes on.
    let since = crate::stacks::stamp();
    if wait(Some(timeout.unwrap_or(FAR))) && !crate::stacks::was_hilos_signal(since) {
        Err(Interrupted)
    } else {
        Ok(())
    }
}

/// Runs `f` with the calling thread's waits not interruptible (a
/// condition's re-acquire of its lock, which must end with the lock held).
pub fn uninterrupted<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            set(self.0);
        }
    }
    let _restore = Restore(enabled());
    set(false);
    f()
}
