//! `photos-backup assets`: what the reader sees in a library, as a table for
//! people or as JSON for tools and tests.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{Local, NaiveTime, TimeZone};

use crate::cli::AssetsArgs;
use crate::photos::{Asset, Library, Selection};
use crate::printable::printable;

/// Lists the assets of each library in `libraries` to `out`; warnings go to `err`.
pub(crate) fn run(
    args: &AssetsArgs,
    libraries: &[PathBuf],
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<()> {
    let selection = Selection {
        all: args.all,
        since: args.since.map(|d| {
            let midnight = d.and_time(NaiveTime::MIN);
            Local
                .from_local_datetime(&midnight)
                .earliest()
                .unwrap_or_else(|| midnight.and_utc().with_timezone(&Local))
                .to_utc()
        }),
        uuids: Vec::new(),
    };
    // JSON is one array over all libraries, an asset per line, written as the
    // assets stream by (compact: a listing of 100k assets stays small);
    // `written` counts its bytes.
    let mut written = 0usize;
    if args.json {
        out.write_all(b"[")?;
    }
    for path in libraries {
        let library = Library::open_for_listing(path)?;
        if let Some(w) = &library.schema.warning {
            writeln!(err, "warning: {}: {w}", path.display())?;
        }
        if args.json {
            // Serialized on the reading threads, a chunk at a time, each
            // asset after ",\n"; the very first one after "\n" only.
            library.for_each_chunk(&selection, workers(), &json_chunk, &mut |chunk| {
                let body = match chunk.get(2..) {
                    Some(rest) if written == 0 => {
                        out.write_all(b"\n")?;
                        rest
                    }
                    _ => &chunk[..],
                };
                out.write_all(body)?;
                written += chunk.len();
                Ok(())
            })?;
        } else {
            writeln!(out, "{}", library.root.display())?;
            writeln!(
                out,
                "{:<36}  {:<25}  {:<5}  {:<9}  NAME",
                "UUID", "CREATED", "TYPE", "STATE"
            )?;
            let (mut count, mut in_icloud) = (0usize, 0usize);
            library.for_each_asset(&selection, |asset| -> Result<()> {
                count += 1;
                in_icloud += usize::from(asset.ismissing && !asset.isreference);
                write_row(out, &asset)
            })?;
            writeln!(
                out,
                "{count} assets, {in_icloud} with the original only in iCloud"
            )?;
        }
    }
    if args.json {
        out.write_all(if written == 0 { b"]\n" } else { b"\n]\n" })?;
    }
    out.flush()?;
    Ok(())
}

/// Threads that read and serialize a listing: the cores there are, up to
/// four (each holds its own page cache and listing of the library's folders).
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(4))
}

/// The JSON of a chunk of assets, each after ",\n".
fn json_chunk(assets: Vec<Asset>) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(assets.len() * 1536);
    for asset in assets {
        out.extend_from_slice(b",\n");
        serde_json::to_writer(&mut out, &asset).context("writing JSON")?;
    }
    Ok(out)
}

fn write_row(out: &mut dyn Write, a: &Asset) -> Result<()> {
    let kind = if a.ismovie { "video" } else { "photo" };
    let state = if a.intrash {
        "trash"
    } else if a.ismissing {
        "icloud"
    } else if a.path.is_none() {
        "no file"
    } else if a.hasadjustments {
        "edited"
    } else {
        "ok"
    };
    writeln!(
        out,
        "{:<36}  {:<25}  {kind:<5}  {state:<9}  {}",
        a.uuid,
        a.date.format("%Y-%m-%d %H:%M:%S %:z"),
        printable(&a.original_filename)
    )?;
    Ok(())
}
