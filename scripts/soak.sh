#!/bin/sh
# The long soak: months of simulated runs against the real remote stack on
# loopback, with random faults (see tests/soak.rs): sshd down, network cut,
# SIGKILL of the run, dead or frozen SSHFS/gocryptfs daemons before and
# during runs, SIGTERM while a mount is dead, a run lock stuck past the
# longest run, a full disk, a borg lock. Needs root (tmpfs, FUSE, fusectl),
# sshd, sshfs, gocryptfs, borg and flock, as scripts/test.sh installs them.
#
#   scripts/soak.sh                      # 92 days, one run an hour
#   PB_SOAK_DAYS=30 PB_SOAK_STEP_MINUTES=5 PB_SOAK_SEED=7 scripts/soak.sh
#
# Also: PB_SOAK_EVENTS_PER_DAY, PB_SOAK_FAULT_PROBABILITY,
# PB_SOAK_REMOTE_CHECK_EVERY (compare the remote view every Nth good run).
set -eu
cd "$(dirname "$0")/.."
export PB_SOAK_DAYS="${PB_SOAK_DAYS:-92}"
export PB_SOAK_STEP_MINUTES="${PB_SOAK_STEP_MINUTES:-60}"
exec cargo test --release --test soak -- --nocapture
