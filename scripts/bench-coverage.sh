#!/usr/bin/env bash
# Benchmark of `photos-backup coverage` on a large library: one `run` stages
# what the threshold selects (local staging only, no remote, no borg), so
# the ledger holds real rows; then BENCH_RUNS times each, alternating in
# the same minutes: `coverage --json` reading the run's kept copy of the
# database (the lock free), `coverage --json` while a run holds the lock
# (a private copy of the database, made each time), and the full reader,
# `assets --json --all`, on the same library. Then every staged file is
# recorded in a verified archive (the ledger's rows as a rollover leaves
# them) and `coverage --json` is timed again: with the threshold where it
# was, it reads the version of every archived asset (all are selected: the
# worst case), then with the threshold moved to the first of this month,
# as the rollover moves it (the versions of this month's assets only). Prints the best and median wall time
# and peak RSS of each, and the ratios of the medians.
# Usage: scripts/bench-coverage.sh LIBRARY [ROOT]
#   LIBRARY: e.g. one from `make_library --assets 100000 --seed 7
#            --years 2024-2026 --realistic-size --out DIR`
#   ROOT: the checkout to build and measure (default: this one)
# Environment: BENCH_THRESHOLD (default 1 January of this year),
#   BENCH_RUNS (default 5), BENCH_DIR (scratch, default a temp dir, removed).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -ge 1 ] || { sed -n '2,18p' "$0" >&2; exit 2; }
lib=$1
root=${2:-$(dirname "${BASH_SOURCE[0]}")/..}
[ -f "$lib/database/Photos.sqlite" ] || bench_die "no $lib/database/Photos.sqlite"
command -v flock >/dev/null || bench_die "needs flock (util-linux) to hold the run lock"
command -v python3 >/dev/null || bench_die "needs python3 (its sqlite3 module writes the archive's rows)"
bench_need_time
threshold=${BENCH_THRESHOLD:-$(date +%Y)-01-01}
runs=${BENCH_RUNS:-5}
bench_scratch
bench_build "$root"

conf=$scratch/photos_backup.conf
bench_config "$conf" "$scratch/state" "$scratch/staging" "$threshold" "$lib"
fill=$(bench_timed "$scratch/fill.log" "$bin" --config "$conf" run) || bench_die "the first run failed: $(tail -n 3 "$scratch/fill.log.err")"
printf 'first run %.1f s: %s\n' "${fill% *}" "$(bench_summary "$scratch/fill.log" 'bench: staged')"

# timed NAME CMD...: one timed run of CMD into $scratch/NAME.times; exit 0
# or 1 (coverage's "not everything covered") is a result, anything else
# ends the script.
timed() {
    local name=$1 line rc=0
    shift
    line=$(bench_timed "$scratch/$name.log" "$@") || rc=$?
    [ "$rc" -le 1 ] || { tail -n 5 "$scratch/$name.log.err" >&2; bench_die "$name failed ($rc)"; }
    echo "$line" >>"$scratch/$name.times"
}

for t in kept private assets archived moved; do : >"$scratch/$t.times"; done
lock=$scratch/state/run.lock
for _ in $(seq "$runs"); do
    timed kept "$bin" --config "$conf" coverage --json
    timed private flock --nonblock "$lock" "$bin" --config "$conf" coverage --json
    timed assets "$bin" assets --json --all --library "$lib"
done
grep -q '"database_copy": "kept"' "$scratch/kept.log" || bench_die "coverage did not read the kept copy"
grep -q '"database_copy": "private"' "$scratch/private.log" || bench_die "coverage did not make a private copy under the lock"

# Every staged file in one verified archive, purged from staging, as a
# rollover records it (`snapshot_rollover`, `mark_archived`).
python3 - "$scratch/state/ledger.sqlite" <<'PY'
import sqlite3, sys
ledger = sqlite3.connect(sys.argv[1])
now = "2026-01-01T00:00:00Z"
with ledger:
    ledger.execute(
        "INSERT INTO rollover (library, archive, first_month, last_month, step, planned_at, verified_at, purged_at)"
        " VALUES ('bench', 'bench-all', '2000-01', '2999-12', 'purged', ?, ?, ?)", (now, now, now))
    ledger.execute(
        "INSERT INTO rollover_file SELECT library, 'bench-all', uuid, role, path, size, hash"
        " FROM staged_file WHERE library = 'bench'")
    ledger.execute(
        "UPDATE staged_file SET archive = 'bench-all', purged_at = ? WHERE library = 'bench'", (now,))
PY
for _ in $(seq "$runs"); do
    timed archived "$bin" --config "$conf" coverage --json
done
date +%Y-%m-01 >"$scratch/staging/date_threshold.txt"
for _ in $(seq "$runs"); do
    timed moved "$bin" --config "$conf" coverage --json
done

summary() {
    sort -g "$scratch/$1.times" | awk -v what="$2" '{s[NR]=$1; k[NR]=$2} END {
        printf "%s: best %.3f s / %.1f MB, median %.3f s / %.1f MB (%d runs)\n",
            what, s[1], k[1]/1024, s[int((NR+1)/2)], k[int((NR+1)/2)]/1024, NR }'
}
median() { sort -g "$scratch/$1.times" | awk '{s[NR]=$1} END {print s[int((NR+1)/2)]}'; }

assets=$(grep -c '"uuid"' "$scratch/assets.log" || true)
echo "library: $lib ($assets assets listed by assets --all), threshold $threshold"
figures() {
    python3 - "$1" <<'PY'
import json, sys
lib = json.load(open(sys.argv[1]))["libraries"][0]
print(f"  {lib['assets']} assets: {lib['archived_current']} archived, {lib['staged']} staged, "
      f"{sum(lib['pending'].values()) - lib['pending']['overdue']} pending, {lib['on_its_way']} on their way, "
      f"{lib['back_catalogue']['assets']} back catalogue, {lib['trashed']} trashed")
PY
}
figures "$scratch/kept.log"
summary kept "coverage --json (kept copy, lock free)"
summary private "coverage --json (private copy, a run holds the lock)"
summary assets "assets --json --all (the full reader)"
summary archived "coverage --json (all staged archived, all selected: their versions read)"
summary moved "coverage --json (all staged archived, threshold moved to this month)"
figures "$scratch/moved.log"
awk -v a="$(median assets)" -v k="$(median kept)" -v p="$(median private)" -v v="$(median archived)" -v m="$(median moved)" 'BEGIN {
    printf "median ratio: assets --json --all / coverage = %.1fx (kept copy), %.1fx (private copy), %.1fx (all archived and selected), %.1fx (threshold moved)\n", a/k, a/p, a/v, a/m }'
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
