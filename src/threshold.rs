//! The date threshold: `date_threshold.txt`, one line `YYYY-MM-DD`, meaning
//! local midnight of that day. Photos added, taken, edited or changed on or
//! after it are exported; the monthly rollover moves it forward.
//!
//! A malformed file is an error that names it and never resets anything:
//! silently falling back to a default could skip or re-archive a month.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

/// The file name, at the staging root and at the root of the remote volume.
pub const FILE_NAME: &str = "date_threshold.txt";

#[derive(Debug, thiserror::Error)]
pub enum ThresholdError {
    #[error("cannot read threshold file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("threshold file {path} is malformed: expected one line YYYY-MM-DD, found {found:?}")]
    Malformed { path: PathBuf, found: String },
    #[error("cannot write threshold file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Parses the file's text: one date, surrounding white space allowed.
pub fn parse(text: &str) -> Option<NaiveDate> {
    let line = text.trim();
    if line.len() != 10 || line.contains(char::is_whitespace) {
        return None;
    }
    NaiveDate::parse_from_str(line, "%Y-%m-%d").ok()
}

/// The threshold in `dir`, or `None` when the file does not exist.
pub fn read(dir: &Path) -> Result<Option<NaiveDate>, ThresholdError> {
    let path = dir.join(FILE_NAME);
    let text = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(ThresholdError::Read { path, source }),
    };
    let text = String::from_utf8_lossy(&text);
    parse(&text)
        .map(Some)
        .ok_or_else(|| ThresholdError::Malformed {
            found: text.chars().take(40).collect(),
            path,
        })
}

/// Writes the threshold atomically (temp file, fsync, rename, fsync dir).
pub fn write(dir: &Path, date: NaiveDate) -> Result<(), ThresholdError> {
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
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
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
