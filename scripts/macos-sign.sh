#!/usr/bin/env bash
# Signs the photos-backup binary with a stable, self-signed code-signing
# identity, so macOS keeps its Full Disk Access (and its Keychain, Local
# Network and Automation grants) across rebuilds and upgrades.
#
# Why: an unsigned or ad-hoc signed Rust build is known to macOS by its
# hash (its designated requirement is `cdhash H"..."`), new with every
# build, so every grant silently stops applying while System Settings still
# shows it on. Signed with a certificate, the requirement becomes
# `identifier "org.photos-backup" and certificate leaf = H"..."`, the same
# for every build signed with that certificate (public reports:
# trycua/cua#1792, clintcan/macrdp#141, go-gui-org/go-gui#303).
#
# Usage, once after each build or upgrade (the identity is made the first
# time, in the login keychain; no Apple developer account is needed):
#   scripts/macos-sign.sh /usr/local/bin/photos-backup
# Then grant Full Disk Access to that path once more (the last time).
#
# Unverified on a Mac by this project: written from the reports above and
# the `security`, `openssl` and `codesign` manuals.
set -euo pipefail

binary="${1:?usage: scripts/macos-sign.sh /path/to/photos-backup}"
identity="${PHOTOS_BACKUP_SIGN_IDENTITY:-photos-backup signing}"
identifier="${PHOTOS_BACKUP_SIGN_IDENTIFIER:-org.photos-backup}"
keychain="$HOME/Library/Keychains/login.keychain-db"

[ "$(uname -s)" = Darwin ] || { echo "macos-sign.sh: macOS only" >&2; exit 2; }
[ -f "$binary" ] || { echo "macos-sign.sh: no file $binary" >&2; exit 2; }

if ! security find-certificate -c "$identity" "$keychain" >/dev/null 2>&1; then
    echo "creating the code-signing identity \"$identity\" in $keychain"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' EXIT
    chmod 700 "$tmp"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
        -subj "/CN=$identity" \
        -addext "basicConstraints=critical,CA:false" \
        -addext "keyUsage=critical,digitalSignature" \
        -addext "extendedKeyUsage=critical,codeSigning" \
        -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null
    # An empty export password: the file lives in a private temp folder for
    # a moment. `-legacy` (OpenSSL 3) writes what `security import` reads;
    # LibreSSL (macOS's own openssl) has no such flag and needs none.
    legacy=()
    if openssl version | grep -q '^OpenSSL 3'; then legacy=(-legacy); fi
    openssl pkcs12 -export "${legacy[@]}" -inkey "$tmp/key.pem" -in "$tmp/cert.pem" \
        -name "$identity" -passout pass: -out "$tmp/identity.p12"
    security import "$tmp/identity.p12" -k "$keychain" -P "" -T /usr/bin/codesign
fi

codesign --force --sign "$identity" --identifier "$identifier" "$binary"
echo "signed $binary; its designated requirement (stable across builds):"
codesign --display --requirements - "$binary" 2>&1 | sed -n 's/^designated => /  /p'
