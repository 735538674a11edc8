//! The short run of the reader fuzzer, for CI: a few hundred mutated copies
//! of the six real libraries and two synthetic ones (see `tests/fuzz`), each
//! checked against the oracle. Any finding fails the test and prints the
//! seed, case and mutations to replay it with `scripts/fuzz-reader.sh --replay`.
//! `PHOTOS_BACKUP_FUZZ_SEED` and `PHOTOS_BACKUP_FUZZ_CASES` change the run.

mod common;
mod fuzz;

use std::time::Duration;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|e| panic!("{name}={v:?} is not a number: {e}"))
    })
}

#[test]
fn the_reader_survives_mutated_libraries() {
    // Missing fixtures fail here when CI requires them; else the synthetic
    // libraries are fuzzed alone.
    let fixtures = common::fixtures();
    let seed = env_u64("PHOTOS_BACKUP_FUZZ_SEED", 1);
    let cases = env_u64("PHOTOS_BACKUP_FUZZ_CASES", 240);
    let fuzzer = fuzz::Fuzzer::new(fuzz::Config {
        seed,
        fixtures,
        binary: env!("CARGO_BIN_EXE_photos-backup").into(),
        cli_share: 0.1,
        // A hang detector, not a speed check: a normal case takes well under a second.
        timeout: Duration::from_secs(120),
        jobs: 3,
    });
    let report = fuzzer.run(0..cases, true);
    eprintln!("bases: {:?}\n{report}", fuzzer.bases());
    assert_eq!(report.cases, cases);
    assert!(
        report.outcomes.get("read").copied().unwrap_or(0) > cases / 4,
        "most mutations should leave a readable library: {report}"
    );
    assert!(
        report.outcomes.len() > 2,
        "the mutations should reach several kinds of error: {report}"
    );
    let findings: Vec<String> = report.findings.iter().map(ToString::to_string).collect();
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}
