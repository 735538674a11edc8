#!/usr/bin/env bash
# Benchmark of a restore drill against plain borg: a month of about FILES
# staged files (a synthetic library's mix) is archived by a run; then
# `photos-backup drill --files SAMPLE --json` (list the archives, extract the
# sample into a scratch folder, hash and compare with the ledger) and, for the
# same sampled paths, a plain `borg extract` of them into an empty folder.
# TRIALS trials each, alternating; the best of each is compared, and the
# drill's peak memory shown. Goal: the drill costs little beyond borg's own
# extraction.
# Usage: scripts/bench-drill.sh [FILES] [KB per original] [SAMPLE] [TRIALS]
# Environment: BENCH_DIR (scratch, default a temp dir, removed at the end).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh

files=${1:-2000}
kb=${2:-2048}
sample=${3:-20}
trials=${4:-5}
command -v jq >/dev/null || bench_die "needs jq: apt-get install jq"
bench_need_time
bench_scratch
bench_build .
bench_borg

lib="$scratch/Month.photoslibrary"
"$make" --assets $((files / 2)) --seed 5 --out "$lib" --file-size $((kb * 1024)) \
    --years 2026-2026 >/dev/null
conf="$scratch/photos_backup.conf"
bench_config "$conf" "$scratch/state" "$scratch/staging" 2000-01-01 "$lib"
cat >>"$conf" <<CONF
[borg]
repository = "$scratch/repo"
passphrase = "file:$scratch/pass"
CONF
borg init --encryption=repokey-blake2 "$scratch/repo" >/dev/null 2>&1
PHOTOS_BACKUP_NOW=2026-09-30T12:00:00Z "$bin" -q --config "$conf" run >/dev/null
PHOTOS_BACKUP_NOW=2026-11-01T06:00:00Z "$bin" -q --config "$conf" run >/dev/null
archive=$(borg list --short "$scratch/repo" | head -n 1)
[ -n "$archive" ] || bench_die "the run made no archive"
count=$(borg list --format '{type}{NL}' "$scratch/repo::$archive" | grep -c '^-')
bytes=$(du -sb "$scratch/repo" | cut -f1)
echo "== drill of $sample files from $archive ($count files, repository $((bytes / 1048576)) MiB), $trials trials each"

seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", (b - a) / 1e9}'; }
t_drill="" t_plain="" peak=0
for i in $(seq "$trials"); do
    line=$(bench_timed "$scratch/drill.json" "$bin" --config "$conf" drill --files "$sample" --json) ||
        { cat "$scratch/drill.json.err" >&2; bench_die "the drill failed"; }
    t_drill+=" ${line% *}"
    [ "${line#* }" -gt "$peak" ] && peak=${line#* }
    [ "$(jq -r .passed "$scratch/drill.json")" = true ] || bench_die "the drill did not pass"
    jq -r '.checked[].path' "$scratch/drill.json" >"$scratch/paths"
    out="$scratch/plain-$i"
    mkdir -p "$out"
    start=$(date +%s%N)
    (cd "$out" && xargs -d '\n' borg extract "$scratch/repo::$archive" -- <"$scratch/paths")
    end=$(date +%s%N)
    t_plain+=" $(seconds_between "$start" "$end")"
    rm -rf "$out"
done
min() { tr ' ' '\n' | grep . | sort -n | head -n 1; }
d=$(echo "$t_drill" | min) p=$(echo "$t_plain" | min)
echo "plain borg extract of the sample: ${p}s  (trials:$t_plain)"
echo "photos-backup drill:              ${d}s  (trials:$t_drill)  peak ${peak} KB"
awk -v d="$d" -v p="$p" 'BEGIN{printf "drill / plain extract: %.2fx\n", d / p}'
