//! `STATE/coverage.json`: the last coverage figures, written by the
//! `coverage` command and by the run's coverage step, read by the status.
//! Owner-only, written atomically (temp file, fsync, rename; the state dir
//! is private and the rename replaces whatever is at the name, a link
//! included, never writing through it), read without following a link and
//! parsed strictly: a damaged file is an error naming it, never trusted.

use std::path::{Path, PathBuf};

use super::Report;

/// The file name in the state dir.
pub(crate) const FILE_NAME: &str = "coverage.json";

/// A file this large is not ours.
const MAX_BYTES: u64 = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    #[error("cannot read coverage file {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("coverage file {path} is damaged ({why}); the next coverage run rewrites it")]
    Damaged { path: PathBuf, why: String },
    #[error("cannot write coverage file {path}: {why}")]
    Write { path: PathBuf, why: String },
}

/// The last figures in `state_dir`, `None` before any were computed.
pub(crate) fn read(state_dir: &Path) -> Result<Option<Report>, FileError> {
    let path = state_dir.join(FILE_NAME);
    let bytes = match crate::private_fs::read_small(&path, MAX_BYTES) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            return Err(FileError::Damaged {
                path,
                why: e.to_string(),
            })
        }
        Err(source) => return Err(FileError::Read { path, source }),
    };
    let report: Report = serde_json::from_slice(&bytes).map_err(|e| FileError::Damaged {
        path: path.clone(),
        why: e.to_string(),
    })?;
    if report.version != super::VERSION {
        return Err(FileError::Damaged {
            path,
            why: format!(
                "version {}, this program writes {}",
                report.version,
                super::VERSION
            ),
        });
    }
    Ok(Some(report))
}

/// Writes the figures (lists left out) to `state_dir`.
pub(crate) fn write(state_dir: &Path, report: &Report) -> Result<(), FileError> {
    let path = state_dir.join(FILE_NAME);
    let mut kept = report.clone();
    for l in &mut kept.libraries {
        l.assets_listed = None;
    }
    for t in &mut kept.takeouts {
        for set in &mut t.sets {
            if let Some(read) = &mut set.read {
                read.lists.drop_names();
            }
        }
    }
    let mut text = serde_json::to_string_pretty(&kept).map_err(|e| FileError::Write {
        path: path.clone(),
        why: e.to_string(),
    })?;
    text.push('\n');
    crate::private_fs::create_dir_all(state_dir).map_err(|e| FileError::Write {
        path: path.clone(),
        why: e.to_string(),
    })?;
    crate::export::copy::write_atomic(&path, text.as_bytes(), None)
        .map(drop)
        .map_err(|e| FileError::Write {
            path,
            why: crate::error_text::describe(&e),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone, Utc};

    fn report() -> Report {
        Report {
            version: super::super::VERSION,
            computed_at: Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap(),
            threshold: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            covered: true,
            libraries: Vec::new(),
            takeouts: Vec::new(),
        }
    }

    #[test]
    fn the_figures_round_trip_owner_only_and_a_damaged_file_is_named() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).unwrap().is_none());
        write(dir.path(), &report()).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Some(report()));
        let path = dir.path().join(FILE_NAME);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
        for bad in ["{", "{\"version\": 1, \"extra\": 2}", "[]"] {
            std::fs::write(&path, bad).unwrap();
            let e = read(dir.path()).unwrap_err();
            assert!(matches!(e, FileError::Damaged { .. }), "{bad}: {e}");
            assert!(e.to_string().contains("coverage.json"), "{e}");
        }
        let mut newer = serde_json::to_value(report()).unwrap();
        newer["version"] = 2.into();
        std::fs::write(&path, newer.to_string()).unwrap();
        assert!(matches!(
            read(dir.path()).unwrap_err(),
            FileError::Damaged { .. }
        ));
    }

    #[test]
    fn a_takeout_set_is_kept_with_its_list_counts_not_its_names() {
        use super::super::takeout::{summarize, InboxSet};
        use crate::ledger::{ReportLists, SetReport};
        let dir = tempfile::tempdir().unwrap();
        let set = SetReport {
            source: "g".into(),
            set_id: "t".into(),
            read_at: Utc.with_ymd_and_hms(2026, 12, 6, 11, 0, 0).unwrap(),
            parts: Vec::new(),
            media_members: 2,
            contents: 0,
            staged_new: 0,
            known: 0,
            duplicates: 0,
            lists: ReportLists {
                without_json: vec!["a.jpg".into(), "b.jpg".into()],
                ..ReportLists::default()
            },
            hashes: Vec::new(),
        };
        let inbox: Vec<InboxSet> = Vec::new();
        let mut full = report();
        let limits = super::super::classify::Limits {
            now: Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap(),
            max_pending_days: None,
        };
        full.takeouts = vec![summarize(("g", limits), Ok(inbox), vec![set], &[])];
        write(dir.path(), &full).unwrap();
        let kept = read(dir.path()).unwrap().unwrap();
        let lists = |r: &Report| r.takeouts[0].sets[0].read.clone().unwrap().lists;
        assert_eq!(lists(&full).without_json.names, ["a.jpg", "b.jpg"]);
        assert_eq!(lists(&kept).without_json.count, 2);
        assert!(lists(&kept).without_json.names.is_empty());
    }

    #[test]
    fn a_link_at_its_name_is_refused_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere.json");
        std::fs::write(&elsewhere, serde_json::to_string(&report()).unwrap()).unwrap();
        std::os::unix::fs::symlink(&elsewhere, dir.path().join(FILE_NAME)).unwrap();
        assert!(matches!(
            read(dir.path()).unwrap_err(),
            FileError::Read { .. }
        ));
        // Writing replaces the link; the file it pointed to is untouched.
        let before = std::fs::read(&elsewhere).unwrap();
        write(dir.path(), &report()).unwrap();
        assert_eq!(std::fs::read(&elsewhere).unwrap(), before);
        assert!(!std::fs::symlink_metadata(dir.path().join(FILE_NAME))
            .unwrap()
            .file_type()
            .is_symlink());
    }
}
