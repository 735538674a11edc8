# shellcheck shell=bash
# What the bench scripts share, so that each measures the same way: GNU time
# for peak memory, a scratch folder that goes away, the release build, the
# config of one library named "bench", and Photos' own kind of write into a
# library's database. Source it from a script under scripts/:
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Every function is prefixed bench_; none changes the working directory.

# bench_die MESSAGE: says MESSAGE on stderr, as the calling script, and exits 1.
bench_die() {
    echo "$(basename "$0"): $*" >&2
    exit 1
}

# bench_need_time: GNU time at /usr/bin/time (peak memory), installed with
# apt-get when missing and possible, else the script ends saying so.
bench_need_time() {
    [ -x /usr/bin/time ] && return
    apt-get install -y -qq time >/dev/null 2>&1 || true
    [ -x /usr/bin/time ] || bench_die "needs GNU time: apt-get install time"
}

# bench_scratch: sets $scratch to $BENCH_DIR (kept), else to a new temp
# folder removed when the script exits.
bench_scratch() {
    if [ -n "${BENCH_DIR:-}" ]; then
        # shellcheck disable=SC2034 # for the script that sources this
        scratch=$BENCH_DIR
        mkdir -p "$scratch"
    else
        scratch=$(mktemp -d)
        # shellcheck disable=SC2064 # the folder is known now
        trap "rm -rf '$scratch'" EXIT
    fi
}

# bench_build ROOT: builds the release binary and the library generator of
# the checkout at ROOT; sets $bin and $make to their absolute paths.
bench_build() {
    (cd "$1" && cargo build --release --quiet --bin photos-backup --example make_library)
    # shellcheck disable=SC2034 # for the script that sources this
    bin=$(cd "$1" && pwd)/target/release/photos-backup
    # shellcheck disable=SC2034
    make=$(cd "$1" && pwd)/target/release/examples/make_library
}

# bench_borg: checks for borg and sets up its environment for a benchmark
# (a fixed passphrase, also in $scratch/pass for the config's `file:`
# reference; UTC). Call after bench_scratch.
bench_borg() {
    command -v borg >/dev/null || bench_die "needs borg: apt-get install borgbackup"
    export BORG_PASSPHRASE=bench-passphrase BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=no
    export BORG_RELOCATED_REPO_ACCESS_IS_OK=yes TZ=UTC
    printf '%s' "$BORG_PASSPHRASE" >"$scratch/pass" && chmod 600 "$scratch/pass"
}

# bench_fresh TEMPLATE DIR: DIR as a copy of TEMPLATE, with an empty
# repository in DIR/repo.
bench_fresh() {
    rm -rf "$2"
    cp -a "$1" "$2"
    borg init --encryption=repokey-blake2 "$2/repo" >/dev/null 2>&1
}

# bench_seconds COMMAND...: the wall time of COMMAND, its output discarded.
bench_seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b - a}'
}

# bench_config FILE STATE STAGING THRESHOLD LIBRARY: writes a config of one
# library named "bench" at LIBRARY, staging into STAGING, state in STATE.
bench_config() {
    cat >"$1" <<CONF
[state]
dir = "$2"
[staging]
dir = "$3"
[threshold]
default = "$4"
[[library]]
name = "bench"
path = "$5"
CONF
}

# bench_timed OUT CMD...: runs CMD once, stdout to OUT, stderr to OUT.err;
# prints "seconds peak_kb": wall clock in ms around GNU time (whose own %e
# has a 10 ms resolution, too coarse for a no-op run), and the maximum
# resident set size. Returns CMD's status, after printing.
bench_timed() {
    local out=$1 t start end rc=0
    shift
    t=$(mktemp)
    start=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$t" "$@" >"$out" 2>"$out.err" || rc=$?
    end=$(date +%s%N)
    echo "$(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.3f", (b-a)/1e9}') $(tail -n 1 "$t")"
    rm -f "$t"
    return "$rc"
}

# bench_best RUNS OUT CMD...: bench_timed RUNS times; prints the fastest
# "seconds peak_kb". Ends the script, with CMD's stderr, if CMD fails.
bench_best() {
    local runs=$1 out=$2 best="" line
    shift 2
    for _ in $(seq "$runs"); do
        line=$(bench_timed "$out" "$@") || { tail -n 20 "$out.err" >&2; bench_die "failed: $*"; }
        if [ -z "$best" ] || awk -v a="${line% *}" -v b="${best% *}" 'BEGIN{exit !(a<b)}'; then
            best=$line
        fi
    done
    echo "$best"
}

# bench_says OUT REGEX: whether the command that wrote OUT (and OUT.err)
# said REGEX.
bench_says() { cat "$1" "$1.err" | grep -E "$2" >/dev/null; }

# bench_summary OUT REGEX: the last line of OUT and OUT.err saying REGEX.
bench_summary() { cat "$1" "$1.err" | grep -E "$2" | tail -n 1; }

# bench_photos_writes DB [PYTHON]: what Photos does to its database while it
# is open: a write into the WAL (one asset row's Z_OPT), by a process that
# then dies holding the database, so nothing is checkpointed into the
# database file. PYTHON (default python3) needs its sqlite3 module.
bench_photos_writes() {
    # In a subshell whose stderr is dropped: the shell reports the kill.
    (
        "${2:-python3}" - "$1" <<'PY'
import os, signal, sqlite3, sys
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("PRAGMA wal_autocheckpoint = 0")
table = "ZASSET" if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'ZASSET'").fetchone() else "ZGENERICASSET"
con.execute(f"UPDATE {table} SET Z_OPT = Z_OPT + 1 WHERE Z_PK = (SELECT MIN(Z_PK) FROM {table})")
os.kill(os.getpid(), signal.SIGKILL)
PY
        :
    ) 2>/dev/null || true
}
