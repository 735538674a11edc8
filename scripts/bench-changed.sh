#!/usr/bin/env bash
# Benchmark of the common run on a Mac: Photos wrote to its database (into
# its WAL, as it does all the time while open) and nothing is new to stage.
# For each binary given, on its own state and staging: one run that stages
# everything selected, then BENCH_RUNS times (a write into the WAL by a
# process that dies holding the database, then a timed `run`), in two
# cases: the write bumps the `Z_OPT` of an asset outside the selection (the
# run reads no asset in full), then of one inside it, staged by the first
# run (the run reads that asset in full, plans it, stages nothing). Prints
# the best and median wall time and peak RSS of each binary and case, side
# by side, so that a before/after comparison is made in the same minutes.
# Usage: scripts/bench-changed.sh LIBRARY BINARY...
#   LIBRARY: e.g. one from `make_library --assets 100000 --seed 7
#            --years 2026-2026 --realistic-size --out DIR`
# Environment: BENCH_THRESHOLD (default the first of this month),
#   BENCH_RUNS (default 5), BENCH_DIR (scratch, default a temp dir, removed).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -ge 2 ] || { sed -n '2,16p' "$0" >&2; exit 2; }
lib=$1
shift
db=$lib/database/Photos.sqlite
[ -f "$db" ] || bench_die "no $db"
bench_need_time
command -v python3 >/dev/null || bench_die "needs python3 (its sqlite3 module writes the WAL)"
threshold=${BENCH_THRESHOLD:-$(date +%Y-%m-01)}
runs=${BENCH_RUNS:-5}
bench_scratch

# A write into the WAL (one asset row's Z_OPT) by a process killed while it
# holds the database: nothing is checkpointed into the database file.
# photos_writes outside: the first asset row (older than any threshold);
# photos_writes UUID: that asset (one the first run staged). Prints the
# number of rows bumped, which the caller checks.
photos_writes() {
    (
        python3 - "$db" "$1" <<'PY'
import os, signal, sqlite3, sys
db, which = sys.argv[1], sys.argv[2]
con = sqlite3.connect(db, isolation_level=None)
con.execute("PRAGMA wal_autocheckpoint = 0")
table = "ZASSET" if con.execute("SELECT 1 FROM sqlite_master WHERE name = 'ZASSET'").fetchone() else "ZGENERICASSET"
if which == "outside":
    n = con.execute(f"UPDATE {table} SET Z_OPT = Z_OPT + 1 WHERE Z_PK = (SELECT MIN(Z_PK) FROM {table})").rowcount
else:
    n = con.execute(f"UPDATE {table} SET Z_OPT = Z_OPT + 1 WHERE ZUUID = ?", (which,)).rowcount
print(n, flush=True)
os.kill(os.getpid(), signal.SIGKILL)
PY
        :
    ) 2>/dev/null || true
}

i=0
for bin in "$@"; do
    i=$((i + 1))
    dir=$scratch/bin$i
    mkdir -p "$dir"
    bench_config "$dir/photos_backup.conf" "$dir/state" "$dir/staging" "$threshold" "$lib"
    fill=$(bench_timed "$dir/fill.log" "$bin" --config "$dir/photos_backup.conf" run) || true
    printf '%s: first run %.1fs: %s\n' "$bin" "${fill% *}" "$(bench_summary "$dir/fill.log" 'bench: staged')"
    # An asset inside the selection: one whose original the first run staged.
    inside=$(python3 - "$dir/state/ledger.sqlite" <<'PY'
import sqlite3, sys
ledger = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print(ledger.execute(
    "SELECT uuid FROM staged_file WHERE library = 'bench' AND role = 'original' ORDER BY path LIMIT 1"
).fetchone()[0])
PY
    )
    for case in outside inside; do
        : >"$dir/times"
        which=$([ "$case" = outside ] && echo outside || echo "$inside")
        for _ in $(seq "$runs"); do
            [ "$(photos_writes "$which")" = 1 ] || bench_die "the write of Z_OPT ($case) changed no row"
            r=$(bench_timed "$dir/run.log" "$bin" --config "$dir/photos_backup.conf" run) || true
            bench_says "$dir/run.log" 'bench: (unchanged since the last run|staged 0 files)' ||
                bench_die "$bin did something: $(cat "$dir/run.log" "$dir/run.log.err" | tail -n 3)"
            echo "$r" >>"$dir/times"
        done
        sort -g "$dir/times" | awk -v bin="$bin" -v case="$case" '{s[NR]=$1; k[NR]=$2} END {
            printf "%s: changed database (Z_OPT %s the selection), nothing new: best %.3f s / %.1f MB, median %.3f s / %.1f MB (%d runs)\n",
                bin, case, s[1], k[1]/1024, s[int((NR+1)/2)], k[int((NR+1)/2)]/1024, NR }'
    done
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
