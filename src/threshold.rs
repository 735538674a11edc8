//! The date threshold: `date_threshold.txt`, one line `YYYY-MM-DD`, meaning
//! local midnight of that day. Photos added, taken, edited or changed on or
//! after it are exported; the monthly rollover moves it forward.
//!
//! A malformed file is an error that names it and never resets anything:
//! silently falling back to a default could skip or re-archive a month.
//! "Malformed" is anything but exactly `YYYY-MM-DD`, a real calendar day,
//! with at most ASCII white space around it: `2026-1-1`, `+2026-01-01` or a
//! date with a time would each be read as some date, perhaps not the meant one.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

/// The file name, at the staging root and at the root of the remote volume.
pub const FILE_NAME: &str = "date_threshold.txt";

#[derive(Debug, thiserror::Error)]
pub(crate) enum ThresholdError {
    #[error("cannot read threshold file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("threshold file {path} is malformed: expected one line YYYY-MM-DD, found {found:?}")]
    Malformed { path: PathBuf, found: String },
    #[error("cannot write threshold file {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// More than this many bytes is not one date: the file is not read further.
const MAX_FILE_BYTES: u64 = 4096;

/// Parses the file's text: exactly `YYYY-MM-DD`, a real day, with nothing
/// but ASCII white space (a final newline, say) around it.
#[must_use]
pub(crate) fn parse(text: &str) -> Option<NaiveDate> {
    let line = text.trim_ascii().as_bytes();
    let shape_ok = line.len() == 10
        && line.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return None;
    }
    // The shape is exact; chrono says whether the day is real.
    NaiveDate::parse_from_str(std::str::from_utf8(line).ok()?, "%Y-%m-%d").ok()
}

/// The threshold in `dir`, or `None` when the file does not exist.
pub(crate) fn read(dir: &Path) -> Result<Option<NaiveDate>, ThresholdError> {
    let path = dir.join(FILE_NAME);
    let text = match read_start(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ThresholdError::Read { path, source }),
    };
    let too_long = text.len() as u64 > MAX_FILE_BYTES;
    let text = String::from_utf8_lossy(&text);
    let date = if too_long { None } else { parse(&text) };
    date.map(Some).ok_or_else(|| ThresholdError::Malformed {
        found: text.chars().take(40).collect(),
        path,
    })
}

/// The first `MAX_FILE_BYTES` (and one more) of a regular file: a huge file
/// is not read whole, a named pipe is not waited on, a folder is an error.
fn read_start(path: &Path) -> std::io::Result<Vec<u8>> {
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Writes the threshold atomically (temp file, fsync, rename, fsync dir).
pub(crate) fn write(dir: &Path, date: NaiveDate) -> Result<(), ThresholdError> {
    let path = dir.join(FILE_NAME);
    let err = |source| ThresholdError::Write {
        path: path.clone(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".date_threshold.")
        .tempfile_in(dir)
        .map_err(err)?;
    writeln!(tmp, "{}", date.format("%Y-%m-%d")).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(&path).map_err(|e| err(e.error))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_one_date_and_nothing_else() {
        assert_eq!(parse("2024-05-01\n"), NaiveDate::from_ymd_opt(2024, 5, 1));
        for bad in [
            "",
            "2024-5-1",
            "2024-13-01",
            "2024-05-01 extra",
            "01.05.2024",
            "2024-05-01x",
            "2026-02-30",
            "26-1-1",
            "+2026-1-01",
            "02026-1-01",
            "2026-01-01T00:00",
            "2026-01-01\n2026-02-01\n",
            "\u{feff}2026-01-01",
            "2026-01-01\0",
            "\u{a0}2026-01-01",
            "２０２６-01-01",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn white_space_around_the_date_is_allowed() {
        let day = NaiveDate::from_ymd_opt(2026, 1, 1);
        for good in ["2026-01-01", " 2026-01-01 ", "\n\t2026-01-01\r\n\n"] {
            assert_eq!(parse(good), day, "{good:?}");
        }
        assert_eq!(parse("2024-02-29\n"), NaiveDate::from_ymd_opt(2024, 2, 29));
    }

    #[test]
    fn round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
        let d = NaiveDate::from_ymd_opt(2025, 2, 1).unwrap();
        write(dir.path(), d).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Some(d));
        // Only the file itself is left, no temp files.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn malformed_file_is_an_error_naming_it_and_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "yesterday\n").unwrap();
        let msg = read(dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains("yesterday"),
            "{msg}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "yesterday\n");
    }
}
