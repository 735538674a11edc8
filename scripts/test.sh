#!/usr/bin/env bash
# The README's test command (placeholder, being completed).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --check
cargo clippy --all-targets -- -D warnings
cargo test
