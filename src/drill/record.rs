//! `STATE/drill.json`: the last restore drill, for the next run (is one
//! due?) and for `status`. Written atomically and owner-only like the other
//! state files; read without following a link, capped, and parsed strictly:
//! a damaged file is reported (and a drill made, which replaces it), never
//! taken for a drill that passed.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The file name in the state dir.
pub(crate) const FILE_NAME: &str = "drill.json";

/// More than any record we write (failures are capped).
const MAX_BYTES: u64 = 1 << 20;

/// Failures kept in the record (the run's lines name them all).
pub(crate) const MAX_FAILURES: usize = 50;

/// The last drill: what was read back and what did not match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    pub(crate) at: DateTime<Utc>,
    /// Archived files sampled, and how many matched the ledger.
    pub(crate) files: u64,
    pub(crate) matched: u64,
    /// Archives the sample came from.
    pub(crate) archives: u64,
    /// Mirrored files read back through the decrypted view, and matched.
    pub(crate) mirror_files: u64,
    pub(crate) mirror_matched: u64,
    /// One line per file that did not match: where, which file, what.
    pub(crate) failures: Vec<String>,
    /// The files that did not match, read again first by the next drill:
    /// while there are any, a drill is due at every run, so a damaged
    /// archive fails every run until its files come back as recorded (a
    /// random sample that happens to miss them proves nothing).
    #[serde(default)]
    pub(crate) retry: Vec<Suspect>,
}

/// A file a drill could not read back as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Suspect {
    /// The archive it came from; `None`: the remote mirror.
    pub(crate) archive: Option<String>,
    /// Relative to the staging root, as the ledger has it.
    pub(crate) path: String,
}

impl Record {
    #[must_use]
    pub(crate) fn passed(&self) -> bool {
        self.matched == self.files && self.mirror_matched == self.mirror_files
    }

    /// "20/20 files from 7 archives, 2026-12-05; mirror 5/5" (or "mirror
    /// 4/4 files, 2026-09-25" with no archive yet), with the drill's date as
    /// the caller shows dates.
    #[must_use]
    pub(crate) fn summary(&self, date: NaiveDate) -> String {
        if self.files == 0 && self.mirror_files > 0 {
            return format!(
                "mirror {}/{} files, {date}",
                self.mirror_matched, self.mirror_files
            );
        }
        let mut text = format!(
            "{}/{} files from {} archive{}, {date}",
            self.matched,
            self.files,
            self.archives,
            crate::text::plural(self.archives)
        );
        if self.mirror_files > 0 {
            text.push_str(&format!(
                "; mirror {}/{}",
                self.mirror_matched, self.mirror_files
            ));
        }
        text
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordError {
    #[error("cannot read drill record {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("drill record {path} is damaged: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write drill record {path}: {message}")]
    Write { path: PathBuf, message: String },
}

/// The last drill in `state_dir`, `None` before the first.
pub(crate) fn read(state_dir: &Path) -> Result<Option<Record>, RecordError> {
    let path = state_dir.join(FILE_NAME);
    let bytes = match crate::private_fs::read_small(&path, MAX_BYTES) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(RecordError::Invalid {
                path,
                message: e.to_string(),
            })
        }
        Err(source) => return Err(RecordError::Read { path, source }),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| RecordError::Invalid {
            path,
            message: e.to_string(),
        })
}

/// Saves `record` atomically (temp file, fsync, rename), owner-only.
pub(crate) fn write(state_dir: &Path, record: &Record) -> Result<(), RecordError> {
    let path = state_dir.join(FILE_NAME);
    let mut bytes = serde_json::to_vec_pretty(record).unwrap_or_default();
    bytes.push(b'\n');
    crate::private_fs::create_dir_all(state_dir).map_err(|e| RecordError::Write {
        path: path.clone(),
        message: e.to_string(),
    })?;
    crate::export::copy::write_atomic(&path, &bytes, None)
        .map(drop)
        .map_err(|e| RecordError::Write {
            message: crate::error_text::describe(&e),
            path,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn record() -> Record {
        Record {
            at: Utc.with_ymd_and_hms(2026, 12, 5, 8, 0, 0).unwrap(),
            files: 20,
            matched: 20,
            archives: 7,
            mirror_files: 5,
            mirror_matched: 5,
            failures: Vec::new(),
            retry: Vec::new(),
        }
    }

    #[test]
    fn a_record_round_trips_owner_only_and_says_what_was_proven() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), None);
        write(dir.path(), &record()).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Some(record()));
        let mode = std::fs::metadata(dir.path().join(FILE_NAME))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let r = record();
        assert!(r.passed());
        assert_eq!(
            r.summary(r.at.date_naive()),
            "20/20 files from 7 archives, 2026-12-05; mirror 5/5"
        );
        let failed = Record {
            mirror_matched: 4,
            ..record()
        };
        assert!(!failed.passed());
        let mirror_only = Record {
            files: 0,
            matched: 0,
            archives: 0,
            ..record()
        };
        assert_eq!(
            mirror_only.summary(r.at.date_naive()),
            "mirror 5/5 files, 2026-12-05"
        );
    }

    #[test]
    fn a_damaged_or_linked_record_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "{\"at\": \"2026-12-05T08:00:00Z\", \"files\": 1}").unwrap();
        let err = read(dir.path()).unwrap_err().to_string();
        assert!(err.contains("drill.json is damaged"), "{err}");
        std::fs::remove_file(&path).unwrap();
        let elsewhere = dir.path().join("elsewhere.json");
        std::fs::write(&elsewhere, serde_json::to_vec(&record()).unwrap()).unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        assert!(matches!(read(dir.path()), Err(RecordError::Read { .. })));
    }
}
