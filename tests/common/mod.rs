//! Helpers shared by the integration tests that build and run C programs
//! against the library cargo built for this test run.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where cargo put libhilo.a and libhilo.so for this run: `cargo test`
/// leaves them in `target/<profile>/deps`, next to the test binary, without
/// copying them up to `target/<profile>`.
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let deps = exe.parent().expect("target/<profile>/deps").to_path_buf();
    for dir in [deps.clone(), deps.parent().unwrap().to_path_buf()] {
        if dir.join("libhilo.a").exists() && dir.join("libhilo.so").exists() {
            // libhilo.so carries the soname libhilo.so.MAJOR (build.rs): the
            // name a program linked with it looks for at run time.
            let soname = dir.join(concat!("libhilo.so.", env!("CARGO_PKG_VERSION_MAJOR")));
            if std::fs::read_link(&soname).is_err() {
                let _ = std::os::unix::fs::symlink("libhilo.so", &soname);
            }
            return dir;
        }
    }
    panic!(
        "libhilo.a and libhilo.so not found next to {}",
        exe.display()
    );
}

/// Whether `tool --version` runs: a test whose tool is missing prints
/// "skipped" (scripts/install-test-deps.sh installs the tools).
pub fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success())
}

/// A scratch directory for this test binary's compiled programs.
pub fn scratch() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let exe = std::env::current_exe().expect("test binary path");
        let name = exe.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = std::env::current_exe()
            .unwrap()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("c-tests")
            .join(name);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    })
    .clone()
}

pub const C_FLAGS: &[&str] = &["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"];

/// How a C program links hilo.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// libhilo.a, linked into the program.
    Static,
    /// libhilo.so, found through an rpath.
    Shared,
}

/// Compiles `source` (a C file) with `-Werror` into the scratch dir and
/// returns the program's path. Panics with the compiler's output on failure.
pub fn compile_c(source: &Path, link: Link) -> PathBuf {
    let stem = source.file_stem().unwrap().to_string_lossy().into_owned();
    let suffix = if link == Link::Static {
        "static"
    } else {
        "shared"
    };
    let program = scratch().join(format!("{stem}-{suffix}"));
    let mut cmd = Command::new("cc");
    cmd.args(C_FLAGS)
        .arg("-D_POSIX_C_SOURCE=200809L")
        .arg("-g")
        .arg("-I")
        .arg(root().join("include"))
        .arg(source)
        .arg("-o")
        .arg(&program);
    match link {
        Link::Static => {
            cmd.arg(lib_dir().join("libhilo.a"))
                .args(["-lpthread", "-ldl", "-lm"]);
        }
        Link::Shared => {
            let dir = lib_dir();
            cmd.arg(format!("-L{}", dir.display()))
                .arg(format!("-Wl,-rpath,{}", dir.display()))
                .args(["-lhilo", "-lpthread"]);
        }
    }
    let out = cmd.output().expect("run cc");
    assert!(
        out.status.success(),
        "compiling {} failed:\n{}",
        source.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    program
}

/// Runs a program with a time limit and returns its output. A program still
/// running at the limit (a deadlock, or a wait that should not happen) is
/// killed and the test fails; the limit is far above any expected run time.
pub fn run_with_limit(program: &Path, args: &[&str], limit_secs: u64) -> Output {
    let mut command = Command::new(program);
    command.args(args);
    run_command_with_limit(command, limit_secs)
}

/// `run_with_limit` for a command already set up (arguments, environment,
/// directory).
pub fn run_command_with_limit(mut command: Command, limit_secs: u64) -> Output {
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    use std::time::{Duration, Instant};
    let shown = format!("{command:?}");
    // Its own process group, so that a timeout also ends what it forked: a
    // hung child of it would otherwise keep the output pipes open, and
    // collecting the output would wait for ever.
    let mut child = command
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn program");
    // Read both pipes while it runs: a program that writes more than a
    // pipe holds (64 KiB) would otherwise block, and look hung.
    fn drain(
        pipe: Option<impl std::io::Read + Send + 'static>,
    ) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + Duration::from_secs(limit_secs);
    let mut killed = false;
    loop {
        if child.try_wait().expect("wait for program").is_some() {
            break;
        }
        if Instant::now() >= deadline {
            let group = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
            // SAFETY: kill has no memory preconditions; the group is the one
            // made for this program (its leader is not reaped yet).
            unsafe { libc::kill(-group, libc::SIGKILL) };
            killed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let status = child.wait().expect("wait for program");
    let out = Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    if killed {
        panic!(
            "{shown} still ran after {limit_secs}s and was killed with its process group:\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

pub fn stdout_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The calling thread's `hilo_last_error()` text.
pub fn last_error() -> String {
    // SAFETY: hilo_last_error never returns NULL, and the text stays valid
    // until this thread's next hilo call.
    unsafe { std::ffi::CStr::from_ptr(hilo::hilo_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// Asserts a status and the calling thread's last error text.
#[track_caller]
pub fn assert_fails(status: i32, expected: i32, text: &str) {
    assert_eq!(status, expected, "status (last error: {:?})", last_error());
    assert_eq!(last_error(), text);
}

/// The calling thread's kernel thread id (what `hilo_native_id` gives).
pub fn gettid() -> i64 {
    // SAFETY: gettid has no preconditions.
    i64::from(unsafe { libc::gettid() })
}

/// What /proc says thread `tid` of this process is doing: its state letter,
/// its wait channel and its system call line.
pub fn task_state(tid: i64) -> (char, String, String) {
    let dir = format!("/proc/self/task/{tid}");
    let stat = std::fs::read_to_string(format!("{dir}/stat")).unwrap_or_default();
    // The state follows the command name, which is in parentheses and may
    // itself hold spaces or parentheses.
    let state = stat
        .rfind(')')
        .and_then(|end| stat[end + 1..].trim_start().chars().next())
        .unwrap_or('?');
    let wchan = std::fs::read_to_string(format!("{dir}/wchan")).unwrap_or_default();
    let syscall = std::fs::read_to_string(format!("{dir}/syscall")).unwrap_or_default();
    (state, wchan.trim().to_string(), syscall.trim().to_string())
}

/// Whether thread `tid` is asleep in a futex wait: state S, and the kernel
/// says futex, by its wait channel or by its system call (202 is futex on
/// x86_64; 98 on aarch64).
pub fn blocked_in_futex(tid: i64) -> bool {
    let (state, wchan, syscall) = task_state(tid);
    let number = syscall.split_whitespace().next().unwrap_or("");
    let futex_call = if cfg!(target_arch = "aarch64") {
        "98"
    } else {
        "202"
    };
    state == 'S' && (wchan.contains("futex") || number == futex_call)
}

/// Waits until thread `tid` of this process is observably blocked, asleep
/// in a futex wait (every hilo wait, and std's locks, end in one), seen so
/// on two polls in a row. Panics after 30 s, saying what it waited for and
/// what the thread was doing instead. This is "the other thread is now
/// blocked" observed, never slept for.
#[track_caller]
pub fn wait_until_blocked(tid: i64, what: &str) {
    use std::time::{Duration, Instant};
    assert!(tid > 0, "no thread id for {what}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = 0;
    while seen < 2 {
        if blocked_in_futex(tid) {
            seen += 1;
        } else {
            seen = 0;
            if Instant::now() >= deadline {
                let (state, wchan, syscall) = task_state(tid);
                panic!(
                    "thread {tid} never blocked in 30s (waited for: {what}); \
                     it is in state {state:?}, wchan {wchan:?}, syscall {syscall:?}"
                );
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The thread dump (`hilo_dump`) as text: every thread hilo knows, with what
/// each one is joining.
pub fn dump_text() -> String {
    use std::io::Read;
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: a valid array of two fds.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let status = hilo::hilo_dump(fds[1]);
    // SAFETY: closing our own write end, then owning our own read end.
    unsafe { libc::close(fds[1]) };
    // SAFETY: fds[0] is ours and open; the File closes it.
    let mut reader = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    let mut text = String::new();
    let _ = reader.read_to_string(&mut text);
    if status != hilo::HILO_OK {
        text.push_str(&format!("(hilo_dump failed: {status})"));
    }
    text
}

/// Every thread of this process with its name, state and wait channel: what
/// each one is waiting for, for the message of a test that hung.
pub fn threads_text() -> String {
    let mut lines = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for entry in dir.flatten() {
            let tid: i64 = entry.file_name().to_string_lossy().parse().unwrap_or(0);
            let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            let (state, wchan, _) = task_state(tid);
            lines.push(format!("  {tid} {:?} {state} {wchan}", comm.trim()));
        }
    }
    lines.sort();
    lines.join("\n")
}

/// Runs a test's body with a time limit: a body still running after `secs`
/// seconds fails the test, saying what it was waiting for (`what`), with the
/// thread dump and the state of every thread, instead of hanging the test
/// binary until CI's step limit ends it. A panic in the body fails the test
/// as usual. (The hung body's thread is left behind; the binary still ends.)
#[track_caller]
pub fn limited<T: Send + 'static>(
    secs: u64,
    what: &str,
    body: impl FnOnce() -> T + Send + 'static,
) -> T {
    use std::sync::mpsc::{channel, RecvTimeoutError};
    use std::time::Duration;
    let test = std::thread::current()
        .name()
        .unwrap_or("this test")
        .to_string();
    let (tx, rx) = channel();
    let runner = std::thread::Builder::new()
        .name(format!("{test} (limited)"))
        .spawn(move || {
            let value = body();
            let _ = tx.send(value);
        })
        .expect("spawn the test body");
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(value) => {
            runner.join().expect("the body returned");
            value
        }
        Err(RecvTimeoutError::Disconnected) => match runner.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the body ended without a value"),
        },
        Err(RecvTimeoutError::Timeout) => panic!(
            "{test}: still running after {secs}s, waiting for {what}\n\
             thread dump:\n{}\nthreads (tid, name, state, wait channel):\n{}",
            dump_text(),
            threads_text()
        ),
    }
}
