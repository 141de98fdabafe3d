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
            // libhilo.so carries the soname libhilo.so.0 (build.rs): the
            // name a program linked with it looks for at run time.
            let soname = dir.join("libhilo.so.0");
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
    let out = child.wait_with_output().expect("collect output");
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
