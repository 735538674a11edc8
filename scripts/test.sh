#!/usr/bin/env bash
# The project's test command, and what CI runs (.ci/run):
#
#   1. installs what is missing (Debian packages, rustup components and the
#      aarch64-apple-darwin target), idempotently and quietly;
#   2. cargo fmt --check;
#   (steps 3 and 4 cover the whole workspace: the product and crates/, the
#   synthetic library generator of the tests;)
#   3. cargo clippy -D warnings for the host (Linux) and a check-only clippy
#      for aarch64-apple-darwin, so the #[cfg(target_os = "macos")] code and
#      the macOS-only dependencies are type-checked too;
#   4. cargo test (all tests). Arguments to this script go to `cargo test`;
#   5. the README's first command, scripts/demo.sh (small), from this checkout:
#      on CI's fresh clone that proves it works on a fresh machine. Skipped
#      when arguments narrow the tests.
#
# Test fixtures: ../shared/fixtures/photos-libraries relative to the project
# root, or $PHOTOS_BACKUP_FIXTURES. With CI set, missing fixtures fail the run
# (PHOTOS_BACKUP_REQUIRE_FIXTURES=1) instead of skipping tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

# Debian packages the tests use; add new ones here.
#   sqlite3, time (GNU /usr/bin/time, benchmarks), borgbackup, openssh-server,
#   sshfs, gocryptfs, fuse3 (end-to-end tests on loopback); zsh, fish
#   (the completion scripts, loaded by the real shells), mandoc (the man
#   page rendered), ruby (the Homebrew formula checked and run through a
#   stand-in for Homebrew's API: tests/cli_install.rs).
APT_PACKAGES=(sqlite3 time borgbackup openssh-server sshfs gocryptfs fuse3 passwd util-linux
    zsh fish mandoc ruby)
RUST_COMPONENTS=(clippy rustfmt)
MACOS_TARGET=aarch64-apple-darwin

started=$SECONDS
section_started=$SECONDS
section() {
    printf '\n==> %s\n' "$*"
    section_started=$SECONDS
}
section_done() {
    printf -- '--- %s: ok (%ds)\n' "$1" "$((SECONDS - section_started))"
}
note() { printf '    %s\n' "$*"; }
die() {
    printf '\nERROR: %s\n' "$*" >&2
    exit 1
}

# Runs a command with its output captured; shows the output only on failure.
quietly() {
    local log
    log=$(mktemp)
    if "$@" >"$log" 2>&1 </dev/null; then
        rm -f "$log"
    else
        local rc=$?
        printf 'command failed (exit %d): %s\n' "$rc" "$*" >&2
        cat "$log" >&2
        rm -f "$log"
        return "$rc"
    fi
}

is_ci() { [[ -n ${CI:-} && ${CI:-} != false && ${CI:-} != 0 ]]; }

host=$(rustc -vV | sed -n 's/^host: //p')
[[ -n $host ]] || die "cannot tell the Rust host triple from 'rustc -vV'"

# --------------------------------------------------------------------------
section "prerequisites"

install_debian_packages() {
    if ! command -v apt-get >/dev/null || ! command -v dpkg-query >/dev/null; then
        note "SKIPPED installing Debian packages: ${APT_PACKAGES[*]}"
        note "  why: apt-get/dpkg not found (not Debian). Install their equivalents"
        note "  yourself; tests that need a missing tool fail or skip."
        return
    fi
    local missing=() pkg
    for pkg in "${APT_PACKAGES[@]}"; do
        if [[ $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) != installed ]]; then
            missing+=("$pkg")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        note "Debian packages: all installed (${APT_PACKAGES[*]})"
        return
    fi
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        command -v sudo >/dev/null ||
            die "missing Debian packages: ${missing[*]}; run as root or install them: apt-get install ${missing[*]}"
        sudo=(sudo)
    fi
    note "Debian packages: installing ${missing[*]}"
    quietly ${sudo[@]+"${sudo[@]}"} apt-get update -qq
    quietly ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_rust_parts() {
    if ! command -v rustup >/dev/null; then
        note "SKIPPED rustup component add ${RUST_COMPONENTS[*]} and rustup target add $MACOS_TARGET"
        note "  why: rustup not found; cargo fmt/clippy and the $MACOS_TARGET check need them."
        return
    fi
    local installed comp missing=()
    installed=$(rustup component list --installed)
    for comp in "${RUST_COMPONENTS[@]}"; do
        grep -q "^$comp-" <<<"$installed" || missing+=("$comp")
    done
    if [[ ${#missing[@]} -gt 0 ]]; then
        note "rustup: adding components ${missing[*]}"
        quietly rustup component add "${missing[@]}"
    fi
    local targets
    targets=$(rustup target list --installed)
    if [[ $host != "$MACOS_TARGET" ]] && ! grep -qx "$MACOS_TARGET" <<<"$targets"; then
        note "rustup: adding target $MACOS_TARGET"
        quietly rustup target add "$MACOS_TARGET"
    fi
    note "rust: $(rustc --version), components ${RUST_COMPONENTS[*]}, target $MACOS_TARGET"
}

install_debian_packages
install_rust_parts

fixtures=${PHOTOS_BACKUP_FIXTURES:-$root/../shared/fixtures/photos-libraries}
if is_ci; then
    export PHOTOS_BACKUP_REQUIRE_FIXTURES=1
    # A CI run is always a clean build: incremental data is pure overhead.
    export CARGO_INCREMENTAL=0
fi
if [[ -d $fixtures ]]; then
    note "fixtures: $fixtures"
elif [[ ${PHOTOS_BACKUP_REQUIRE_FIXTURES:-} == 1 ]]; then
    die "fixtures not found at $fixtures (set PHOTOS_BACKUP_FIXTURES); they are required here"
else
    note "fixtures: NOT FOUND at $fixtures; tests that need them will skip"
fi
section_done prerequisites

# --------------------------------------------------------------------------
section "cargo fmt --all --check"
cargo fmt --all --check
section_done fmt

# --------------------------------------------------------------------------
section "cargo clippy ($host)"
cargo clippy --workspace --all-targets --locked -- -D warnings
section_done "clippy $host"

# --------------------------------------------------------------------------
section "cargo clippy --target $MACOS_TARGET (check only)"
if [[ $host == "$MACOS_TARGET" ]]; then
    note "the host is $MACOS_TARGET: the clippy above already covered it"
else
    macos_env=()
    if [[ $host != *-apple-darwin ]]; then
        # No Apple C toolchain here. Build scripts of C-compiling crates
        # (rusqlite's bundled SQLite, notify-rust's Objective-C) get stubs that
        # only create their output files: a check build never links.
        # See scripts/ci/darwin-stub-cc.
        t=${MACOS_TARGET//-/_}
        macos_env=(
            "CC_$t=$root/scripts/ci/darwin-stub-cc"
            "AR_$t=$root/scripts/ci/darwin-stub-ar"
        )
        note "C compiler and archiver for $MACOS_TARGET: stubs in scripts/ci/"
    fi
    env ${macos_env[@]+"${macos_env[@]}"} cargo clippy --workspace --target "$MACOS_TARGET" --all-targets --locked -- -D warnings
fi
section_done "clippy $MACOS_TARGET"

# --------------------------------------------------------------------------
section "cargo test --workspace --locked${*:+ $*}"
note "PHOTOS_BACKUP_REQUIRE_FIXTURES=${PHOTOS_BACKUP_REQUIRE_FIXTURES:-<unset>}"
cargo test --workspace --locked ${1+"$@"}
section_done test

# --------------------------------------------------------------------------
if [ $# -eq 0 ]; then
    section "the README's demo: scripts/demo.sh 40 (debug build)"
    demo_log=$(mktemp)
    if ! DEMO_PROFILE=dev scripts/demo.sh 40 >"$demo_log" 2>&1; then
        cat "$demo_log"
        echo "scripts/demo.sh failed" >&2
        exit 1
    fi
    for expected in "family: archived 2026-08 into photos-family-2026-08" "files restored into"; do
        grep -q "$expected" "$demo_log" || {
            cat "$demo_log"
            echo "the demo's output lacks: $expected" >&2
            exit 1
        }
    done
    note "$(grep -c . "$demo_log") lines of output, the month archived and a photo restored"
    rm -f "$demo_log"
    section_done demo
fi

printf '\n==> all checks passed in %ds\n' "$((SECONDS - started))"
