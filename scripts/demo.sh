#!/usr/bin/env bash
# The built-in demo: builds a synthetic Photos library (Apple's schema, a few
# hundred photos and videos: edits, Live Photos, RAW pairs, bursts, some
# originals only "in iCloud"), a config and a staging folder in a temp dir,
# then runs the backup twice (the second run has nothing to do) and shows
# what was staged. Nothing outside the temp dir is touched.
# Usage: scripts/demo.sh [ASSETS]   (default 300). Keeps the temp dir with DEMO_KEEP=1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
assets=${1:-300}

if ! command -v cargo >/dev/null; then
    echo "the demo builds photos-backup from source: install Rust (https://rustup.rs) first" >&2
    exit 1
fi
echo "==> building photos-backup (release)"
cargo build --release --quiet --bin photos-backup --example make_library
bin=$PWD/target/release/photos-backup

demo=$(mktemp -d -t photos-backup-demo.XXXXXX)
[ -n "${DEMO_KEEP:-}" ] || trap 'rm -rf "$demo"' EXIT
library="$demo/Family Photos.photoslibrary"

echo "==> a synthetic Photos library with $assets assets"
target/release/examples/make_library --assets "$assets" --seed 2026 --years 2024-2026 --out "$library"

cat >"$demo/photos_backup.conf" <<CONF
[state]
dir = "$demo/state"
[staging]
dir = "$demo/staging"
[threshold]
default = "2024-01-01"
[[library]]
name = "family"
path = "$library"
CONF
conf="$demo/photos_backup.conf"

echo
echo "==> what a run would do: photos-backup run --dry-run"
"$bin" --config "$conf" run --dry-run
echo
echo "==> photos-backup run"
"$bin" --config "$conf" run
echo
echo "==> photos-backup run again (nothing changed: nothing to do)"
"$bin" --config "$conf" run
echo
echo "==> the staged tree (first files)"
(cd "$demo/staging" && find . -type f | sort | head -n 25)
echo "... $(find "$demo/staging" -type f | wc -l) files, $(du -sh "$demo/staging" | cut -f1) in $demo/staging"
echo
echo "==> one XMP sidecar"
sidecar=$(find "$demo/staging" -name '*.xmp' | sort | head -n 1)
sed -n '1,40p' "$sidecar"
echo
echo "==> the library as the reader sees it (photos-backup assets, first rows)"
"$bin" assets --library "$library" | head -n 8
