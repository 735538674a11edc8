//! A fuzzer for the Photos library reader on stable Rust: each case copies
//! one real or synthetic library, mutates it (see `mutate`), and checks the
//! oracle (see `oracle`) on the library API and, for a share of the cases,
//! on `photos-backup assets --json`. Cases are drawn from `(seed, case)`
//! alone, so any finding replays on its own. Shared by the short run in CI
//! (`tests/fuzz_reader.rs`) and the long one (`examples/fuzz_reader.rs`).

#![allow(dead_code)] // the test and the example each use their own subset

pub mod apply;
pub mod mutate;
pub mod oracle;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use photos_backup::photos::{Asset, Library, Selection};
use synthetic::{AssetSpec, Flavor, SplitMix64, SyntheticLibrary};

use mutate::{Mutation, TableInfo};
use oracle::{Read, Violation};

/// The six real libraries (as in `tests/common`).
pub const FIXTURES: [&str; 6] = [
    "Test-10.15.7",
    "Test-13.0.0",
    "Test-26.1",
    "Test-Empty-Library-Ventura-13-5",
    "Test-Media-Types-15.7.2",
    "Test-Shared-10.15.1",
];

/// How to fuzz.
#[derive(Debug, Clone)]
pub struct Config {
    pub seed: u64,
    /// The folder of the real libraries, when present.
    pub fixtures: Option<PathBuf>,
    /// The `photos-backup` binary, for the CLI share of the cases.
    pub binary: PathBuf,
    /// Share of the cases also run through `assets --json` (0 to 1).
    pub cli_share: f64,
    /// How long one read may take before it counts as a hang.
    pub timeout: Duration,
    /// Cases run at once. Much of a case is waiting (the reader pauses
    /// before retrying a damaged copy), so a few fit on two CPUs.
    pub jobs: usize,
}

/// A library the cases start from, with what the reader makes of it unmutated.
struct Base {
    name: String,
    root: PathBuf,
    tables: Vec<TableInfo>,
    baseline: Vec<Asset>,
}

/// The fuzzer: its config and the prepared base libraries.
pub struct Fuzzer {
    config: Config,
    tmp: tempfile::TempDir,
    bases: Vec<Base>,
}

/// A broken rule in one case, with all it takes to replay it.
#[derive(Debug, Clone)]
pub struct Finding {
    pub seed: u64,
    pub case: u64,
    pub base: String,
    pub mutations: Vec<String>,
    pub violation: Violation,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "FINDING {}: seed {} case {} on {}: {}",
            self.violation.kind, self.seed, self.case, self.base, self.violation.detail
        )?;
        for m in &self.mutations {
            writeln!(f, "    mutation: {m}")?;
        }
        write!(
            f,
            "    replay: scripts/fuzz-reader.sh --replay {} {}",
            self.seed, self.case
        )
    }
}

/// What one case did.
#[derive(Debug, Clone)]
pub struct CaseReport {
    pub base: String,
    pub mutations: Vec<String>,
    /// Mutations the database refused (the case ran without them).
    pub refused: usize,
    /// `read` or the kind of error the reader gave.
    pub outcome: String,
    pub cli: bool,
    pub findings: Vec<Finding>,
}

/// The tally of a run.
#[derive(Debug, Default)]
pub struct Report {
    pub cases: u64,
    /// Reader executions: library API reads plus `assets --json` runs.
    pub executions: u64,
    pub mutations: u64,
    pub refused: u64,
    pub outcomes: BTreeMap<String, u64>,
    pub findings: Vec<Finding>,
    pub elapsed: Duration,
}

impl Report {
    pub fn add(&mut self, case: CaseReport) {
        self.cases += 1;
        self.executions += 1 + u64::from(case.cli);
        self.mutations += case.mutations.len() as u64;
        self.refused += case.refused as u64;
        *self.outcomes.entry(case.outcome).or_default() += 1;
        self.findings.extend(case.findings);
    }

    /// Findings counted by kind.
    #[must_use]
    pub fn by_kind(&self) -> BTreeMap<&'static str, usize> {
        let mut kinds = BTreeMap::new();
        for f in &self.findings {
            *kinds.entry(f.violation.kind).or_default() += 1;
        }
        kinds
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        writeln!(
            f,
            "{} cases, {} executions in {secs:.1} s ({:.1} cases/s); {} mutations ({} refused by SQLite)",
            self.cases,
            self.executions,
            self.cases as f64 / secs.max(1e-9),
            self.mutations,
            self.refused
        )?;
        writeln!(f, "outcomes: {:?}", self.outcomes)?;
        write!(f, "findings: {} {:?}", self.findings.len(), self.by_kind())
    }
}

/// The case's own PRNG: a function of the seed and the case number only.
fn case_rng(seed: u64, case: u64) -> SplitMix64 {
    let mut mix = SplitMix64::new(seed ^ case.wrapping_mul(0xD1B5_4A32_D192_ED03));
    SplitMix64::new(mix.next_u64())
}

impl Fuzzer {
    /// Prepares the base libraries: writable copies of the fixtures that are
    /// there, plus two synthetic libraries (modern and Photos 5 schema).
    ///
    /// # Panics
    /// When a base cannot be written or does not read unmutated.
    #[must_use]
    pub fn new(config: Config) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let bases_dir = tmp.path().join("bases");
        std::fs::create_dir_all(&bases_dir).unwrap();
        let mut roots = Vec::new();
        if let Some(fixtures) = &config.fixtures {
            for name in FIXTURES {
                let src = fixtures.join(format!("{name}.photoslibrary"));
                let dest = bases_dir.join(format!("{name}.photoslibrary"));
                copy_tree(&src, &dest, false);
                roots.push((name.to_owned(), dest));
            }
        }
        for (name, flavor) in [
            ("Synthetic-Modern", Flavor::Modern),
            ("Synthetic-Photos5", Flavor::Photos5),
        ] {
            let dest = bases_dir.join(format!("{name}.photoslibrary"));
            synthetic(
                flavor,
                &dest,
                &tmp.path().join(format!("referenced-{name}")),
            );
            roots.push((name.to_owned(), dest));
        }
        let bases = roots
            .into_iter()
            .map(|(name, root)| Base::new(name, root, tmp.path()))
            .collect();
        Self { config, tmp, bases }
    }

    /// The names of the base libraries, in the order cases pick them.
    #[must_use]
    pub fn bases(&self) -> Vec<&str> {
        self.bases.iter().map(|b| b.name.as_str()).collect()
    }

    /// Runs cases `range`, printing each finding as it comes when `verbose`.
    #[must_use]
    pub fn run(&self, range: std::ops::Range<u64>, verbose: bool) -> Report {
        let started = Instant::now();
        let next = std::sync::atomic::AtomicU64::new(range.start);
        let mut cases: Vec<(u64, CaseReport)> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..self.config.jobs.max(1))
                .map(|_| {
                    s.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let case = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if case >= range.end {
                                return done;
                            }
                            let r = self.case(case);
                            if verbose {
                                for f in &r.findings {
                                    eprintln!("{f}");
                                }
                            }
                            done.push((case, r));
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().expect("fuzz worker"))
                .collect()
        });
        cases.sort_by_key(|(case, _)| *case);
        let mut report = Report::default();
        for (_, r) in cases {
            report.add(r);
        }
        report.elapsed = started.elapsed();
        report
    }

    /// Draws, applies and checks case `case`.
    ///
    /// # Panics
    /// When the harness itself fails (a copy or a mutation cannot be written).
    #[must_use]
    pub fn case(&self, case: u64) -> CaseReport {
        let seed = self.config.seed;
        let mut rng = case_rng(seed, case);
        let base = &self.bases[rng.below(self.bases.len() as u64) as usize];
        let mutations = mutate::draw(&mut rng, &base.tables);
        let keep_wal = rng.chance(0.5);
        let cli = rng.chance(self.config.cli_share);

        let dir = tempfile::tempdir_in(self.tmp.path()).unwrap();
        let root = dir.path().join(format!("{}.photoslibrary", base.name));
        copy_tree(&base.root, &root, true);
        let refused = apply::apply(&root, &mutations, keep_wal, &mut rng)
            .unwrap_or_else(|e| panic!("seed {seed} case {case}: cannot mutate: {e}"));

        let mut found = Vec::new();
        let outcome = self.check(base, &root, &mutations, refused, cli, &mut found);
        let described: Vec<String> = mutations.iter().map(ToString::to_string).collect();
        CaseReport {
            base: base.name.clone(),
            refused,
            outcome,
            cli,
            findings: found
                .into_iter()
                .map(|violation| Finding {
                    seed,
                    case,
                    base: base.name.clone(),
                    mutations: described.clone(),
                    violation,
                })
                .collect(),
            mutations: described,
        }
    }

    /// The oracle on one mutated library; returns the outcome's name.
    fn check(
        &self,
        base: &Base,
        root: &Path,
        mutations: &[Mutation],
        refused: usize,
        cli: bool,
        found: &mut Vec<Violation>,
    ) -> String {
        let before = oracle::tree_state(root);
        let read = match oracle::read_library(root, self.config.timeout) {
            Ok(read) => Some(read),
            Err(v) => {
                found.push(v);
                None
            }
        };
        let unnoticed = refused == 0 && is_equivalent(mutations);
        let outcome = match &read {
            Some(Read::Assets(assets)) => {
                oracle::check_assets(assets, found);
                if unnoticed && *assets != base.baseline {
                    found.push(Violation {
                        kind: "not-equivalent",
                        detail: "a mutation the reader must not notice changed its answer".into(),
                    });
                }
                "read".to_owned()
            }
            Some(Read::Error(e)) => {
                if unnoticed {
                    found.push(Violation {
                        kind: "not-equivalent",
                        detail: format!("a mutation the reader must not notice made it fail: {e}"),
                    });
                }
                if !e.contains(&root.display().to_string()) {
                    found.push(Violation {
                        kind: "error-without-path",
                        detail: e.clone(),
                    });
                }
                error_kind(e).to_owned()
            }
            None => "no answer".to_owned(),
        };
        found.extend(oracle::tree_change(&before, &oracle::tree_state(root)));
        if cli {
            if let Some(cli) =
                oracle::run_cli(&self.config.binary, root, self.config.timeout, found)
            {
                if let Some(v) = disagreement(read.as_ref(), &cli) {
                    found.push(v);
                }
            }
            found.extend(oracle::tree_change(&before, &oracle::tree_state(root)));
        }
        outcome
    }
}

/// Mutations the reader must not notice at all: renamed join tables (found
/// again by their columns) and garbage in the `-shm` (never read).
fn is_equivalent(mutations: &[Mutation]) -> bool {
    mutations.iter().all(|m| match m {
        Mutation::RenameTable { table, .. } => mutate::is_join(table),
        Mutation::GarbageShm => true,
        _ => false,
    })
}

/// The CLI must fail exactly when the API fails, and list as many assets.
fn disagreement(api: Option<&Read>, cli: &oracle::CliRead) -> Option<Violation> {
    let detail = match (api?, cli) {
        (Read::Assets(a), Ok(n)) if a.len() != *n => format!("API {} assets, CLI {n}", a.len()),
        (Read::Assets(a), Err(e)) => format!("API read {} assets, CLI failed: {e}", a.len()),
        (Read::Error(e), Ok(n)) => format!("API failed ({e}), CLI listed {n}"),
        _ => return None,
    };
    Some(Violation {
        kind: "cli-disagrees",
        detail,
    })
}

/// A short name for the kind of error the reader gave.
fn error_kind(e: &str) -> &'static str {
    [
        ("damaged", "damaged"),
        ("unsupported", "unsupported"),
        ("not a regular file", "not a regular file"),
        ("does not exist", "not a library"),
        ("is not a Photos library", "not a library"),
        ("kept changing", "busy"),
        ("cannot read", "io error"),
    ]
    .iter()
    .find(|(words, _)| e.contains(words))
    .map_or("other error", |(_, kind)| kind)
}

impl Base {
    fn new(name: String, root: PathBuf, scratch: &Path) -> Self {
        let all = Selection {
            all: true,
            ..Selection::default()
        };
        let baseline = Library::open(&root)
            .and_then(|l| l.assets(&all))
            .unwrap_or_else(|e| panic!("base library {name} does not read: {e}"));
        // The catalog comes from a throwaway copy: opening a database with
        // SQLite may checkpoint its WAL, and the base must keep its own.
        let probe = scratch.join(format!("probe-{name}"));
        copy_tree(&root, &probe, true);
        let tables = catalog(&probe.join("database/Photos.sqlite"));
        std::fs::remove_dir_all(&probe).unwrap();
        Self {
            name,
            root,
            tables,
            baseline,
        }
    }
}

/// Every table with its columns.
fn catalog(db: &Path) -> Vec<TableInfo> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p \
             WHERE m.type = 'table' ORDER BY m.name, p.cid",
        )
        .unwrap();
    let mut tables: Vec<TableInfo> = Vec::new();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap();
    for row in rows {
        let (table, column) = row.unwrap();
        match tables.last_mut() {
            Some(t) if t.name == table => t.columns.push(column),
            _ => tables.push(TableInfo {
                name: table,
                columns: vec![column],
            }),
        }
    }
    tables
}

/// Copies the folder `src` to `dest`, writable. With `link_media`, files
/// outside `database/` are hard links (the reader only reads them, and the
/// oracle would see a write through the tree hash); the database is copied.
fn copy_tree(src: &Path, dest: &Path, link_media: bool) {
    for entry in walkdir::WalkDir::new(src) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(src).unwrap();
        let to = dest.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&to).unwrap();
            continue;
        }
        let linked = link_media
            && !rel.starts_with("database")
            && std::fs::hard_link(entry.path(), &to).is_ok();
        if !linked {
            std::fs::copy(entry.path(), &to).unwrap();
            let mut perms = std::fs::metadata(&to).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perms.set_readonly(false);
            std::fs::set_permissions(&to, perms).unwrap();
        }
    }
}

/// A small synthetic library: a seeded random mix plus a referenced file
/// outside the library (in `outside`).
fn synthetic(flavor: Flavor, root: &Path, outside: &Path) {
    let day = chrono::DateTime::from_timestamp(1_600_000_000, 0).unwrap();
    let mut lib = SyntheticLibrary::new(flavor);
    lib.asset(AssetSpec {
        referenced: Some(outside.display().to_string()),
        original_filename: "Referenced.JPG".into(),
        ..AssetSpec::photo("F0000000-0000-4000-8000-000000000001", day)
    })
    .random(24, 7, 2015..=2024);
    lib.write(root)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", root.display()));
}
