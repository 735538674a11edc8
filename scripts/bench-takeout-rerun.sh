#!/usr/bin/env bash
# Benchmark of a re-run over an already processed Takeout set (issue 19,
# docs/benchmarks.md): generates a set of zip parts, runs the release
# binary over it (sees, then reads and stages it), then again, counting the
# bytes each run reads from the inbox with strace, beside cat and unzip -p
# of the same parts. See benches/takeout_rerun.rs for what is measured.
# Usage: scripts/bench-takeout-rerun.sh
# Environment: BENCH_TAKEOUT_GB (default 10), BENCH_TAKEOUT_PART_MB
#   (default 2048), BENCH_RUNS (default 3), BENCH_DIR (scratch, default a
#   temp dir, removed). Needs about twice BENCH_TAKEOUT_GB free on disk.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# -eq 0 ] || { sed -n '2,10p' "$0" >&2; exit 2; }
for tool in strace unzip; do
    command -v "$tool" >/dev/null && continue
    apt-get install -y -qq "$tool" >/dev/null 2>&1 || true
    command -v "$tool" >/dev/null || bench_die "needs $tool: apt-get install $tool"
done
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec cargo bench --quiet --bench takeout_rerun
