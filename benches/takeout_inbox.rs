//! What looking at a Takeout inbox costs each run (issue 19): the
//! fingerprint of an extracted `Takeout/` folder (a walk of every entry,
//! no file opened; done every run, read or not) against `find` listing the
//! same entries with size and time (the least a tool can do to notice a
//! change), and the fingerprint of a zip part (first and last 64 KiB, on
//! a thread of its own) against an `lstat` of it in this process. Prints seconds per run, entries per second and
//! each figure as a ratio of the tool's.
//!
//! `cargo bench --bench takeout_inbox` (photos: `BENCH_INBOX_PHOTOS`,
//! default 20000, about 2.6 files each with sidecars and album copies;
//! `BENCH_RUNS`, default 3, best of; scratch in a temporary folder,
//! removed).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use photos_backup::takeout::archive::Format;
use photos_backup::takeout::inbox;
use synthetic::takeout::TakeoutSpec;

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .min()
        .expect("at least one run")
}

fn tool(runs: usize, program: &str, args: &[&std::ffi::OsStr]) -> Duration {
    best_of(runs, || {
        let status = Command::new(program)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .expect("the tool starts");
        assert!(status.success(), "{program}: {status}");
    })
}

fn entries_below(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir).into_iter().count()
}

fn main() {
    let photos: usize = std::env::var("BENCH_INBOX_PHOTOS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let scratch = tempfile::tempdir().expect("a scratch folder");
    let mut spec = TakeoutSpec::new(11, photos);
    spec.media_bytes = 256;
    let folder = spec
        .write_extracted(scratch.path())
        .expect("the folder")
        .parts[0]
        .path
        .clone();
    let zips = scratch.path().join("zips");
    std::fs::create_dir(&zips).expect("a folder for the zip");
    let part = spec.write(&zips).expect("the zip").parts[0].path.clone();
    let entries = entries_below(&folder.join("Takeout"));
    println!("extracted Takeout of {photos} photos: {entries} entries; best of {runs}");

    let ours = best_of(runs, || {
        inbox::fingerprint(&folder, Format::Folder, inbox::BOUND).expect("the fingerprint");
    });
    let takeout = folder.join("Takeout");
    let find = tool(
        runs,
        "find",
        &[
            takeout.as_os_str(),
            "-printf".as_ref(),
            "%p %s %T@ %l\n".as_ref(),
        ],
    );
    let per_s = |d: Duration| entries as f64 / d.as_secs_f64();
    println!(
        "folder fingerprint (ours)        {:>8.3} s {:>10.0} entries/s",
        ours.as_secs_f64(),
        per_s(ours)
    );
    println!(
        "find -printf path size time link {:>8.3} s {:>10.0} entries/s",
        find.as_secs_f64(),
        per_s(find)
    );
    println!(
        "ours / find                      {:>8.2}",
        ours.as_secs_f64() / find.as_secs_f64()
    );

    let size = std::fs::metadata(&part).expect("the part").len();
    let zip = best_of(runs.max(20), || {
        inbox::fingerprint(&part, Format::Zip, inbox::BOUND).expect("the fingerprint");
    });
    let stat = best_of(runs.max(20), || {
        std::hint::black_box(std::fs::symlink_metadata(&part).expect("the part"));
    });
    println!(
        "zip part of {:.0} MB: fingerprint (ours) {:.3} ms, lstat {:.3} ms, ours / lstat {:.1}",
        size as f64 / 1e6,
        zip.as_secs_f64() * 1e3,
        stat.as_secs_f64() * 1e3,
        zip.as_secs_f64() / stat.as_secs_f64()
    );
}
