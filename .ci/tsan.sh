#!/usr/bin/env bash
# ThreadSanitizer over hilo: the Rust tests, and C programs against a
# TSan-instrumented libhilo.a. Zero reports, or it fails.
#
# Needs the nightly toolchain with rust-src: std is rebuilt instrumented
# (-Zbuild-std), so TSan sees every synchronization, std's included. Without
# rust-src it tries `rustup component add rust-src`; failing that it prints
# "skipped: ..." and exits 0. It does not fall back to an uninstrumented std
# (-Zsanitizer=thread -Cunsafe-allow-abi-mismatch=sanitizer): TSan then cannot
# see std's own Mutex, Condvar, channels and thread joins, and the tests here
# gave 57 reports inside std and the test harness, which only suppressing
# whole modules of std would silence, hiding real races with them.
#
# What runs (target/tsan, debug builds; on 2 cores 114 s in all from an
# empty target/tsan, std's rebuild included, of which about 30 s running):
# - the unit tests (--lib) and tests/sync.rs, api_threads.rs, stress.rs,
#   model.rs, bad_input.rs, boundary.rs: hilo's Rust side and the test
#   threads, all instrumented. Not the test binaries that run C programs or
#   compilers in child processes (c_examples, c_programs, reliability,
#   python, install, header): their children are not instrumented.
#   Left out: api_threads' stack_size_is_checked_and_used (TSan's
#   pthread_create enlarges small stacks, so the size differs), and
#   stress's RSS bound (HILO_UNDER_TSAN: TSan's shadow memory and quarantine
#   grow the RSS); stress's load and fault checks still run.
# - c_examples/0*.c, tests/c/semantics.c and the five tests/c/exit_cases.c
#   cases, compiled by gcc with -fsanitize=thread and linked against the
#   instrumented libhilo.a and rustc's TSan runtime (gcc 12's own runtime
#   lacks entry points that rustc's LLVM emits). Not reliability.c: its
#   fork cases are outside what TSan supports in a multithreaded parent.
#   First a deliberately racy C program must be reported, so that a C side
#   built without instrumentation cannot pass unnoticed.
#
# Suppressions: .ci/tsan.supp (none at present; it says why).
set -euo pipefail
cd "$(dirname "$0")/.."
limit() { local secs="$1"; shift; timeout --kill-after=30 "$secs" "$@"; }

if ! limit 60 cargo +nightly --version >/dev/null 2>&1; then
    echo "skipped: no nightly toolchain (cargo +nightly), which -Zsanitizer needs"
    exit 0
fi
sysroot=$(rustc +nightly --print sysroot)
if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
    echo "tsan: nightly has no rust-src: trying rustup component add rust-src"
    limit 300 rustup component add rust-src --toolchain nightly || true
fi
if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
    echo "skipped: nightly has no rust-src, so std cannot be rebuilt instrumented (-Zbuild-std)"
    exit 0
fi

start=$SECONDS
target=x86_64-unknown-linux-gnu
export RUSTFLAGS="-Zsanitizer=thread"
export TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/.ci/tsan.supp"
export HILO_UNDER_TSAN=1
cargo_nightly=(cargo +nightly)
build_std=(-Zbuild-std --target "$target" --target-dir target/tsan)
tests=(--lib --test sync --test api_threads --test stress --test model --test bad_input --test boundary)
out=target/tsan/logs
mkdir -p "$out"

echo "== tsan: building the tests and std instrumented (target/tsan)"
limit 900 "${cargo_nightly[@]}" test "${build_std[@]}" "${tests[@]}" --no-run

passed=0 failed=0
verdict() {
    local label="$1" status="$2" log="$3"
    local reports
    reports=$(grep -c "WARNING: ThreadSanitizer" "$log" || true)
    if [ "$status" = 0 ] && [ "$reports" = 0 ]; then
        echo "tsan: $label: clean"
        passed=$((passed + 1))
    else
        echo "tsan: $label: FAILED (status $status, $reports reports)"
        cat "$log"
        failed=$((failed + 1))
    fi
}

for ((i = 0; i < ${#tests[@]}; i++)); do
    arg=${tests[$i]}
    if [ "$arg" = --lib ]; then name=lib; else i=$((i + 1)); name=${tests[$i]}; arg="--test $name"; fi
    echo "== tsan: cargo test $arg"
    status=0
    # shellcheck disable=SC2086 # $arg is two words on purpose
    limit 300 "${cargo_nightly[@]}" test "${build_std[@]}" $arg -- \
        --skip stack_size_is_checked_and_used >"$out/$name.log" 2>&1 || status=$?
    grep -E "^test result" "$out/$name.log" || true
    verdict "$name" "$status" "$out/$name.log"
done

echo "== tsan: C programs against an instrumented libhilo.a"
runtime="$sysroot/lib/rustlib/$target/lib/librustc-nightly_rt.tsan.a"
if ! command -v gcc >/dev/null || [ ! -f "$runtime" ]; then
    echo "tsan: C programs skipped: no gcc or no $runtime"
else
    limit 600 "${cargo_nightly[@]}" build "${build_std[@]}" --lib
    lib="target/tsan/$target/debug/libhilo.a"
    cbuild="target/tsan/c"
    mkdir -p "$cbuild"
    compile() { # name source
        gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -D_POSIX_C_SOURCE=200809L -g -O1 \
            -fsanitize=thread -Iinclude -c "$2" -o "$cbuild/$1.o"
        gcc -g "$cbuild/$1.o" -o "$cbuild/$1" "$lib" \
            -Wl,--whole-archive "$runtime" -Wl,--no-whole-archive -lpthread -ldl -lm -lrt
    }
    cat >"$cbuild/racy.c" <<'EOF'
#include <pthread.h>
#include <stddef.h>
static int shared;
static void *bump(void *arg) { (void)arg; shared++; return NULL; }
int main(void) {
    pthread_t t;
    pthread_create(&t, NULL, bump, NULL);
    shared++;
    pthread_join(t, NULL);
    return 0;
}
EOF
    compile racy "$cbuild/racy.c"
    if limit 60 "$cbuild/racy" >"$out/c-racy.log" 2>&1 ||
        ! grep -q "WARNING: ThreadSanitizer: data race" "$out/c-racy.log"; then
        echo "tsan: the deliberately racy C program was not reported: the C side is not instrumented"
        cat "$out/c-racy.log"
        failed=$((failed + 1))
    else
        echo "tsan: a deliberately racy C program is reported, as it must be"
    fi
    for src in c_examples/0*.c tests/c/semantics.c tests/c/exit_cases.c; do
        compile "$(basename "$src" .c)" "$src"
    done
    run_c() { # label program [args]
        local label="$1"; shift
        local status=0
        limit 120 "$@" >"$out/c-$label.log" 2>&1 || status=$?
        verdict "C $label" "$status" "$out/c-$label.log"
    }
    for src in c_examples/0*.c tests/c/semantics.c; do
        name=$(basename "$src" .c)
        run_c "$name" "$cbuild/$name"
    done
    for case in nondaemon daemon grandchild join_main shutdown; do
        run_c "exit_cases-$case" "$cbuild/exit_cases" "$case"
    done
fi

echo "tsan: took $((SECONDS - start)) s"
echo "tsan: $passed passed, $failed failed"
[ "$failed" = 0 ]
