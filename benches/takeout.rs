//! Reading a Takeout part (issue 19) against the tools people use on one:
//! every member of a generated ~2 GB part read streaming and hashed with
//! BLAKE3 (what staging will do), against `unzip -p PART > /dev/null`
//! (inflate only), `unzip -o -d` (extract to disk) and, for the same set
//! as tgz, `tar xzOf` (inflate only) and `tar xzf` (extract); and the
//! run's own first step, every media member into a hashed, fsynced holding
//! file (`takeout::ingest::read_set`), against the extracting tool. Prints
//! seconds, MB/s and each figure as a ratio of the tool's, and the peak RSS
//! of this process (the reader's memory must not grow with member size).
//!
//! `cargo bench --bench takeout` (size: `BENCH_TAKEOUT_MB`, default 2048;
//! scratch: `BENCH_DIR`, default a temporary folder that is removed; parts
//! kept there are reused; `BENCH_RUNS`, default 2, best of).

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use photos_backup::takeout::archive::{self, Format, Item};
use photos_backup::takeout::ingest::{self, Holding};
use synthetic::takeout::{ArchiveFormat, TakeoutSpec};

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

/// Reads every member, hashing it; returns (members, bytes).
fn read_and_hash(part: &Path, format: Format) -> (usize, u64) {
    let (mut members, mut bytes) = (0, 0);
    archive::read_members(part, format, &mut |item| {
        if let Item::File(mut m) = item {
            let mut hasher = blake3::Hasher::new();
            bytes += std::io::copy(&mut m, &mut hasher)?;
            std::hint::black_box(hasher.finalize());
            members += 1;
        }
        Ok(())
    })
    .expect("the part reads");
    (members, bytes)
}

/// What a run does before staging: every media member into a hashed,
/// fsynced holding file. The holding folder is emptied before each round,
/// as the extracting tools' output is removed (a file already held by its
/// hash is not written again: a later round would write nothing).
fn into_holding(part: &Path, format: Format, holding: &Path, runs: usize) -> Duration {
    best_of(runs, || {
        Holding::clear_unreferenced(holding, &HashSet::new()).expect("an empty holding folder");
        let mut h = Holding::new(holding).expect("a holding folder");
        ingest::read_set(&[(part.to_owned(), format)], &mut h).expect("the set reads");
    })
}

/// The holding figure, and its ratio to the extracting tool's.
fn holding_rows(ext: &str, tool: &str, held: Duration, extract: Duration, bytes: u64) {
    row(
        &format!("{ext}: into holding files, hashed, fsynced (ours)"),
        held,
        bytes,
    );
    println!(
        "{ext}: ours into holding / {tool} extract {:.2}",
        held.as_secs_f64() / extract.as_secs_f64()
    );
}

fn run(cmd: &mut Command) {
    let status = cmd.stdout(Stdio::null()).status().expect("the tool starts");
    assert!(status.success(), "{cmd:?}: {status}");
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn row(what: &str, took: Duration, bytes: u64) {
    let s = took.as_secs_f64();
    println!("{what:<44} {s:>8.2} {:>8.0}", bytes as f64 / 1e6 / s);
}

/// Writes the part (unless kept in `BENCH_DIR`), reads it, runs the tools.
fn bench_format(dir: &Path, format: ArchiveFormat, photos: usize, media: u64, runs: usize) {
    let sub = dir.join(format!("{format:?}").to_lowercase());
    std::fs::create_dir_all(&sub).expect("scratch");
    let mut spec = TakeoutSpec::new(7, photos);
    spec.media_bytes = media;
    spec.format = format;
    let ext = if format == ArchiveFormat::Zip {
        "zip"
    } else {
        "tgz"
    };
    let part = sub.join(format!("takeout-{}-001.{ext}", spec.stamp));
    if !part.exists() {
        let started = Instant::now();
        spec.write(&sub).expect("write the part");
        println!(
            "(wrote {} in {:.1} s)",
            part.display(),
            started.elapsed().as_secs_f64()
        );
    }
    let size = std::fs::metadata(&part).expect("the part").len();
    let reader_format = if format == ArchiveFormat::Zip {
        Format::Zip
    } else {
        Format::TarGz
    };
    let mut counted = (0, 0);
    let ours = best_of(runs, || counted = read_and_hash(&part, reader_format));
    let held = into_holding(&part, reader_format, &sub.join("holding"), runs);
    let out = sub.join("extracted");
    let (stream, extract) = if format == ArchiveFormat::Zip {
        let stream = best_of(runs, || run(Command::new("unzip").arg("-p").arg(&part)));
        let extract = best_of(runs, || {
            run(Command::new("unzip")
                .args(["-o", "-q", "-d"])
                .arg(&out)
                .arg(&part));
            std::fs::remove_dir_all(&out).expect("remove the extraction");
        });
        (stream, extract)
    } else {
        let stream = best_of(runs, || run(Command::new("tar").arg("xzOf").arg(&part)));
        let extract = best_of(runs, || {
            std::fs::create_dir_all(&out).expect("scratch");
            run(Command::new("tar")
                .arg("xzf")
                .arg(&part)
                .arg("-C")
                .arg(&out));
            std::fs::remove_dir_all(&out).expect("remove the extraction");
        });
        (stream, extract)
    };
    let tool = if format == ArchiveFormat::Zip {
        "unzip"
    } else {
        "tar"
    };
    println!(
        "{ext}: {} members, {:.0} MB of members, part {:.0} MB",
        counted.0,
        counted.1 as f64 / 1e6,
        size as f64 / 1e6
    );
    row(
        &format!("{ext}: read + BLAKE3 every member (ours)"),
        ours,
        counted.1,
    );
    let inflate = if format == ArchiveFormat::Zip {
        "unzip -p > /dev/null"
    } else {
        "tar xzOf > /dev/null"
    };
    let extract_name = if format == ArchiveFormat::Zip {
        "unzip -o -d DIR"
    } else {
        "tar xzf -C DIR"
    };
    row(
        &format!("{ext}: {inflate} (inflate only)"),
        stream,
        counted.1,
    );
    row(
        &format!("{ext}: {extract_name} (extract to disk)"),
        extract,
        counted.1,
    );
    println!(
        "{ext}: ours / {tool} inflate-only {:.2}, ours / {tool} extract {:.2}",
        ours.as_secs_f64() / stream.as_secs_f64(),
        ours.as_secs_f64() / extract.as_secs_f64()
    );
    holding_rows(ext, tool, held, extract, counted.1);
    if std::env::var_os("BENCH_DIR").is_none() {
        std::fs::remove_dir_all(&sub).expect("remove the scratch part");
    }
}

fn main() {
    let mb: u64 = std::env::var("BENCH_TAKEOUT_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2048);
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let temp;
    let dir = if let Ok(d) = std::env::var("BENCH_DIR") {
        std::path::PathBuf::from(d)
    } else {
        temp = tempfile::tempdir().expect("a scratch folder");
        temp.path().to_owned()
    };
    // Phone photos of about 3 MB; with album copies, motion and edited
    // files a photo costs about 1.75 media files.
    let media = 3 << 20;
    let photos = ((mb << 20) as f64 / (media as f64 * 1.75)) as usize;
    println!("Takeout part of ~{mb} MB ({photos} photos of 3 MiB), best of {runs}");
    println!("{:<44} {:>8} {:>8}", "measure", "seconds", "MB/s");
    for format in [ArchiveFormat::Zip, ArchiveFormat::Tgz] {
        bench_format(&dir, format, photos, media, runs);
    }
    println!("peak RSS of the reader's process: {:.0} MB", peak_rss_mb());
}
