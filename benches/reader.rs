//! Where the reader's time goes: opening a library (copying the database and
//! its WAL, discovering the schema, the integrity check), listing every
//! asset, and selecting those changed since a date, on synthetic libraries
//! with Apple's schema, lean and of realistic size (the analysis tables and
//! wide rows of a real database); and a run's open after Photos wrote to its
//! WAL (the kept copy, only the WAL copied, pages checked as read).
//! `cargo bench --bench reader` (sizes: `BENCH_SIZES`, default 100000;
//! `BENCH_REALISTIC=0` for lean libraries only; libraries are kept in
//! `BENCH_DIR` when set). The figures of the whole command, with peak
//! memory, come from `scripts/bench-reader.sh`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use photos_backup::photos::snapshot;
use photos_backup::photos::{CheckLog, Library, Selection};
use synthetic::{Flavor, SyntheticLibrary};

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = None;
    let mut value = None;
    for _ in 0..runs {
        let started = Instant::now();
        let v = f();
        let took = started.elapsed();
        if best.is_none_or(|b| took < b) {
            best = Some(took);
        }
        value = Some(v);
    }
    (best.unwrap(), value.unwrap())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn library(dir: &Path, n: usize, realistic: bool) -> PathBuf {
    let kind = if realistic { "-realistic" } else { "" };
    let root = dir.join(format!("Bench-{n}{kind}.photoslibrary"));
    if !root.exists() {
        let mut lib = SyntheticLibrary::new(Flavor::Modern);
        lib.random(n, 7, 2005..=2026)
            .write_files(n <= 200_000)
            .realistic_size(realistic);
        lib.write(&root).expect("write the synthetic library");
    }
    root
}

/// What Photos does while open: one write into the WAL, no checkpoint.
fn photos_writes(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.execute_batch(
        "PRAGMA wal_autocheckpoint = 0; UPDATE ZASSET SET Z_OPT = Z_OPT + 1 WHERE Z_PK = 1;",
    )
    .unwrap();
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )
    .unwrap();
}

fn main() {
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let keep = std::env::var_os("BENCH_DIR").map(PathBuf::from);
    let tmp = tempfile::tempdir().unwrap();
    let dir = keep.clone().unwrap_or_else(|| tmp.path().to_owned());
    std::fs::create_dir_all(&dir).unwrap();
    let runs = 3;

    println!(
        "{:>9}  {:<34} {:>10} {:>10}",
        "assets", "step (best of 3)", "ms", "ms/goal"
    );
    let realistic: &[bool] = if std::env::var("BENCH_REALISTIC").is_ok_and(|v| v == "0") {
        &[false]
    } else {
        &[false, true]
    };
    for (n, realistic) in sizes
        .iter()
        .flat_map(|n| realistic.iter().map(move |r| (*n, *r)))
    {
        let root = library(&dir, n, realistic);
        let size = std::fs::metadata(root.join("database/Photos.sqlite")).map_or(0, |m| m.len());
        println!(
            "{n:>9}  {} database, {} MB",
            if realistic { "realistic" } else { "lean" },
            size / 1_000_000
        );
        let db = root.join("database/Photos.sqlite");
        let scale = n as f64 / 100_000.0;
        let (copy, ()) = best_of(runs, || {
            drop(snapshot::take_checked(&db, |_| Ok(())).unwrap());
        });
        let (open, lib) = best_of(runs, || Library::open(&root).unwrap());
        let all = Selection {
            all: true,
            ..Selection::default()
        };
        let (list, count) = best_of(runs, || {
            let mut count = 0usize;
            lib.for_each_asset(&all, |_| {
                count += 1;
                Ok::<(), photos_backup::photos::PhotosError>(())
            })
            .unwrap();
            count
        });
        let since = Selection {
            all: true,
            since: Some(Utc::now() - chrono::Duration::days(30)),
            uuids: Vec::new(),
        };
        let (select, selected) = best_of(runs, || lib.assets(&since).unwrap().len());
        let row = |step: &str, d: Duration, goal_ms: Option<f64>| {
            let ratio = goal_ms.map_or_else(|| "-".to_owned(), |g| format!("{:.2}", ms(d) / g));
            println!("{n:>9}  {step:<34} {:>10.1} {ratio:>10}", ms(d));
        };
        row("snapshot (copy db + wal, open)", copy, None);
        row("open (snapshot, schema, check)", open, None);
        row(&format!("list all ({count} assets)"), list, None);
        row("open + list all", open + list, Some(1000.0 * scale));
        row(&format!("select last 30 days ({selected})"), select, None);
        row("open + select", open + select, Some(100.0 * scale));
        // A run's open after Photos wrote to its WAL: the first one checks
        // the copy whole; the next ones copy the WAL and check pages read.
        let state = tempfile::tempdir().unwrap();
        let log = CheckLog::in_dir(state.path());
        let now = Utc::now();
        drop(Library::open_for_run(&root, Some(&log), now).unwrap());
        let (changed, lib) = best_of(runs, || {
            photos_writes(&db);
            Library::open_for_run(&root, Some(&log), now).unwrap()
        });
        let (select_changed, _) = best_of(runs, || lib.assets(&since).unwrap().len());
        row("run open after a WAL write", changed, None);
        row(
            "run open + select",
            changed + select_changed,
            Some(100.0 * scale),
        );
        println!(
            "{:>9}  check share of open: {:.0}%; selection/listing: {:.3}",
            "",
            100.0 * (ms(open) - ms(copy)).max(0.0) / ms(open),
            ms(select) / ms(list)
        );
    }
}
