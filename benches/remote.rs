//! The remote stack on loopback (our own sshd, SSHFS, gocryptfs): how long
//! the gate, mounting and unmounting take, and the mirror's copy path
//! (atomic copy: temp name, fsync, rename, folder fsync) against `cp -r`
//! onto the same decrypted mount. `cargo bench --bench remote`
//! (`BENCH_MB`: data for the throughput part, default 200).

#![allow(dead_code)] // the test harness has more than the bench uses

#[path = "../tests/common/remote.rs"]
mod remote;
#[path = "../tests/common/tools.rs"]
mod tools; // `remote` finds its tools through `super::tools`

use std::process::Command;
use std::time::{Duration, Instant};

use photos_backup::export::copy;
use photos_backup::process::System;
use photos_backup::remote::mount::{self, MountEnv};
use photos_backup::remote::network;

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let megabytes: usize = std::env::var("BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let server = remote::TestServer::start();
    let remote = server.remote();
    let env = MountEnv::on(&photos_backup::host::Host::current());
    let password = server.password();

    let gate = best_of(5, || {
        assert!(network::gate(&remote, env.os, &env.tool_dirs, &System).is_reachable());
    });
    let mut mount_time = Duration::MAX;
    let mut unmount_time = Duration::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        mount::ensure_mounted(&remote, &password, &System, &env).unwrap();
        mount_time = mount_time.min(t.elapsed());
        let t = Instant::now();
        mount::unmount(&remote, &System, &env).unwrap();
        unmount_time = unmount_time.min(t.elapsed());
    }
    println!("gate (TCP probe)            {:>8.1} ms", ms(gate));
    println!("mount (sshfs + gocryptfs)   {:>8.1} ms", ms(mount_time));
    println!("unmount (both)              {:>8.1} ms", ms(unmount_time));
    println!(
        "gate + mount + unmount      {:>8.1} ms",
        ms(gate + mount_time + unmount_time)
    );

    // Throughput: the same files onto the same mount, by cp -r and by the mirror's copy.
    let data = tempfile::tempdir().unwrap();
    let src = data.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let block: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for i in 0..megabytes {
        std::fs::write(src.join(format!("IMG_{i:04}.HEIC")), &block).unwrap();
    }
    let mounted = mount::ensure_mounted(&remote, &password, &System, &env).unwrap();
    let plain = mounted.plain.clone();
    let t = Instant::now();
    let status = Command::new("cp")
        .arg("-r")
        .arg(&src)
        .arg(plain.join("cp"))
        .status()
        .unwrap();
    assert!(status.success());
    let _ = Command::new("sync").status();
    let cp = t.elapsed();
    let t = Instant::now();
    let mut dirs = copy::UnsyncedDirs::default();
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        copy::copy_unhashed_in(
            &entry.path(),
            &plain.join("mirror").join(entry.file_name()),
            &mut dirs,
        )
        .unwrap();
    }
    dirs.sync().unwrap();
    let ours = t.elapsed();
    mount::unmount(&remote, &System, &env).unwrap();
    let rate = |d: Duration| megabytes as f64 * 1.048_576 / d.as_secs_f64();
    println!(
        "cp -r + sync onto the mount {:>8.2} s  {:>7.1} MB/s  ({megabytes} MiB)",
        cp.as_secs_f64(),
        rate(cp)
    );
    println!(
        "mirror copy onto the mount  {:>8.2} s  {:>7.1} MB/s",
        ours.as_secs_f64(),
        rate(ours)
    );
    println!("mirror / cp throughput      {:>8.2}", rate(ours) / rate(cp));
}
