#!/usr/bin/env bash
# The long run of the Photos reader fuzzer (see docs/fuzzing.md): mutated
# copies of the six real libraries and two synthetic ones, each checked
# against the oracle (no panic, no hang, errors that name the library, safe
# paths, the library left untouched). Release build.
# Usage: scripts/fuzz-reader.sh [CASES [SEED]]     (default: 30000 1)
#        scripts/fuzz-reader.sh --replay SEED CASE  (one case, told in full)
# Environment: PHOTOS_BACKUP_FIXTURES (the real libraries),
# PHOTOS_BACKUP_REQUIRE_FIXTURES=1 (fail rather than fuzz synthetic ones only).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release --quiet --bin photos-backup --example fuzz_reader
if [ "${1:-}" = "--replay" ]; then
    exec target/release/examples/fuzz_reader "$@"
fi
exec target/release/examples/fuzz_reader "${1:-30000}" "${2:-1}"
