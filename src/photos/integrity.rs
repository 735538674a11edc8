//! How much of a database copy is checked before its rows are believed, so
//! that a run after Photos touched its database costs what it reads, not
//! what the library holds.
//!
//! A copy is never trusted on faith; four guards stand between a torn or
//! damaged copy and the backup:
//!
//! 1. the size, modification and change times of the database and its WAL
//!    before and after the copy (`snapshot::Fingerprint`): a copy that raced
//!    a write by Photos is thrown away and taken again;
//! 2. SQLite's own checks of every page it reads (b-tree page headers, cell
//!    bounds with `cell_size_check`, record formats): a damaged page that the
//!    run reads is an error, never a wrong row;
//! 3. a full `PRAGMA quick_check` of every table the reader reads, at the
//!    first run, once a day after that (`FULL_CHECK_EVERY`), and
//! 4. at the next run after any read error (the record of the last full
//!    check is dropped), and at once, on a fresh copy, within the run that
//!    met the error (`Library::assets`).
//!
//! A full check reads every page of those tables: on a 100k-asset library
//! that is hundreds of megabytes, which is why it is not paid every five
//! minutes. The record of passed checks is a small JSON file in the state
//! folder, keyed by database path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};

/// How long a passed full check is believed.
const FULL_CHECK_EVERY: TimeDelta = TimeDelta::hours(24);

/// How much of the copy is checked when it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// `PRAGMA quick_check` of every table read, before any row is read.
    Full,
    /// Only the pages read, as SQLite reads them.
    PagesRead,
}

/// The record of the last passed full check of each database, and where
/// each database's copy is kept between runs.
#[derive(Debug, Clone)]
pub struct CheckLog {
    path: PathBuf,
    copies: PathBuf,
}

impl CheckLog {
    /// The record kept in `state_dir` (file `database-checks.json`).
    #[must_use]
    pub fn in_dir(state_dir: &Path) -> Self {
        Self {
            path: state_dir.join("database-checks.json"),
            copies: state_dir.join("database-copies"),
        }
    }

    /// The private folder where the copy of `db` is kept between runs,
    /// named after a hash of its path (a library's name may change, and a
    /// path is no file name).
    #[must_use]
    pub fn kept_copy_dir(&self, db: &Path) -> PathBuf {
        let hash = blake3::hash(key(db).as_bytes()).to_hex();
        self.copies.join(&hash.as_str()[..16])
    }

    /// The record's file.
    #[must_use]
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// What the next open of `db` must check at `now`: `Full` when no full
    /// check of it passed within `FULL_CHECK_EVERY` (or the record cannot be
    /// read: then nothing is believed).
    #[must_use]
    pub fn needed(&self, db: &Path, now: DateTime<Utc>) -> Check {
        let last = self.load().get(&key(db)).copied();
        due(last, now)
    }

    /// Records a passed full check of `db` at `now`.
    pub(super) fn passed(&self, db: &Path, now: DateTime<Utc>) -> std::io::Result<()> {
        let mut all = self.load();
        all.insert(key(db), now.timestamp());
        self.store(&all)
    }

    /// Forgets the passed check of `db`: its next open checks it whole.
    pub(super) fn failed(&self, db: &Path) -> std::io::Result<()> {
        let mut all = self.load();
        if all.remove(&key(db)).is_some() {
            self.store(&all)?;
        }
        Ok(())
    }

    /// The record; an unreadable or damaged one counts as empty (every
    /// database is then checked whole, the safe side).
    fn load(&self) -> BTreeMap<String, i64> {
        std::fs::read(&self.path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Written to a temp name and renamed, owner-only.
    fn store(&self, all: &BTreeMap<String, i64>) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let temp = self.path.with_extension("json.tmp");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(&serde_json::to_vec(all).map_err(std::io::Error::other)?)?;
        file.sync_all()?;
        std::fs::rename(&temp, &self.path)
    }
}

/// `Full` unless a full check passed within `FULL_CHECK_EVERY` before `now`
/// (a record from the future, a clock set back, is not believed either).
#[must_use]
fn due(last_passed: Option<i64>, now: DateTime<Utc>) -> Check {
    match last_passed.and_then(|t| DateTime::<Utc>::from_timestamp(t, 0)) {
        Some(at) if at <= now && now - at < FULL_CHECK_EVERY => Check::PagesRead,
        _ => Check::Full,
    }
}

fn key(db: &Path) -> String {
    db.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_check_is_due_first_daily_and_after_a_failure() {
        let now = DateTime::<Utc>::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(due(None, now), Check::Full);
        let t = now.timestamp();
        assert_eq!(due(Some(t - 3600), now), Check::PagesRead);
        assert_eq!(due(Some(t - 24 * 3600), now), Check::Full);
        // A record from the future (clock moved back) is not believed.
        assert_eq!(due(Some(t + 60), now), Check::Full);

        let tmp = tempfile::tempdir().unwrap();
        let log = CheckLog::in_dir(&tmp.path().join("state"));
        let (a, b) = (Path::new("/a/Photos.sqlite"), Path::new("/b/Photos.sqlite"));
        assert_eq!(log.needed(a, now), Check::Full);
        log.passed(a, now).unwrap();
        log.passed(b, now).unwrap();
        let later = now + TimeDelta::hours(1);
        assert_eq!(log.needed(a, later), Check::PagesRead);
        assert_eq!(log.needed(a, now + TimeDelta::hours(25)), Check::Full);
        log.failed(a).unwrap();
        assert_eq!(log.needed(a, later), Check::Full);
        assert_eq!(log.needed(b, later), Check::PagesRead);
        // A damaged record: every database is checked whole.
        std::fs::write(tmp.path().join("state/database-checks.json"), b"{garbage").unwrap();
        assert_eq!(log.needed(b, later), Check::Full);
    }
}
