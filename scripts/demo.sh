#!/usr/bin/env bash
# The built-in demo: in a temp dir, a synthetic Photos library (Apple's schema,
# a few hundred photos and videos: edits, Live Photos, RAW pairs, bursts, some
# originals only "in iCloud"), a local borg repository and a config; then the
# whole job across a simulated month end (PHOTOS_BACKUP_NOW): stage, run again
# (nothing to do), show the status; a month later archive, verify and purge
# the finished months into borg; list the archives, find a photo and restore
# it. Nothing outside the temp dir is touched. Needs Rust and borg (installed
# with apt-get when missing and possible).
# Usage: scripts/demo.sh [ASSETS]   (default 300). Keeps the temp dir with DEMO_KEEP=1.
# DEMO_PROFILE=dev builds in debug mode (faster to build, slower to run).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
assets=${1:-300}

if ! command -v cargo >/dev/null; then
    echo "the demo builds photos-backup from source: install Rust (https://rustup.rs) first" >&2
    exit 1
fi
if ! command -v borg >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "==> installing borg (apt-get install borgbackup)"
        apt-get install -y -qq borgbackup >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null && apt-get install -y -qq borgbackup >/dev/null; }
    else
        echo "the demo needs borg: apt-get install borgbackup, or brew install borgbackup" >&2
        exit 1
    fi
fi
# DEMO_PROFILE=dev reuses a debug build (scripts/test.sh, after the tests).
profile=${DEMO_PROFILE:-release}
dir=$([ "$profile" = dev ] && echo debug || echo "$profile")
echo "==> building photos-backup ($profile)"
cargo build --profile "$profile" --quiet --bin photos-backup --example make_library
bin=$PWD/target/$dir/photos-backup

demo=$(mktemp -d -t photos-backup-demo.XXXXXX)
[ -n "${DEMO_KEEP:-}" ] || trap 'rm -rf "$demo"' EXIT
library="$demo/Family Photos.photoslibrary"
export TZ=UTC

echo "==> a synthetic Photos library with $assets assets of 2026"
"target/$dir/examples/make_library" --assets "$assets" --seed 2026 --years 2026-2026 --out "$library"

# The borg passphrase, from a file only its owner reads (on a Mac: the Keychain).
( umask 077 && printf 'demo passphrase, not a good one' >"$demo/borg.pass" )
cat >"$demo/photos_backup.conf" <<CONF
[state]
dir = "$demo/state"
[staging]
dir = "$demo/staging"
[threshold]
default = "2026-08-01"
[borg]
repository = "$demo/borg"
passphrase = "file:$demo/borg.pass"
# Originals still in iCloud hold a finished month open this many days.
max_pending_days = 3
[[library]]
name = "family"
path = "$library"
CONF
conf="$demo/photos_backup.conf"
pb() { "$bin" --config "$conf" "$@"; }
at() { local when=$1; shift; PHOTOS_BACKUP_NOW=$when "$bin" --config "$conf" "$@"; }

echo
echo "==> photos-backup init-repo"
pb init-repo
echo
echo "==> 25 August 2026, what a run would do: photos-backup run --dry-run"
at 2026-08-25T08:00:00Z run --dry-run
echo
echo "==> photos-backup run: everything since the threshold is staged"
at 2026-08-25T08:00:00Z run
echo
echo "==> five minutes later, photos-backup run again: nothing to do"
at 2026-08-25T08:05:00Z run
echo
echo "==> the staged tree (first files)"
(cd "$demo/staging" && find . -type f | sort | head -n 15)
echo "... $(find "$demo/staging" -type f | wc -l) files, $(du -sh "$demo/staging" | cut -f1) in $demo/staging"
echo
echo "==> one XMP sidecar"
sidecar=$(find "$demo/staging" -name '*.xmp' | sort | head -n 1)
sed -n '1,25p' "$sidecar"
echo
echo "==> photos-backup status"
at 2026-08-25T08:06:00Z status
echo
echo "==> 1 September 2026: August is over; the first run archives it"
at 2026-09-01T06:00:00Z run
echo
echo "==> photos-backup archives"
pb archives
echo
echo "==> photos-backup status"
at 2026-09-01T06:01:00Z status
echo
# A photo by its uuid (Photos names its files so), the first of the archive.
photo=$(find "$library/originals" -type f | sort | head -n 1)
photo=${photo##*/}
photo=${photo%%.*}
echo "==> where is photo $photo? photos-backup locate $photo"
pb locate "$photo"
echo
echo "==> photos-backup restore $photo --to $demo/restored"
pb restore "$photo" --to "$demo/restored"
echo
echo "==> the library as the reader sees it (photos-backup assets, first rows)"
"$bin" assets --library "$library" | head -n 6
