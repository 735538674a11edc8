#!/usr/bin/env bash
# Benchmark of the backfill against plain borg: a library whose photos are
# all of one old year (the back catalogue: the threshold is this month) is
# run once with [backfill] on, which takes its oldest month (census of the
# library, staging of the month's files, borg create, verification listing,
# purge) in one run; the same month's files, extracted from that archive,
# are archived by a plain `borg create`. Each into a fresh repository, same
# compression; TRIALS trials each, alternating; the best of each is
# compared. A run with the backfill off (the same run's normal cycle, which
# finds nothing to stage) is timed too, to show what the census costs.
# Usage: scripts/bench-backfill.sh [ASSETS] [KB per original] [TRIALS]
# Environment: BENCH_DIR (scratch, default a temp dir, removed at the end).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh

assets=${1:-6000}
kb=${2:-512}
trials=${3:-3}
command -v python3 >/dev/null || bench_die "needs python3"
bench_scratch
bench_build .
bench_borg

# The library: photos of 2014 only, the usual mix; the originals the
# generator leaves in iCloud are written to disk (as if Photos had
# downloaded them), so the month is archived, not held.
lib="$scratch/Old.photoslibrary"
"$make" --assets "$assets" --seed 7 --out "$lib" --file-size $((kb * 1024)) \
    --years 2014-2014 >/dev/null
python3 - "$lib" $((kb * 1024)) <<'PY'
import os, sqlite3, sys
root, size = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(f"{root}/database/Photos.sqlite", isolation_level=None)
con.execute("UPDATE ZINTERNALRESOURCE SET ZLOCALAVAILABILITY = 1")
for directory, name in con.execute("SELECT ZDIRECTORY, ZFILENAME FROM ZASSET").fetchall():
    path = os.path.join(root, "originals", directory, name)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
con.close()
PY
template="$scratch/template"
mkdir -p "$template"
bench_config "$template/photos_backup.conf" state staging 2026-11-01 "$lib"
cat >>"$template/photos_backup.conf" <<CONF
[borg]
repository = "repo"
passphrase = "file:$scratch/pass"
compression = "zstd,3"
verify = "size"
[backfill]
enabled = true
# Photos of 2014-01-01 in time zones west of UTC are of 2013-12.
start = "2014-01"
max_staging_gb = 1000
CONF

run_at() { # run_at DIR: one run on 2026-11-02
    PHOTOS_BACKUP_NOW=2026-11-02T06:00:00Z "$bin" -q --config "$1/photos_backup.conf" run
}
ours() { # ours DIR: the run that backfills the oldest month
    run_at "$1"
    borg list --short "$1/repo" | grep -q -- '-backfill-2014-01$' || {
        echo "no backfill archive" >&2
        exit 1
    }
}
off() { # off DIR: the same run with the backfill off
    sed -i 's/^enabled = true/enabled = false/' "$1/photos_backup.conf"
    run_at "$1"
}
plain() { # plain DIR: borg create of the month's files, as extracted
    (cd "$scratch/month" && borg create --compression zstd,3 "$1/repo::bench-2014-01" bench)
}

# The month's files, as the backfill archived them, for plain borg.
bench_fresh "$template" "$scratch/first"
ours "$scratch/first" || bench_die "the backfill did not archive 2014-01"
archive=$(borg list --short "$scratch/first/repo" | grep -- '-backfill-2014-01$')
rm -rf "$scratch/month" && mkdir -p "$scratch/month"
(cd "$scratch/month" && borg extract "$scratch/first/repo::$archive")
files=$(find "$scratch/month" -type f | wc -l)
bytes=$(du -sb "$scratch/month" | cut -f1)
total=$(find "$lib/originals" -type f | wc -l)
echo "== backfill of 2014-01: $files files ($((bytes / 1048576)) MiB) of a library of $assets assets" \
    "($total originals), $trials trials each"

min() { tr ' ' '\n' | sort -n | head -n 1; }
t_borg="" t_ours="" t_off=""
for _ in $(seq "$trials"); do
    bench_fresh "$template" "$scratch/b" && t_borg+=" $(bench_seconds plain "$scratch/b")"
    bench_fresh "$template" "$scratch/o" && t_ours+=" $(bench_seconds ours "$scratch/o")"
    bench_fresh "$template" "$scratch/f" && t_off+=" $(bench_seconds off "$scratch/f")"
done
b=$(echo $t_borg | min) o=$(echo $t_ours | min) f=$(echo $t_off | min)
echo "plain borg create of the month:   ${b}s  (trials:$t_borg)"
echo "run with the backfill of a month: ${o}s  (trials:$t_ours)"
echo "the same run, backfill off:       ${f}s  (trials:$t_off)"
awk -v b="$b" -v o="$o" -v f="$f" -v bytes="$bytes" 'BEGIN{
    printf "backfill throughput: %.1f MiB/s (plain borg create %.1f MiB/s); run %.2fx borg create, %.2fx without the run itself\n",
        bytes / 1048576 / o, bytes / 1048576 / b, o / b, (o - f) / b }'
