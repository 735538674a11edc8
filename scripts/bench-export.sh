#!/usr/bin/env bash
# Benchmark of the export (`photos-backup run` into local staging):
#  1. a no-op run on a 100k-asset synthetic library whose photos are all
#     staged already: wall time, peak memory and bytes read (goal: < 100 ms,
#     a few MB read);
#  2. export throughput against `cp -r` of the same library folders onto the
#     same disk, both followed by `sync` so both are durable (goal: >= 0.9x).
# Prints figures and ratios. Usage: scripts/bench-export.sh [ASSETS] [MB]
#   ASSETS: size of the no-op library (default 100000)
#   MB:     data for the throughput test, in 1 MiB originals (default 1500)
# Environment: BENCH_DIR (scratch, default a temp dir, removed at the end);
#   BENCH_BIN (the photos-backup binary to measure, default this tree's
#   release build), to compare a previous build in the same minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh

assets=${1:-100000}
megabytes=${2:-1500}
bench_need_time
if ! command -v strace >/dev/null; then
    apt-get install -y -qq strace >/dev/null 2>&1 || echo "(strace missing: bytes read not measured)" >&2
fi

bench_scratch
bench_build .
bin=${BENCH_BIN:-$bin}

config() { # config DIR LIBRARY: prints the path of DIR's config
    bench_config "$1/photos_backup.conf" "$1/state" "$1/staging" 2000-01-01 "$2"
    echo "$1/photos_backup.conf"
}

echo "== no-op run, $assets assets"
lib="$scratch/Noop-$assets.photoslibrary"
[ -d "$lib" ] || "$make" --assets "$assets" --seed 11 --out "$lib" >/dev/null
work="$scratch/noop"
mkdir -p "$work"
conf=$(config "$work" "$lib")
first=$(bench_best 1 "$work/run.log" "$bin" -q --config "$conf" run)
files=$(find "$work/staging" -type f | wc -l)
echo "first run (stages everything): ${first% *}s, $files files staged"
read -r s kb <<<"$(bench_best 5 "$work/run.log" "$bin" -q --config "$conf" run)"
read_bytes="n/a"
if command -v strace >/dev/null; then
    strace -f -qq -e trace=read,pread64,readv,preadv -o "$work/strace.log" "$bin" -q --config "$conf" run >/dev/null
    read_bytes=$(awk -F'= ' '/= [0-9]+$/ {s+=$NF} END {printf "%.2f MB", s/1e6}' "$work/strace.log")
fi
printf 'no-op run: %ss (time/goal %.2f), peak %.1f MB, read %s\n' "$s" "$(awk -v s="$s" 'BEGIN{print s/0.1}')" \
    "$(awk -v k="$kb" 'BEGIN{print k/1024}')" "$read_bytes"

echo
echo "== throughput against cp -r, ~$megabytes MiB of originals"
n=$megabytes
big="$scratch/Throughput-$n.photoslibrary"
[ -d "$big" ] || "$make" --assets "$n" --seed 5 --file-size 1048576 --out "$big" >/dev/null
warm() { find "$big" -type f -exec cat {} + >/dev/null; }
tp="$scratch/throughput"
rm -rf "$tp" && mkdir -p "$tp"

warm
start=$(date +%s.%N)
mkdir -p "$tp/cp"
cp -r "$big/originals" "$big/resources" "$tp/cp/"
sync
cp_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
cp_bytes=$(du -sb "$tp/cp" | cut -f1)

warm
mkdir -p "$tp/ours"
conf=$(config "$tp/ours" "$big")
start=$(date +%s.%N)
"$bin" -q --config "$conf" run >/dev/null
sync
ours_s=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{print b-a}')
ours_bytes=$(du -sb "$tp/ours/staging" | cut -f1)

rate() { awk -v b="$1" -v s="$2" 'BEGIN{printf "%.1f", b/1e6/s}'; }
printf 'cp -r + sync:          %6.2fs  %8s MB/s  (%d MB)\n' "$cp_s" "$(rate "$cp_bytes" "$cp_s")" "$((cp_bytes / 1000000))"
printf 'photos-backup run:     %6.2fs  %8s MB/s  (%d MB)\n' "$ours_s" "$(rate "$ours_bytes" "$ours_s")" "$((ours_bytes / 1000000))"
printf 'throughput ours/cp:    %.2f  (goal >= 0.9)\n' \
    "$(awk -v a="$(rate "$ours_bytes" "$ours_s")" -v b="$(rate "$cp_bytes" "$cp_s")" 'BEGIN{print a/b}')"
