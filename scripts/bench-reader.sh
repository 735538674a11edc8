#!/usr/bin/env bash
# Benchmark of the Photos reader: full listing (`assets --json --all`) and the
# "changed since a date" selection (`assets --json --since`) on synthetic
# libraries of 100k and 1M assets built with Apple's schema. Prints wall time
# and peak memory (GNU time), best of N runs, and each figure as a ratio of its
# goal. Usage: scripts/bench-reader.sh [SIZES...]   (default: 100000 1000000)
# Environment: BENCH_DIR (scratch, default a temp dir), BENCH_RUNS (default 3).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
runs=${BENCH_RUNS:-3}
bench_need_time
bench_scratch
bench_build .

ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

printf '%-9s %-22s %9s %9s %12s %12s\n' assets measure seconds "peak MB" "time/goal" "memory/goal"
for n in "${sizes[@]}"; do
    lib="$scratch/Bench-$n.photoslibrary"
    files=()
    # Media files for 100k (the listing checks which files exist); a million
    # files would measure the disk, not the reader, so 1M is database only.
    [ "$n" -le 200000 ] || files=(--no-files)
    if [ ! -d "$lib" ]; then
        "$make" --assets "$n" --seed 7 --out "$lib" "${files[@]}" >/dev/null
    fi
    db_mb=$(du -m "$lib/database" | cut -f1)
    # Goals scale with size: 1 s and 100 MB per 100k for the listing, 100 ms per 100k for a selection.
    scale=$(awk -v n="$n" 'BEGIN{print n/100000}')
    since=$(date -d '-30 days' +%F)

    read -r s kb <<<"$(bench_best "$runs" "$scratch/out" "$bin" assets --json --all --library "$lib")"
    mb=$(awk -v k="$kb" 'BEGIN{printf "%.1f", k/1024}')
    printf '%-9s %-22s %9s %9s %12s %12s\n' "$n" "list all (--json)" "$s" "$mb" \
        "$(ratio "$s" "$scale")" "$(ratio "$mb" "$(awk -v s="$scale" 'BEGIN{print 100*s}')")"
    full=$s

    read -r s kb <<<"$(bench_best "$runs" "$scratch/out" "$bin" assets --json --since "$since" --library "$lib")"
    mb=$(awk -v k="$kb" 'BEGIN{printf "%.1f", k/1024}')
    printf '%-9s %-22s %9s %9s %12s %12s\n' "$n" "since $since" "$s" "$mb" \
        "$(ratio "$s" "$(awk -v s="$scale" 'BEGIN{print 0.1*s}')")" "-"
    echo "          (database ${db_mb} MB; selection/full-listing time: $(ratio "$s" "$full"))"
done
