//! The long run of the reader fuzzer (the short one is `tests/fuzz_reader.rs`;
//! both share `tests/fuzz`). Build in release and run through the script:
//!
//! ```text
//! scripts/fuzz-reader.sh CASES SEED          # e.g. 30000 1
//! scripts/fuzz-reader.sh --replay SEED CASE  # one case, told in full
//! ```
//!
//! Prints progress, then executions, cases per second and findings by kind;
//! exits 1 when there is a finding.

#[path = "../tests/fuzz/mod.rs"]
mod fuzz;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: fuzz_reader CASES SEED | fuzz_reader --replay SEED CASE";

/// The real libraries, as `tests/common` finds them; `None` (with a warning)
/// when absent, unless `PHOTOS_BACKUP_REQUIRE_FIXTURES` is set.
fn fixtures() -> Result<Option<PathBuf>, String> {
    let dir = std::env::var_os("PHOTOS_BACKUP_FIXTURES").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/photos-libraries"),
        PathBuf::from,
    );
    if dir.join("expected").is_dir() {
        return Ok(Some(dir));
    }
    if std::env::var_os("PHOTOS_BACKUP_REQUIRE_FIXTURES").is_some() {
        return Err(format!("fixture libraries not found at {}", dir.display()));
    }
    eprintln!(
        "warning: fixture libraries not found at {}: fuzzing the synthetic libraries only",
        dir.display()
    );
    Ok(None)
}

fn number(s: Option<String>, what: &str) -> Result<u64, String> {
    let s = s.ok_or(format!("{what} missing\n{USAGE}"))?;
    s.parse().map_err(|e| format!("{what} {s:?}: {e}"))
}

fn config(seed: u64) -> Result<fuzz::Config, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // target/<profile>/examples/fuzz_reader -> target/<profile>/photos-backup
    let binary = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("photos-backup"))
        .filter(|b| b.is_file())
        .ok_or("photos-backup not built next to the example (cargo build --release --bins)")?;
    Ok(fuzz::Config {
        seed,
        fixtures: fixtures()?,
        binary,
        cli_share: 0.1,
        timeout: Duration::from_secs(60),
        jobs: 3,
    })
}

fn replay(seed: u64, case: u64) -> Result<bool, String> {
    let fuzzer = fuzz::Fuzzer::new(config(seed)?);
    let r = fuzzer.case(case);
    println!("seed {seed} case {case} on {} (cli: {})", r.base, r.cli);
    for m in &r.mutations {
        println!("  mutation: {m}");
    }
    println!(
        "  refused by SQLite: {}\n  outcome: {}",
        r.refused, r.outcome
    );
    for f in &r.findings {
        println!("{f}");
    }
    Ok(r.findings.is_empty())
}

fn long_run(cases: u64, seed: u64) -> Result<bool, String> {
    let fuzzer = fuzz::Fuzzer::new(config(seed)?);
    println!(
        "fuzzing the reader: {cases} cases, seed {seed}, bases {:?}",
        fuzzer.bases()
    );
    let started = Instant::now();
    let mut report = fuzz::Report::default();
    let step = 1000;
    let mut next = 0;
    while next < cases {
        let end = (next + step).min(cases);
        let part = fuzzer.run(next..end, true);
        report.findings.extend(part.findings);
        report.cases += part.cases;
        report.executions += part.executions;
        report.mutations += part.mutations;
        report.refused += part.refused;
        for (k, v) in part.outcomes {
            *report.outcomes.entry(k).or_default() += v;
        }
        report.elapsed = started.elapsed();
        println!(
            "  {} cases, {:.1} cases/s, {} findings",
            report.cases,
            report.cases as f64 / report.elapsed.as_secs_f64(),
            report.findings.len()
        );
        next = end;
    }
    println!("{report}");
    Ok(report.findings.is_empty())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    let outcome = match first.as_deref() {
        Some("--replay") => number(args.next(), "SEED")
            .and_then(|seed| Ok((seed, number(args.next(), "CASE")?)))
            .and_then(|(seed, case)| replay(seed, case)),
        Some("-h" | "--help") | None => Err(USAGE.to_owned()),
        Some(_) => number(first, "CASES")
            .and_then(|cases| Ok((cases, number(args.next(), "SEED")?)))
            .and_then(|(cases, seed)| long_run(cases, seed)),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}
