#!/usr/bin/env bash
# Benchmark of the month rollover against plain borg: a month of about FILES
# staged files (a synthetic library's mix) is archived by `photos-backup run`
# in a run on a later month's first day (borg create + verification listing +
# purge + threshold), and, from an identical copy of the same staging folder,
# by a plain `borg create` of that folder. Each into a fresh repository, same
# compression; TRIALS trials each, alternating; the best of each is compared.
# Goal: our overhead beyond borg itself under 10%.
# Usage: scripts/bench-rollover.sh [FILES] [KB per original] [TRIALS]
# Environment: BENCH_DIR (scratch, default a temp dir, removed at the end).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh

files=${1:-5000}
kb=${2:-1024}
trials=${3:-3}
bench_scratch
bench_build .
bench_borg

# The template: a library of about FILES/2 assets of the usual mix (originals,
# Live videos, RAWs, edits, XMP; originals only in iCloud stay pending and,
# past their grace, do not hold the month: hence the run in November),
# staged by a run in September 2026.
lib="$scratch/Month.photoslibrary"
"$make" --assets $((files / 2)) --seed 5 --out "$lib" --file-size $((kb * 1024)) \
    --years 2026-2026 >/dev/null
template="$scratch/template"
mkdir -p "$template"
bench_config "$template/photos_backup.conf" state staging 2000-01-01 "$lib"
# Staged without [borg] (nothing archived), which is then added.
PHOTOS_BACKUP_NOW=2026-09-30T12:00:00Z "$bin" -q --config "$template/photos_backup.conf" run \
    >/dev/null
cat >>"$template/photos_backup.conf" <<CONF
[borg]
repository = "repo"
passphrase = "file:$scratch/pass"
compression = "zstd,3"
verify = "size"
CONF
staged=$(find "$template/staging/bench" -type f | wc -l)
bytes=$(du -sb "$template/staging/bench" | cut -f1)
echo "== rollover of $staged staged files ($((bytes / 1048576)) MiB), $trials trials each"

ours() { # ours DIR VERIFY
    sed -i "s/^verify = .*/verify = \"$2\"/" "$1/photos_backup.conf"
    PHOTOS_BACKUP_NOW=2026-11-01T06:00:00Z "$bin" -q --config "$1/photos_backup.conf" run
    [ -z "$(find "$1/staging/bench" -type f 2>/dev/null)" ] || { echo "staging not purged" >&2; exit 1; }
}
plain() { # plain DIR
    (cd "$1/staging" && borg create --compression zstd,3 "$1/repo::bench-2026-09" bench)
}
min() { tr ' ' '\n' | sort -n | head -n 1; }
t_borg="" t_size="" t_content=""
for _ in $(seq "$trials"); do
    bench_fresh "$template" "$scratch/b" && t_borg+=" $(bench_seconds plain "$scratch/b")"
    bench_fresh "$template" "$scratch/s" && t_size+=" $(bench_seconds ours "$scratch/s" size)"
    bench_fresh "$template" "$scratch/c" && t_content+=" $(bench_seconds ours "$scratch/c" content)"
done
b=$(echo $t_borg | min) s=$(echo $t_size | min) c=$(echo $t_content | min)
echo "plain borg create:                 ${b}s  (trials:$t_borg)"
echo "rollover, verify = size (default): ${s}s  (trials:$t_size)"
echo "rollover, verify = content:        ${c}s  (trials:$t_content)"
awk -v b="$b" -v s="$s" -v c="$c" 'BEGIN{
    printf "overhead beyond borg create: size %+.1f%%, content %+.1f%% (goal: under 10%%)\n",
        (s / b - 1) * 100, (c / b - 1) * 100 }'
