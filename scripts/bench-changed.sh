#!/usr/bin/env bash
# Benchmark of the common run on a Mac: Photos wrote to its database (into
# its WAL, as it does all the time while open) and nothing is new to stage.
# For each binary given, on its own state and staging: one run that stages
# everything selected, then BENCH_RUNS times (a write into the WAL by a
# process that dies holding the database, then a timed `run`). Prints the
# best and median wall time and peak RSS of each binary, side by side, so
# that a before/after comparison is made in the same minutes.
# Usage: scripts/bench-changed.sh LIBRARY BINARY...
#   LIBRARY: e.g. one from `make_library --assets 100000 --seed 7
#            --years 2026-2026 --realistic-size --out DIR`
# Environment: BENCH_THRESHOLD (default the first of this month),
#   BENCH_RUNS (default 5), BENCH_DIR (scratch, default a temp dir, removed).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -ge 2 ] || { sed -n '2,13p' "$0" >&2; exit 2; }
lib=$1
shift
db=$lib/database/Photos.sqlite
[ -f "$db" ] || bench_die "no $db"
bench_need_time
command -v python3 >/dev/null || bench_die "needs python3 (its sqlite3 module writes the WAL)"
threshold=${BENCH_THRESHOLD:-$(date +%Y-%m-01)}
runs=${BENCH_RUNS:-5}
bench_scratch

i=0
for bin in "$@"; do
    i=$((i + 1))
    dir=$scratch/bin$i
    mkdir -p "$dir"
    bench_config "$dir/photos_backup.conf" "$dir/state" "$dir/staging" "$threshold" "$lib"
    fill=$(bench_timed "$dir/fill.log" "$bin" --config "$dir/photos_backup.conf" run) || true
    printf '%s: first run %.1fs: %s\n' "$bin" "${fill% *}" "$(bench_summary "$dir/fill.log" 'bench: staged')"
    : >"$dir/times"
    for _ in $(seq "$runs"); do
        bench_photos_writes "$db"
        r=$(bench_timed "$dir/run.log" "$bin" --config "$dir/photos_backup.conf" run) || true
        bench_says "$dir/run.log" 'bench: (unchanged since the last run|staged 0 files)' ||
            bench_die "$bin did something: $(cat "$dir/run.log" "$dir/run.log.err" | tail -n 3)"
        echo "$r" >>"$dir/times"
    done
    sort -g "$dir/times" | awk -v bin="$bin" '{s[NR]=$1; k[NR]=$2} END {
        printf "%s: changed database, nothing new: best %.3f s / %.1f MB, median %.3f s / %.1f MB (%d runs)\n",
            bin, s[1], k[1]/1024, s[int((NR+1)/2)], k[int((NR+1)/2)]/1024, NR }'
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
