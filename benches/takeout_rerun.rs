//! A re-run over a Takeout set already processed (issue 19): the promise is
//! that it reads nothing of the parts but their edges (the fingerprint of
//! `takeout::inbox` hashes a part's first and last 64 KiB). Through the
//! release binary, on a generated set of several zip parts of incompressible
//! media: the run that first sees the parts, the run that reads and stages
//! them, then the re-run; each traced with `strace` so that the bytes read
//! from files in the inbox are counted exactly (every `read`, `pread64`,
//! `readv`, `preadv`, `mmap`, `sendfile`, `copy_file_range` and `splice` on a
//! file descriptor under the inbox), side by side with `cat` and
//! `unzip -p` of the same parts to /dev/null, traced the same way. The
//! re-run is also timed without the tracer, best of `BENCH_RUNS`.
//!
//! `scripts/bench-takeout-rerun.sh` (installs strace and unzip if missing),
//! or `cargo bench --bench takeout_rerun` with: `BENCH_TAKEOUT_GB` (size of
//! the set, default 10), `BENCH_TAKEOUT_PART_MB` (part size, default 2048),
//! `BENCH_RUNS` (untraced re-runs, default 3), `BENCH_DIR` (scratch, default
//! a temporary folder, removed; a set kept in `BENCH_DIR` is used again;
//! staging and state are removed once the runs are measured). The disk
//! needs about twice the set's size free (the set, and staging): checked
//! before anything is written.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use synthetic::takeout::{Manifest, TakeoutSpec};

const BIN: &str = env!("CARGO_BIN_EXE_photos-backup");
const SOURCE: &str = "bench-google";
/// Bytes the fingerprint reads at each end of a part (`takeout::inbox::EDGE`).
const EDGE: u64 = 64 * 1024;
/// The system calls through which a process can take bytes from a file.
const READS: &str = "read,pread64,readv,preadv,preadv2,mmap,sendfile,copy_file_range,splice";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// What one traced command did.
struct Traced {
    took: Duration,
    /// Bytes taken from files under the inbox, by file name.
    by_file: BTreeMap<String, u64>,
    out: String,
}

impl Traced {
    fn bytes(&self) -> u64 {
        self.by_file.values().sum()
    }
}

/// Runs `cmd` under `strace -f` (stopping only at the reading calls) and
/// counts the bytes it took from files under `inbox`.
fn traced(scratch: &Path, inbox: &Path, cmd: &mut Command) -> Traced {
    let trace_dir = scratch.join("trace");
    let _ = fs::remove_dir_all(&trace_dir);
    fs::create_dir_all(&trace_dir).expect("a trace folder");
    let mut strace = Command::new("strace");
    strace
        .args(["-f", "-ff", "--seccomp-bpf", "-y", "-qq", "-s", "0", "-e"])
        .arg(format!("trace={READS}"))
        .arg("-e")
        .arg("signal=none")
        .arg("-o")
        .arg(trace_dir.join("t"))
        .arg("--")
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .envs(
            cmd.get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        );
    let started = Instant::now();
    let output = strace
        .stderr(Stdio::piped())
        .output()
        .expect("strace starts");
    let took = started.elapsed();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{cmd:?} failed: {out}");
    let prefix = format!("{}/", inbox.display());
    let mut by_file = BTreeMap::new();
    for entry in fs::read_dir(&trace_dir).expect("the traces") {
        let text = fs::read_to_string(entry.expect("a trace").path()).expect("a trace");
        for line in text.lines() {
            if let Some((file, n)) = bytes_taken(line, &prefix) {
                let name = file.rsplit('/').next().unwrap_or(file).to_owned();
                *by_file.entry(name).or_insert(0) += n;
            }
        }
    }
    fs::remove_dir_all(&trace_dir).expect("remove the traces");
    Traced { took, by_file, out }
}

/// The file and the bytes of one traced call, when it took bytes from a
/// file whose path (as `strace -y` shows it) starts with `prefix`: the
/// result of a read, the length of an `mmap`. For `sendfile` the source is
/// the second descriptor, for every other call the first.
fn bytes_taken<'a>(line: &'a str, prefix: &str) -> Option<(&'a str, u64)> {
    let (call, args) = line.split_once('(')?;
    let mut fds = args.match_indices('<').filter_map(|(at, _)| {
        let rest = &args[at + 1..];
        rest.find('>').map(|end| (at, &rest[..end]))
    });
    let (at, path) = if call == "sendfile" {
        fds.nth(1)?
    } else {
        fds.next()?
    };
    if !path.starts_with(prefix) {
        return None;
    }
    if call == "mmap" {
        // mmap(ADDR, LENGTH, PROT, FLAGS, FD<path>, OFFSET)
        let length = args[..at].split(',').nth(1)?.trim();
        return Some((path, length.parse().ok()?));
    }
    let result = line.rsplit_once(") = ")?.1.split_whitespace().next()?;
    // -1 and the like: nothing taken.
    result.parse::<u64>().ok().map(|n| (path, n))
}

fn run(config: &Path, now: &str) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.arg("--config")
        .arg(config)
        .args(["run"])
        .env("PHOTOS_BACKUP_NOW", now)
        .env("TZ", "UTC");
    cmd
}

fn untraced_rerun(config: &Path, now: &str) -> Duration {
    let started = Instant::now();
    let out = run(config, now).output().expect("the run starts");
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("takeout: nothing new"),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn row(what: &str, t: &Traced, set_bytes: u64) {
    println!(
        "{what:<46} {:>9.2} {:>14} {:>10.4}",
        t.took.as_secs_f64(),
        t.bytes(),
        t.bytes() as f64 / set_bytes as f64
    );
}

fn write_config(scratch: &Path, inbox: &Path) -> PathBuf {
    let quote = |p: &Path| toml_string(&p.display().to_string());
    let text = format!(
        "[state]\ndir = {}\n[staging]\ndir = {}\n[threshold]\ndefault = \"2000-01-01\"\n\
         [[takeout]]\nname = \"{SOURCE}\"\ninbox = {}\ntime_zone = \"UTC\"\n",
        quote(&scratch.join("state")),
        quote(&scratch.join("staging")),
        quote(inbox)
    );
    let path = scratch.join("photos_backup.conf");
    fs::write(&path, text).expect("the config");
    path
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The set (unless `inbox` holds one already: a kept `BENCH_DIR`).
fn make_set(inbox: &Path, gb: f64, part_mb: u64) -> Vec<PathBuf> {
    let existing = parts_in(inbox);
    if !existing.is_empty() {
        return existing;
    }
    fs::create_dir_all(inbox).expect("the inbox");
    // Phone photos of 3 MiB; album copies, motion videos and edited copies
    // make a photo about 1.75 media files.
    let media: u64 = 3 << 20;
    let photos = (gb * 1e9 / (media as f64 * 1.75)) as usize;
    let mut spec = TakeoutSpec::new(19, photos);
    spec.media_bytes = media;
    spec.part_bytes = part_mb << 20;
    let started = Instant::now();
    let manifest: Manifest = spec.write(inbox).expect("write the set");
    println!(
        "(wrote {} parts, {} members, {:.0} MB of members, in {:.0} s)",
        manifest.parts.len(),
        manifest.members.len(),
        mb(manifest.member_bytes()),
        started.elapsed().as_secs_f64()
    );
    parts_in(inbox)
}

fn parts_in(inbox: &Path) -> Vec<PathBuf> {
    let mut parts: Vec<PathBuf> = fs::read_dir(inbox)
        .map(|d| {
            d.map(|e| e.expect("an inbox entry").path())
                .filter(|p| p.extension().is_some_and(|e| e == "zip"))
                .collect()
        })
        .unwrap_or_default();
    parts.sort();
    parts
}

/// The set, and staging as large: refused up front rather than filling a
/// shared disk half way through.
fn check_free_space(scratch: &Path, inbox: &Path, gb: f64) {
    let need = if parts_in(inbox).is_empty() { 2.1 } else { 1.1 } * gb * 1e9;
    let stat = rustix::fs::statvfs(scratch).expect("the scratch folder's file system");
    let free = (stat.f_bavail * stat.f_frsize) as f64;
    assert!(
        free >= need,
        "{}: {:.1} GB free, the set and staging need about {:.1} GB \
         (set BENCH_TAKEOUT_GB lower, or BENCH_DIR elsewhere)",
        scratch.display(),
        free / 1e9,
        need / 1e9
    );
}

fn main() {
    let gb: f64 = env_or("BENCH_TAKEOUT_GB", 10.0);
    let part_mb: u64 = env_or("BENCH_TAKEOUT_PART_MB", 2048);
    let runs: usize = env_or("BENCH_RUNS", 3);
    for tool in ["strace", "unzip"] {
        let found = Command::new(tool)
            .arg("-h")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        assert!(
            found,
            "needs {tool} (scripts/bench-takeout-rerun.sh installs it)"
        );
    }
    let temp;
    let scratch = if let Ok(d) = std::env::var("BENCH_DIR") {
        PathBuf::from(d)
    } else {
        temp = tempfile::tempdir().expect("a scratch folder");
        temp.path().to_owned()
    };
    let inbox = scratch.join("inbox");
    check_free_space(&scratch, &inbox, gb);
    let parts = make_set(&inbox, gb, part_mb);
    let sizes: Vec<u64> = parts
        .iter()
        .map(|p| fs::metadata(p).expect("a part").len())
        .collect();
    let set_bytes: u64 = sizes.iter().sum();
    let edges: u64 = sizes
        .iter()
        .map(|&s| s.min(EDGE) + s.saturating_sub(EDGE).min(EDGE))
        .sum();
    let config = write_config(&scratch, &inbox);
    let _ = fs::remove_dir_all(scratch.join("state"));
    let _ = fs::remove_dir_all(scratch.join("staging"));

    println!(
        "Takeout set: {} zip parts, {:.0} MB (parts of {part_mb} MiB); edges of all parts: {edges} bytes",
        parts.len(),
        mb(set_bytes)
    );
    // The first run only sees the parts (they may still be arriving); the
    // next, 11 minutes later, reads and stages the set.
    let seen = traced(&scratch, &inbox, &mut run(&config, "2026-03-01T10:00:00Z"));
    assert!(seen.out.contains("waiting for its parts"), "{}", seen.out);
    let first = traced(&scratch, &inbox, &mut run(&config, "2026-03-01T10:11:00Z"));
    assert!(first.out.contains("staged"), "{}", first.out);
    let again = traced(&scratch, &inbox, &mut run(&config, "2026-03-01T10:30:00Z"));
    assert!(again.out.contains("takeout: nothing new"), "{}", again.out);
    let untraced = (0..runs)
        .map(|i| untraced_rerun(&config, &format!("2026-03-01T11:{:02}:00Z", i % 60)))
        .min()
        .expect("at least one run");
    // The runs are measured: staging goes before the tools read the set
    // (a kept BENCH_DIR keeps only the set, for the next time).
    for dir in ["state", "staging"] {
        fs::remove_dir_all(scratch.join(dir)).expect("remove the scratch run");
    }
    let mut cat = Command::new("sh");
    cat.arg("-c")
        .arg("cat \"$@\" > /dev/null")
        .arg("cat")
        .args(&parts);
    let cat = traced(&scratch, &inbox, &mut cat);
    let mut unzip = Command::new("sh");
    unzip
        .arg("-c")
        .arg("for p in \"$@\"; do unzip -p \"$p\" > /dev/null || exit 1; done")
        .arg("unzip")
        .args(&parts);
    let unzip = traced(&scratch, &inbox, &mut unzip);

    println!(
        "{:<46} {:>9} {:>14} {:>10}",
        "traced (strace -f, reading calls only)", "seconds", "inbox bytes", "of the set"
    );
    row("run 1: sees the parts (fingerprints)", &seen, set_bytes);
    row("run 2: reads and stages the set", &first, set_bytes);
    row("run 3: the re-run, nothing new", &again, set_bytes);
    row("cat PARTS > /dev/null", &cat, set_bytes);
    row("unzip -p PART > /dev/null, each part", &unzip, set_bytes);
    println!(
        "re-run untraced, best of {runs}: {:.3} s; re-run bytes / edges of the parts: {:.3}",
        untraced.as_secs_f64(),
        again.bytes() as f64 / edges as f64
    );
    println!(
        "re-run / run 2: time {:.5}, bytes {:.7}",
        again.took.as_secs_f64() / first.took.as_secs_f64(),
        again.bytes() as f64 / first.bytes() as f64
    );
    for (name, bytes) in &again.by_file {
        println!("  re-run read {bytes} bytes of {name}");
    }
}
