//! Writes a synthetic Apple Photos library, for benchmarks and for trying
//! the reader on a library of any size without a Mac:
//!
//! ```text
//! cargo run --release --example make_library -- --assets 100000 --seed 1 \
//!     --out /tmp/Big.photoslibrary [--flavor photos5|modern] [--no-files] [--file-size BYTES]
//!     [--years 2010-2024] [--realistic-size]
//! ```
//!
//! Prints what it wrote and how long it took.

use std::path::PathBuf;
use std::process::ExitCode;

use synthetic::{Flavor, SyntheticLibrary};

struct Args {
    assets: usize,
    seed: u64,
    out: PathBuf,
    flavor: Flavor,
    files: bool,
    file_size: Option<u64>,
    years: (i32, i32),
    realistic: bool,
}

const USAGE: &str = "usage: make_library --assets N --seed S --out DIR \
                     [--flavor photos5|modern] [--no-files] [--file-size BYTES] [--years FIRST-LAST] \
                     [--realistic-size]";

fn parse() -> Result<Args, String> {
    let mut args = Args {
        assets: 1000,
        seed: 1,
        out: PathBuf::new(),
        flavor: Flavor::Modern,
        files: true,
        file_size: None,
        years: (2010, 2024),
        realistic: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--assets" => args.assets = value()?.parse().map_err(|e| format!("--assets: {e}"))?,
            "--seed" => args.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--out" => args.out = PathBuf::from(value()?),
            "--flavor" => {
                args.flavor = match value()?.as_str() {
                    "photos5" => Flavor::Photos5,
                    "modern" => Flavor::Modern,
                    other => return Err(format!("--flavor: unknown flavor {other:?}")),
                }
            }
            "--no-files" => args.files = false,
            "--realistic-size" => args.realistic = true,
            "--file-size" => {
                args.file_size = Some(value()?.parse().map_err(|e| format!("--file-size: {e}"))?);
            }
            "--years" => {
                let v = value()?;
                let (a, b) = v.split_once('-').ok_or("--years: FIRST-LAST")?;
                args.years = (
                    a.parse().map_err(|e| format!("--years: {e}"))?,
                    b.parse().map_err(|e| format!("--years: {e}"))?,
                );
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if args.out.as_os_str().is_empty() {
        return Err(format!("--out is required\n{USAGE}"));
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let mut lib = SyntheticLibrary::new(args.flavor);
    lib.random(args.assets, args.seed, args.years.0..=args.years.1)
        .write_files(args.files)
        .realistic_size(args.realistic);
    if let Some(bytes) = args.file_size {
        lib.file_size(bytes);
    }
    match lib.write(&args.out) {
        Ok(w) => {
            println!(
                "wrote {} ({:?}, model {}): {} assets, {} resources, {} files ({} bytes), \
                 Photos.sqlite {} bytes + WAL {} bytes in {:.2?}",
                args.out.display(),
                args.flavor,
                args.flavor.model_version(),
                w.assets,
                w.resources,
                w.files,
                w.file_bytes,
                w.db_bytes,
                w.wal_bytes,
                w.elapsed
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write {}: {e}", args.out.display());
            ExitCode::FAILURE
        }
    }
}
