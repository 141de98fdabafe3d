//! `make install` as a C library user sees it: the library cargo built for
//! this test run is installed (`make install LIBDIR=...`, so nothing is built
//! again) into a temporary prefix, and a C program is compiled with
//! `pkg-config --cflags --libs hilo` and run.
//!
//! Needs `make`, `cc` and `pkg-config`. A machine without pkg-config fails
//! this test with a message naming `scripts/install-test-deps.sh`, which
//! installs it (CI runs that script first).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use common::{have, lib_dir, root};

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>")
        .join("install-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Runs a command (make, cc, pkg-config, an installed program) with a time
/// limit: one that hangs is killed and fails the test, saying which.
fn run(cmd: &mut Command) -> Output {
    let shown = format!("{cmd:?}");
    let out = common::run_command_with_limit(std::mem::replace(cmd, Command::new("true")), 300);
    assert!(
        out.status.success(),
        "{shown} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

/// Runs `make` in the repository, one at a time: `make install` also
/// builds the man pages in the checkout's target/docs (when Doxygen is
/// installed), which two installs at once would both rewrite.
fn make(args: &[&str]) -> Output {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let lib_dir = format!("LIBDIR={}", lib_dir().display());
    run(Command::new("make")
        .arg("-C")
        .arg(root())
        .arg("--no-print-directory")
        .args(args)
        .arg(lib_dir))
}

fn require_pkg_config() {
    let found = Command::new("pkg-config").arg("--version").output();
    assert!(
        found.is_ok_and(|out| out.status.success()),
        "pkg-config is not installed: run scripts/install-test-deps.sh \
         (apt-get install -y pkg-config)"
    );
}

/// `pkg-config <args> hilo` with the installed hilo.pc on the search path.
fn pkg_config(pc_dir: &Path, args: &[&str], sysroot: Option<&Path>) -> Vec<String> {
    let mut cmd = Command::new("pkg-config");
    cmd.args(args).arg("hilo").env("PKG_CONFIG_PATH", pc_dir);
    if let Some(sysroot) = sysroot {
        cmd.env("PKG_CONFIG_SYSROOT_DIR", sysroot);
    }
    stdout(&run(&mut cmd))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn cc(source: &Path, program: &Path, flags: &[String]) {
    run(Command::new("cc")
        .args(["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
        .arg(source)
        .arg("-o")
        .arg(program)
        .args(flags));
}

const EXPECTED: &str = concat!(
    "installed runs\nversion ",
    env!("CARGO_PKG_VERSION"),
    " (header ",
    env!("CARGO_PKG_VERSION_MAJOR"),
    ".",
    env!("CARGO_PKG_VERSION_MINOR"),
    ".",
    env!("CARGO_PKG_VERSION_PATCH"),
    ")\n"
);

#[test]
fn installed_library_builds_a_program_with_pkg_config() {
    require_pkg_config();
    let dir = scratch("prefix");
    let prefix = dir.join("usr");
    make(&["install", &format!("PREFIX={}", prefix.display())]);

    let lib = prefix.join("lib");
    let version = env!("CARGO_PKG_VERSION");
    let real = format!("libhilo.so.{version}");
    assert!(lib.join(&real).is_file());
    assert_eq!(
        std::fs::read_link(lib.join("libhilo.so.0")).unwrap(),
        PathBuf::from(&real)
    );
    assert_eq!(
        std::fs::read_link(lib.join("libhilo.so")).unwrap(),
        PathBuf::from("libhilo.so.0")
    );
    assert!(lib.join("libhilo.a").is_file());
    assert_eq!(
        std::fs::read(prefix.join("include/hilo.h")).unwrap(),
        std::fs::read(root().join("include/hilo.h")).unwrap()
    );

    let pc_dir = lib.join("pkgconfig");
    assert_eq!(
        pkg_config(&pc_dir, &["--modversion"], None),
        vec![version.to_owned()]
    );
    let mut flags = pkg_config(&pc_dir, &["--cflags", "--libs"], None);
    assert!(flags.contains(&"-lhilo".to_owned()), "{flags:?}");
    let libdir = pkg_config(&pc_dir, &["--variable=libdir"], None).join("");
    flags.push(format!("-Wl,-rpath,{libdir}"));
    let program = dir.join("installed");
    cc(&root().join("tests/c/installed.c"), &program, &flags);

    // The program records the soname: it runs without the libhilo.so
    // development symlink.
    std::fs::remove_file(lib.join("libhilo.so")).unwrap();
    assert_eq!(stdout(&run(&mut Command::new(&program))), EXPECTED);
}

#[test]
fn installed_static_library_links_with_pkg_config_static_flags() {
    require_pkg_config();
    let dir = scratch("static");
    let prefix = dir.join("opt/hilo");
    make(&["install", &format!("PREFIX={}", prefix.display())]);
    let pc_dir = prefix.join("lib/pkgconfig");
    let mut flags = pkg_config(&pc_dir, &["--cflags"], None);
    flags.push(prefix.join("lib/libhilo.a").display().to_string());
    // The private libraries libhilo.a needs, without -lhilo (the .so).
    flags.extend(
        pkg_config(&pc_dir, &["--static", "--libs"], None)
            .into_iter()
            .filter(|flag| flag != "-lhilo" && !flag.starts_with("-L")),
    );
    let program = dir.join("installed-static");
    cc(&root().join("tests/c/installed.c"), &program, &flags);
    // Nothing of hilo is loaded at run time: the install can go.
    make(&["uninstall", &format!("PREFIX={}", prefix.display())]);
    assert_eq!(stdout(&run(&mut Command::new(&program))), EXPECTED);
}

/// `cc -static $(pkg-config --cflags --static --libs hilo)`, with no edit of
/// the flags: every library hilo.pc names exists as a static archive (no
/// `-lgcc_s`, which has none; gcc adds its static unwinder itself).
#[test]
fn installed_library_links_fully_static_with_pkg_config_alone() {
    require_pkg_config();
    let dir = scratch("fully-static");
    let probe = dir.join("probe.c");
    std::fs::write(&probe, "int main(void) { return 0; }\n").unwrap();
    let libc_a = Command::new("cc")
        .arg("-static")
        .arg(&probe)
        .arg("-o")
        .arg(dir.join("probe"))
        .output();
    if !libc_a.is_ok_and(|out| out.status.success()) {
        println!("skipped: this C toolchain has no static C library (libc.a)");
        return;
    }
    let prefix = dir.join("opt/hilo");
    make(&["install", &format!("PREFIX={}", prefix.display())]);
    let pc_dir = prefix.join("lib/pkgconfig");
    let mut flags = vec!["-static".to_owned()];
    flags.extend(pkg_config(
        &pc_dir,
        &["--cflags", "--static", "--libs"],
        None,
    ));
    let program = dir.join("installed-fully-static");
    cc(&root().join("tests/c/installed.c"), &program, &flags);
    make(&["uninstall", &format!("PREFIX={}", prefix.display())]);
    assert_eq!(stdout(&run(&mut Command::new(&program))), EXPECTED);
}

/// The installed libraries carry no debug info (25 MB for libhilo.a as
/// built) but keep their symbol tables, so backtraces still name hilo's
/// functions; `STRIP=true` keeps the debug info.
#[test]
fn installed_libraries_are_stripped_of_debug_info_but_keep_symbols() {
    require_pkg_config();
    let dir = scratch("stripped");
    let so = concat!("libhilo.so.", env!("CARGO_PKG_VERSION"));
    // Through sh and grep: an archive's full listings are megabytes.
    let defines_hilo_create = |path: &Path| {
        let out = run(Command::new("sh")
            .arg("-c")
            .arg("nm --defined-only \"$1\" 2>/dev/null | grep -c ' T hilo_create$' || true")
            .arg("sh")
            .arg(path));
        stdout(&out).trim() != "0"
    };
    let archive_debug_sections = |path: &Path| {
        let out = run(Command::new("sh")
            .arg("-c")
            .arg("readelf -S -W \"$1\" 2>/dev/null | grep -c '\\.debug_info' || true")
            .arg("sh")
            .arg(path));
        stdout(&out).trim().parse::<u64>().unwrap_or(0)
    };
    for strip in ["STRIP=strip --strip-debug", "STRIP=true"] {
        let prefix = dir.join(if strip == "STRIP=true" {
            "kept"
        } else {
            "stripped"
        });
        make(&["install", &format!("PREFIX={}", prefix.display()), strip]);
        let lib = prefix.join("lib");
        let sections = stdout(&run(Command::new("readelf")
            .arg("-S")
            .arg("-W")
            .arg(lib.join(so))));
        assert_eq!(
            sections.contains(".debug_info"),
            strip == "STRIP=true",
            "{so} after make install {strip}:\n{sections}"
        );
        assert!(defines_hilo_create(&lib.join(so)), "{so} lost its symbols");
        assert!(
            defines_hilo_create(&lib.join("libhilo.a")),
            "libhilo.a lost its symbols"
        );
        let debug = archive_debug_sections(&lib.join("libhilo.a"));
        assert_eq!(
            debug > 0,
            strip == "STRIP=true",
            "libhilo.a after make install {strip}: {debug} members with .debug_info"
        );
    }
}

/// `cmake -S <project> -B <build> -DCMAKE_PREFIX_PATH=<prefix> -DHILO_WANT=<want>`.
fn cmake_configure(project: &Path, build: &Path, prefix: &Path, want: &str) -> Output {
    let mut cmd = Command::new("cmake");
    cmd.arg("-S")
        .arg(project)
        .arg("-B")
        .arg(build)
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.display()))
        .arg(format!("-DHILO_WANT={want}"));
    common::run_command_with_limit(cmd, 300)
}

/// A CMake project finds the installed hilo with `find_package(hilo
/// MAJOR.MINOR CONFIG REQUIRED)` (the version from Cargo.toml) and links
/// `hilo::hilo` (libhilo.so) and `hilo::hilo_static` (libhilo.a and what it
/// needs); both programs run. A newer minor or major is refused, as the
/// versioning policy says (before 1.0 a minor may break the API).
#[test]
fn installed_library_builds_a_cmake_project_with_find_package() {
    if !have("cmake") {
        println!("skipped: cmake is not installed (scripts/install-test-deps.sh)");
        return;
    }
    let dir = scratch("cmake");
    let prefix = dir.join("usr");
    make(&["install", &format!("PREFIX={}", prefix.display())]);
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::copy(root().join("tests/c/installed.c"), project.join("app.c")).unwrap();
    std::fs::write(
        project.join("CMakeLists.txt"),
        "cmake_minimum_required(VERSION 3.13)\n\
         project(app C)\n\
         find_package(hilo ${HILO_WANT} CONFIG REQUIRED)\n\
         add_executable(app app.c)\n\
         target_link_libraries(app PRIVATE hilo::hilo)\n\
         add_executable(app_static app.c)\n\
         target_link_libraries(app_static PRIVATE hilo::hilo_static)\n",
    )
    .unwrap();
    let major: u64 = env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap();
    let minor: u64 = env!("CARGO_PKG_VERSION_MINOR").parse().unwrap();

    let build = dir.join("build");
    let configured = cmake_configure(&project, &build, &prefix, &format!("{major}.{minor}"));
    assert!(
        configured.status.success(),
        "cmake configure:\n{}\n{}",
        stdout(&configured),
        String::from_utf8_lossy(&configured.stderr)
    );
    run(Command::new("cmake").arg("--build").arg(&build));
    let shared = build.join("app");
    let needed = stdout(&run(Command::new("readelf").arg("-d").arg(&shared)));
    assert!(
        needed.contains(concat!(
            "[libhilo.so.",
            env!("CARGO_PKG_VERSION_MAJOR"),
            "]"
        )),
        "hilo::hilo did not link libhilo.so:\n{needed}"
    );
    assert_eq!(stdout(&run(&mut Command::new(&shared))), EXPECTED);

    for refused in [format!("{major}.{}", minor + 1), format!("{}.0", major + 1)] {
        let out = cmake_configure(&project, &dir.join("build-refused"), &prefix, &refused);
        // CMake wraps its message: compare words.
        let text = String::from_utf8_lossy(&out.stderr)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            !out.status.success() && text.contains("compatible with requested version"),
            "find_package(hilo {refused}) accepted version {}:\n{text}",
            env!("CARGO_PKG_VERSION")
        );
    }

    // Nothing of hilo is loaded at run time by the static program.
    make(&["uninstall", &format!("PREFIX={}", prefix.display())]);
    assert!(
        !prefix.join("lib/cmake/hilo").exists(),
        "uninstall left lib/cmake/hilo"
    );
    assert_eq!(
        stdout(&run(&mut Command::new(build.join("app_static")))),
        EXPECTED
    );
}

/// Cargo.toml's `[package] version`, read from the file itself.
fn cargo_toml_version() -> String {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let package = manifest
        .split("\n[")
        .find(|table| table.trim_start_matches('[').starts_with("package]"))
        .expect("Cargo.toml has [package]");
    package
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == "version").then(|| value.trim().trim_matches('"').to_owned())
        })
        .expect("[package] has a version")
}

/// The value of `#define NAME value` in a C header.
fn macro_value(header: &str, name: &str) -> Option<String> {
    header.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some("#define") && words.next() == Some(name))
            .then(|| words.next().unwrap_or("").to_owned())
    })
}

/// One source for the version, Cargo.toml: the header's macros,
/// `hilo_version()`, the soname, the installed file names, hilo.pc, the
/// CMake package files and the CHANGELOG all say the same version. Every
/// disagreement is listed.
#[test]
fn every_version_number_follows_cargo_toml() {
    let version = cargo_toml_version();
    let parts: Vec<&str> = version.split(['.', '-', '+']).collect();
    let (major, minor, patch) = (parts[0], parts[1], parts[2]);
    let mut wrong = Vec::new();
    let mut expect = |what: &str, found: Option<String>, expected: &str| {
        if found.as_deref() != Some(expected) {
            wrong.push(format!("{what}: {found:?}, Cargo.toml says {expected:?}"));
        }
    };
    expect(
        "this test's build (cargo's CARGO_PKG_VERSION)",
        Some(env!("CARGO_PKG_VERSION").to_owned()),
        &version,
    );

    let header = std::fs::read_to_string(root().join("include/hilo.h")).unwrap();
    for (name, part) in [
        ("HILO_VERSION_MAJOR", major),
        ("HILO_VERSION_MINOR", minor),
        ("HILO_VERSION_PATCH", patch),
    ] {
        expect(
            &format!("include/hilo.h {name}"),
            macro_value(&header, name),
            part,
        );
    }
    // SAFETY: hilo_version returns a static NUL-terminated string.
    let linked = unsafe { std::ffi::CStr::from_ptr(hilo::hilo_version()) };
    expect(
        "hilo_version()",
        Some(linked.to_string_lossy().into_owned()),
        &version,
    );

    let dynamic = stdout(&run(Command::new("readelf")
        .arg("-d")
        .arg(lib_dir().join("libhilo.so"))));
    let soname = dynamic
        .lines()
        .find(|line| line.contains("(SONAME)"))
        .and_then(|line| line.split('[').nth(1))
        .map(|name| name.trim_end_matches(']').to_owned());
    expect(
        "libhilo.so's SONAME",
        soname,
        &format!("libhilo.so.{major}"),
    );

    let dir = scratch("version");
    let prefix = dir.join("usr");
    make(&["install", &format!("PREFIX={}", prefix.display())]);
    let lib = prefix.join("lib");
    let real = format!("libhilo.so.{version}");
    expect(
        "the installed library",
        lib.join(&real).is_file().then(|| real.clone()),
        &real,
    );
    expect(
        "the installed soname link",
        std::fs::read_link(lib.join(format!("libhilo.so.{major}")))
            .ok()
            .map(|target| target.display().to_string()),
        &real,
    );
    let pc = std::fs::read_to_string(lib.join("pkgconfig/hilo.pc")).unwrap();
    expect(
        "hilo.pc Version",
        pc.lines()
            .find_map(|line| line.strip_prefix("Version:"))
            .map(|v| v.trim().to_owned()),
        &version,
    );
    let cmake_version =
        std::fs::read_to_string(lib.join("cmake/hilo/hiloConfigVersion.cmake")).unwrap();
    let cmake_set = |text: &str, name: &str| {
        let prefix = format!("set({name} \"");
        text.lines()
            .find_map(|line| line.trim().strip_prefix(prefix.as_str()))
            .map(|rest| rest.trim_end_matches("\")").to_owned())
    };
    expect(
        "hiloConfigVersion.cmake PACKAGE_VERSION",
        cmake_set(&cmake_version, "PACKAGE_VERSION"),
        &version,
    );
    expect(
        "hiloConfigVersion.cmake major",
        cmake_set(&cmake_version, "_hilo_major"),
        major,
    );
    expect(
        "hiloConfigVersion.cmake minor",
        cmake_set(&cmake_version, "_hilo_minor"),
        minor,
    );
    let cmake_config = std::fs::read_to_string(lib.join("cmake/hilo/hiloConfig.cmake")).unwrap();
    expect(
        "hiloConfig.cmake hilo_VERSION",
        cmake_set(&cmake_config, "hilo_VERSION"),
        &version,
    );
    // `IMPORTED_LOCATION "${_hilo_libdir}/libhilo.so.X.Y.Z"`: the file's name.
    let imported = |property: &str| {
        cmake_config
            .lines()
            .find(|line| line.contains(property) && line.contains("libhilo.so"))
            .and_then(|line| line.trim().trim_end_matches('"').rsplit(['/', '"']).next())
            .map(str::to_owned)
    };
    expect(
        "hiloConfig.cmake IMPORTED_LOCATION",
        imported("IMPORTED_LOCATION"),
        &real,
    );
    expect(
        "hiloConfig.cmake IMPORTED_SONAME",
        imported("IMPORTED_SONAME"),
        &format!("libhilo.so.{major}"),
    );
    make(&["uninstall", &format!("PREFIX={}", prefix.display())]);

    // A release has its section in the CHANGELOG.
    let changelog = std::fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    expect(
        "CHANGELOG.md's section for this version",
        changelog
            .lines()
            .find(|line| {
                line.strip_prefix("## ")
                    .is_some_and(|title| title.split_whitespace().next() == Some(&version))
            })
            .map(|_| version.clone()),
        &version,
    );
    // The Python package, when it states a version rather than taking
    // Cargo.toml's (maturin's `dynamic = ["version"]`).
    if let Ok(pyproject) = std::fs::read_to_string(root().join("bindings/python/pyproject.toml")) {
        if let Some(stated) = pyproject.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == "version").then(|| value.trim().trim_matches('"').to_owned())
        }) {
            expect(
                "bindings/python/pyproject.toml version",
                Some(stated),
                &version,
            );
        }
    }
    assert!(
        wrong.is_empty(),
        "versions disagree with Cargo.toml:\n{}",
        wrong.join("\n")
    );
}

/// Without Doxygen, `make install` installs everything but the man pages
/// and says so.
#[test]
fn install_without_doxygen_skips_the_man_pages_only() {
    let dir = scratch("no-doxygen");
    let prefix = dir.join("usr");
    let out = make(&[
        "install",
        &format!("PREFIX={}", prefix.display()),
        "DOXYGEN=hilo-test-no-such-doxygen",
    ]);
    assert!(
        stdout(&out).contains("man pages skipped: doxygen is not installed"),
        "{}",
        stdout(&out)
    );
    for file in [
        "include/hilo.h",
        "lib/libhilo.a",
        "lib/pkgconfig/hilo.pc",
        "lib/cmake/hilo/hiloConfig.cmake",
    ] {
        assert!(prefix.join(file).is_file(), "{file} not installed");
    }
    assert!(
        !prefix.join("share/man").exists(),
        "man pages without Doxygen?"
    );
    make(&["uninstall", &format!("PREFIX={}", prefix.display())]);
}

/// `man 3 hilo` and `man 3 hilo_join` read the installed pages.
#[test]
fn installed_man_pages_answer_man_3_hilo() {
    if !have("doxygen") || !have("man") {
        println!("skipped: doxygen or man is not installed (scripts/install-test-deps.sh)");
        return;
    }
    let dir = scratch("man");
    let prefix = dir.join("usr");
    make(&["install", &format!("PREFIX={}", prefix.display())]);
    let manpath = prefix.join("share/man");
    for (page, expected) in [
        ("hilo", "hilo_create"),
        ("hilo_join", "HILO_ETIMEDOUT"),
        ("hilo_status", "HILO_EDEADLK"),
    ] {
        let text = stdout(&run(Command::new("man")
            .arg("-M")
            .arg(&manpath)
            .args(["-P", "cat", "3", page])
            .env("MANWIDTH", "100")));
        assert!(
            text.contains("hilo.h - hilo: Python-style threads for C"),
            "man 3 {page}:\n{text}"
        );
        assert!(text.contains(expected), "man 3 {page} lacks {expected}");
    }
    make(&["uninstall", &format!("PREFIX={}", prefix.display())]);
    let left: Vec<_> = std::fs::read_dir(manpath.join("man3"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "left after uninstall: {left:?}");
}

#[test]
fn destdir_stages_the_install_and_uninstall_removes_it() {
    require_pkg_config();
    let dir = scratch("destdir");
    let stage = dir.join("stage");
    let destdir = format!("DESTDIR={}", stage.display());
    make(&["install", &destdir, "PREFIX=/usr/local"]);
    let mut installed = vec![
        "lib/libhilo.so",
        "lib/libhilo.so.0",
        "lib/libhilo.a",
        "include/hilo.h",
        "lib/pkgconfig/hilo.pc",
        "lib/cmake/hilo/hiloConfig.cmake",
        "lib/cmake/hilo/hiloConfigVersion.cmake",
    ];
    if have("doxygen") {
        installed.extend(["share/man/man3/hilo.3", "share/man/man3/hilo_join.3"]);
    }
    for file in &installed {
        assert!(
            stage.join("usr/local").join(file).exists(),
            "{file} not staged"
        );
    }
    // The .pc file names the final paths, not the staging ones; with the
    // stage as sysroot, pkg-config points into it.
    let pc_dir = stage.join("usr/local/lib/pkgconfig");
    assert_eq!(
        pkg_config(&pc_dir, &["--variable=libdir"], None),
        vec!["/usr/local/lib".to_owned()]
    );
    assert_eq!(
        pkg_config(&pc_dir, &["--cflags"], Some(&stage)),
        vec![format!("-I{}/usr/local/include", stage.display())]
    );

    make(&["uninstall", &destdir, "PREFIX=/usr/local"]);
    for file in installed {
        assert!(
            !stage.join("usr/local").join(file).exists(),
            "{file} left after uninstall"
        );
    }
}
