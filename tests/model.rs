//! Property test: random sequences of API calls on a few handles, checked
//! against a small model of the state machine (unstarted, running, finished,
//! released). Each thread waits on its own gate, so the model knows when it
//! may finish: it is running until its gate opens, and finished once joined.

mod common;

use std::ffi::{c_void, CString};
use std::ptr;
use std::sync::{Condvar, Mutex};

use hilo::*;
use proptest::prelude::*;

#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
}

unsafe extern "C-unwind" fn gated(arg: *mut c_void) -> *mut c_void {
    // SAFETY: gates are leaked, so they outlive every thread.
    let gate = unsafe { &*(arg as *const Gate) };
    let mut open = gate.open.lock().unwrap();
    while !*open {
        open = gate.cv.wait(open).unwrap();
    }
    arg
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Model {
    Unstarted,
    /// Started; its gate is closed, so it cannot finish.
    Running,
    /// Started, gate open: running or finished, unknown until joined.
    Finishing,
    Finished,
    Released,
}

#[derive(Clone, Debug)]
enum Op {
    Create,
    Start(usize),
    JoinNow(usize),
    JoinForever(usize),
    IsAlive(usize),
    SetDaemon(usize, bool),
    IsDaemon(usize),
    Rename(usize),
    OpenGate(usize),
    Release(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let i = 0usize..4;
    prop_oneof![
        Just(Op::Create),
        i.clone().prop_map(Op::Start),
        i.clone().prop_map(Op::JoinNow),
        i.clone().prop_map(Op::JoinForever),
        i.clone().prop_map(Op::IsAlive),
        (i.clone(), any::<bool>()).prop_map(|(i, d)| Op::SetDaemon(i, d)),
        i.clone().prop_map(Op::IsDaemon),
        i.clone().prop_map(Op::Rename),
        i.clone().prop_map(Op::OpenGate),
        i.prop_map(Op::Release),
    ]
}

struct Thread {
    handle: hilo_thread_t,
    gate: &'static Gate,
    state: Model,
    daemon: bool,
    name: String,
}

fn open(gate: &Gate) {
    *gate.open.lock().unwrap() = true;
    gate.cv.notify_all();
}

/// A thread's name as `hilo_get_name` gives it, checked against the length
/// it returns.
fn name_of(handle: hilo_thread_t) -> String {
    let mut buf = [0 as std::ffi::c_char; 64];
    let n = hilo_get_name(handle, buf.as_mut_ptr(), buf.len());
    // SAFETY: hilo_get_name NUL-terminates within the buffer.
    let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .into_owned();
    assert_eq!(usize::try_from(n).ok(), Some(text.len()), "{text:?}");
    text
}

fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let mut threads: Vec<Thread> = Vec::new();
    let mut renames = 0;
    for op in ops {
        match *op {
            Op::Create => {
                let gate: &'static Gate = Box::leak(Box::default());
                let mut handle = 0;
                let arg = gate as *const Gate as *mut c_void;
                prop_assert_eq!(
                    hilo_create(Some(gated), arg, ptr::null(), &mut handle),
                    HILO_OK
                );
                // Created by a foreign (test) thread: a daemon.
                threads.push(Thread {
                    handle,
                    gate,
                    state: Model::Unstarted,
                    daemon: true,
                    name: String::new(),
                });
            }
            Op::Start(i) if i < threads.len() => {
                let t = &mut threads[i];
                let rc = hilo_start(t.handle);
                match t.state {
                    Model::Unstarted => {
                        prop_assert_eq!(rc, HILO_OK);
                        t.state = if *t.gate.open.lock().unwrap() {
                            Model::Finishing
                        } else {
                            Model::Running
                        };
                    }
                    Model::Released => prop_assert_eq!(rc, HILO_ESRCH),
                    _ => prop_assert_eq!(rc, HILO_ESTATE),
                }
            }
            Op::JoinNow(i) if i < threads.len() => {
                let t = &mut threads[i];
                let mut result = ptr::null_mut();
                let rc = hilo_join(t.handle, 0.0, &mut result);
                match t.state {
                    Model::Unstarted => prop_assert_eq!(rc, HILO_ESTATE),
                    Model::Running => prop_assert_eq!(rc, HILO_ETIMEDOUT),
                    Model::Finishing => {
                        prop_assert!(rc == HILO_OK || rc == HILO_ETIMEDOUT);
                        if rc == HILO_OK {
                            prop_assert_eq!(result, t.gate as *const Gate as *mut c_void);
                            t.state = Model::Finished;
                        }
                    }
                    Model::Finished => {
                        prop_assert_eq!(rc, HILO_OK);
                        prop_assert_eq!(result, t.gate as *const Gate as *mut c_void);
                    }
                    Model::Released => prop_assert_eq!(rc, HILO_ESRCH),
                }
            }
            Op::JoinForever(i) if i < threads.len() => {
                let t = &mut threads[i];
                // Only where it cannot hang: the gate is open.
                if matches!(t.state, Model::Finishing | Model::Finished) {
                    let mut result = ptr::null_mut();
                    prop_assert_eq!(hilo_join(t.handle, HILO_FOREVER, &mut result), HILO_OK);
                    prop_assert_eq!(result, t.gate as *const Gate as *mut c_void);
                    t.state = Model::Finished;
                }
            }
            Op::IsAlive(i) if i < threads.len() => {
                let t = &threads[i];
                let rc = hilo_is_alive(t.handle);
                match t.state {
                    Model::Unstarted | Model::Finished => prop_assert_eq!(rc, 0),
                    Model::Running => prop_assert_eq!(rc, 1),
                    Model::Finishing => prop_assert!(rc == 0 || rc == 1),
                    Model::Released => prop_assert_eq!(rc, HILO_ESRCH),
                }
            }
            Op::SetDaemon(i, daemon) if i < threads.len() => {
                let t = &mut threads[i];
                let rc = hilo_set_daemon(t.handle, daemon);
                match t.state {
                    Model::Unstarted => {
                        prop_assert_eq!(rc, HILO_OK);
                        t.daemon = daemon;
                    }
                    Model::Released => prop_assert_eq!(rc, HILO_ESRCH),
                    _ => prop_assert_eq!(rc, HILO_ESTATE),
                }
            }
            Op::IsDaemon(i) if i < threads.len() => {
                let t = &threads[i];
                let rc = hilo_is_daemon(t.handle);
                if t.state == Model::Released {
                    prop_assert_eq!(rc, HILO_ESRCH);
                } else {
                    prop_assert_eq!(rc, i32::from(t.daemon));
                }
            }
            Op::Rename(i) if i < threads.len() => {
                let t = &mut threads[i];
                renames += 1;
                let name = format!("Modelo-{renames}");
                let c = CString::new(name.clone()).unwrap();
                let rc = hilo_set_name(t.handle, c.as_ptr());
                if t.state == Model::Released {
                    prop_assert_eq!(rc, HILO_ESRCH);
                } else {
                    prop_assert_eq!(rc, HILO_OK);
                    t.name = name;
                    prop_assert_eq!(name_of(t.handle), t.name.clone());
                }
            }
            Op::OpenGate(i) if i < threads.len() => {
                let t = &mut threads[i];
                open(t.gate);
                if t.state == Model::Running {
                    t.state = Model::Finishing;
                }
            }
            Op::Release(i) if i < threads.len() => {
                let t = &mut threads[i];
                let rc = hilo_release(t.handle);
                if t.state == Model::Released {
                    prop_assert_eq!(rc, HILO_ESRCH);
                } else {
                    prop_assert_eq!(rc, HILO_OK);
                    t.state = Model::Released;
                }
            }
            _ => {}
        }
    }
    // Let every thread end, and give every handle up; a renamed thread
    // still has the name it was given last, running or finished.
    for t in &threads {
        if t.state != Model::Released && !t.name.is_empty() {
            prop_assert_eq!(name_of(t.handle), t.name.clone());
        }
        open(t.gate);
        if t.state != Model::Released {
            prop_assert_eq!(hilo_release(t.handle), HILO_OK);
        }
    }
    Ok(())
}

proptest! {
    // A case that hangs fails at its limit; shrinking then stops after 30 s,
    // so that a hang is reported in about a minute, not one limit per
    // shrinking step.
    #![proptest_config(ProptestConfig {
        cases: 300,
        max_shrink_time: 30_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn api_calls_follow_the_state_machine(ops in proptest::collection::vec(op(), 1..40)) {
        // Bounded: a join that should return at once and never does fails
        // this case with the thread dump instead of hanging.
        common::limited(20, "the case's starts and joins to return", move || run(&ops))?;
    }
}
