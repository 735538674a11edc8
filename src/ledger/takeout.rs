//! The Takeout parts a `[[takeout]]` source has looked at: a part is read
//! only once it stayed the same for a while (its fingerprint unchanged
//! since `seen_at`), and only once per fingerprint: a set whose parts are
//! all processed with their current fingerprints is not read again, and a
//! part that changes (a download replaced, a damaged part fixed) is read
//! again. The fingerprint is opaque text to the ledger.
//!
//! A set too large for one run is read across runs: each part keeps how
//! many of its members are read (and their bytes) and whether it is read to
//! its end, and each member read keeps what planning the set needs of it
//! (`takeout_member`), written in checkpoints. A part seen with another
//! fingerprint starts over: its counts are reset and its member rows go
//! (a trigger of schema 7).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{time_at, time_required, time_text, Ledger, Result};

/// What the ledger knows of one part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartState {
    pub fingerprint: String,
    /// First seen with this fingerprint.
    pub seen_at: DateTime<Utc>,
    /// When its set was last read to the end with this fingerprint.
    pub processed_at: Option<DateTime<Utc>>,
    /// `ok` or `failed`, with `processed_at`.
    pub outcome: Option<String>,
    pub error: Option<String>,
    /// Members read with this fingerprint (the next read starts after them).
    pub members_read: u64,
    /// Their bytes, as the archive states them.
    pub bytes_read: u64,
    /// Every member read with this fingerprint.
    pub read_to_end: bool,
}

/// One member of a part, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakeoutMember {
    /// Its place among the part's members (refused ones included), from 0.
    pub index: u64,
    /// The member's path (a refused one: its name made printable).
    pub path: String,
    pub kind: MemberKind,
}

/// What a member read turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberKind {
    /// Its bytes are in the holding folder under `hash`, or were staged before.
    Media {
        hash: String,
        size: u64,
        /// The archive's time of it, as `takeout::ingest` writes it.
        modified: Option<String>,
    },
    Json(Vec<u8>),
    /// A JSON too large to keep, with its size.
    OversizeJson(u64),
    /// Left alone, with why.
    Refused(String),
}

/// How far a part is read after a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartProgress {
    pub members_read: u64,
    pub bytes_read: u64,
    pub read_to_end: bool,
}

impl PartState {
    /// Read with this fingerprint already, well or not: not read again
    /// until it changes.
    #[must_use]
    pub fn done(&self) -> bool {
        self.processed_at.is_some()
    }
}

impl Ledger {
    /// The state of `part` of `source`, if it was ever seen.
    pub fn takeout_part(&self, source: &str, part: &str) -> Result<Option<PartState>> {
        let sql = "SELECT fingerprint, seen_at, processed_at, outcome, error,
                          members_read, bytes_read, read_to_end
                   FROM takeout_part WHERE source = ?1 AND part = ?2";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.query_row(params![source, part], |r| {
                    Ok(PartState {
                        fingerprint: r.get(0)?,
                        seen_at: time_required(r, 1)?,
                        processed_at: time_at(r, 2)?,
                        outcome: r.get(3)?,
                        error: r.get(4)?,
                        members_read: r.get(5)?,
                        bytes_read: r.get(6)?,
                        read_to_end: r.get(7)?,
                    })
                })
                .optional()
            })
            .map_err(|e| self.err(e))
    }

    /// Records that `part` was seen now with `fingerprint`: a new part or a
    /// changed one starts over (seen now, not processed); the same one
    /// keeps its row.
    pub fn sight_takeout_part(
        &self,
        source: &str,
        part: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let sql = "
            INSERT INTO takeout_part (source, part, fingerprint, seen_at)
            VALUES (?1, ?2, ?3, ?4)
            ON CONFLICT (source, part) DO UPDATE SET
                fingerprint = excluded.fingerprint,
                seen_at = excluded.seen_at,
                processed_at = NULL,
                outcome = NULL,
                error = NULL,
                members_read = 0,
                bytes_read = 0,
                read_to_end = 0
            WHERE fingerprint != excluded.fingerprint";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.execute(params![source, part, fingerprint, time_text(&now)]))
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// Records how reading `parts` (a whole set, each with the fingerprint
    /// it was read with) ended: `error` `None` is success.
    pub fn finish_takeout_parts(
        &self,
        source: &str,
        parts: &[(&str, &str)],
        now: DateTime<Utc>,
        error: Option<&str>,
    ) -> Result<()> {
        let sql = "
            UPDATE takeout_part SET processed_at = ?4, outcome = ?5, error = ?6
            WHERE source = ?1 AND part = ?2 AND fingerprint = ?3";
        let outcome = if error.is_some() { "failed" } else { "ok" };
        for (part, fingerprint) in parts {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        source,
                        part,
                        fingerprint,
                        time_text(&now),
                        outcome,
                        error
                    ])
                })
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }

    /// Records members read from `part` (read with `fingerprint`) and how
    /// far the part is read now, in one transaction: a checkpoint. Nothing
    /// is written if the part has another fingerprint by now.
    pub fn checkpoint_takeout_part(
        &mut self,
        source: &str,
        part: &str,
        fingerprint: &str,
        members: &[TakeoutMember],
        progress: PartProgress,
    ) -> Result<()> {
        self.transaction(|l| {
            let updated = l
                .conn
                .prepare_cached(
                    "UPDATE takeout_part
                     SET members_read = ?4, bytes_read = ?5, read_to_end = ?6
                     WHERE source = ?1 AND part = ?2 AND fingerprint = ?3",
                )
                .and_then(|mut stmt| {
                    stmt.execute(params![
                        source,
                        part,
                        fingerprint,
                        progress.members_read,
                        progress.bytes_read,
                        progress.read_to_end
                    ])
                })
                .map_err(|e| l.err(e))?;
            if updated == 0 {
                return Ok(());
            }
            for m in members {
                l.insert_member(source, part, m)?;
            }
            Ok(())
        })
    }

    fn insert_member(&self, source: &str, part: &str, m: &TakeoutMember) -> Result<()> {
        let (mut hash, mut size, mut modified, mut json, mut reason) =
            (None, None, None, None, None);
        let kind = match &m.kind {
            MemberKind::Media {
                hash: h,
                size: n,
                modified: t,
            } => {
                (hash, size, modified) = (Some(h.as_str()), Some(*n), t.as_deref());
                "media"
            }
            MemberKind::Json(bytes) => {
                json = Some(bytes.as_slice());
                "json"
            }
            MemberKind::OversizeJson(n) => {
                size = Some(*n);
                "oversize_json"
            }
            MemberKind::Refused(why) => {
                reason = Some(why.as_str());
                "refused"
            }
        };
        let sql = "INSERT OR REPLACE INTO takeout_member
                   (source, part, idx, path, kind, hash, size, modified, json, reason)
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.execute(params![
                    source, part, m.index, m.path, kind, hash, size, modified, json, reason
                ])
            })
            .map(drop)
            .map_err(|e| self.err(e))
    }

    /// The members read of `part`, in their order.
    pub fn takeout_members(&self, source: &str, part: &str) -> Result<Vec<TakeoutMember>> {
        let sql = "SELECT idx, path, kind, hash, size, modified, json, reason
                   FROM takeout_member WHERE source = ?1 AND part = ?2 ORDER BY idx";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| {
                stmt.query_map(params![source, part], |r| {
                    let kind: String = r.get(2)?;
                    let kind = match kind.as_str() {
                        "media" => MemberKind::Media {
                            hash: r.get(3)?,
                            size: r.get(4)?,
                            modified: r.get(5)?,
                        },
                        "json" => MemberKind::Json(r.get(6)?),
                        "oversize_json" => MemberKind::OversizeJson(r.get(4)?),
                        _ => MemberKind::Refused(r.get(7)?),
                    };
                    Ok(TakeoutMember {
                        index: r.get(0)?,
                        path: r.get(1)?,
                        kind,
                    })
                })?
                .collect()
            })
            .map_err(|e| self.err(e))
    }

    /// The content hashes the member rows of `source` refer to: the holding
    /// files to keep.
    pub fn takeout_held_hashes(&self, source: &str) -> Result<HashSet<String>> {
        let sql = "SELECT DISTINCT hash FROM takeout_member
                   WHERE source = ?1 AND hash IS NOT NULL";
        self.conn
            .prepare_cached(sql)
            .and_then(|mut stmt| stmt.query_map(params![source], |r| r.get(0))?.collect())
            .map_err(|e| self.err(e))
    }

    /// Forgets what was read of `parts` (their member rows and counts): a
    /// set staged, or one to read again from its start.
    pub fn forget_takeout_members(&self, source: &str, parts: &[&str]) -> Result<()> {
        for part in parts {
            self.conn
                .prepare_cached("DELETE FROM takeout_member WHERE source = ?1 AND part = ?2")
                .and_then(|mut stmt| stmt.execute(params![source, part]))
                .and_then(|_| {
                    self.conn
                        .prepare_cached(
                            "UPDATE takeout_part
                             SET members_read = 0, bytes_read = 0, read_to_end = 0
                             WHERE source = ?1 AND part = ?2",
                        )
                        .and_then(|mut stmt| stmt.execute(params![source, part]))
                })
                .map_err(|e| self.err(e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, temp_ledger};
    use super::{MemberKind, PartProgress, TakeoutMember};

    fn media(index: u64, hash: &str) -> TakeoutMember {
        TakeoutMember {
            index,
            path: format!("Takeout/Google Photos/p{index}.jpg"),
            kind: MemberKind::Media {
                hash: hash.into(),
                size: 10 + index,
                modified: Some("unix:5".into()),
            },
        }
    }

    #[test]
    fn members_are_kept_per_fingerprint_in_checkpoints() {
        let (_dir, mut ledger) = temp_ledger();
        ledger
            .sight_takeout_part("g", "p-001.zip", "f1", at(0))
            .unwrap();
        let json = TakeoutMember {
            index: 1,
            path: "Takeout/Google Photos/p0.jpg.json".into(),
            kind: MemberKind::Json(b"{}".to_vec()),
        };
        let refused = TakeoutMember {
            index: 2,
            path: "../x".into(),
            kind: MemberKind::Refused("it climbs out".into()),
        };
        let progress = |n, end| PartProgress {
            members_read: n,
            bytes_read: 7,
            read_to_end: end,
        };
        ledger
            .checkpoint_takeout_part(
                "g",
                "p-001.zip",
                "f1",
                &[media(0, "aa"), json.clone()],
                progress(2, false),
            )
            .unwrap();
        let big = TakeoutMember {
            index: 3,
            path: "Takeout/x.json".into(),
            kind: MemberKind::OversizeJson(9_000_000),
        };
        ledger
            .checkpoint_takeout_part(
                "g",
                "p-001.zip",
                "f1",
                &[refused.clone(), big.clone()],
                progress(4, true),
            )
            .unwrap();
        assert_eq!(
            ledger.takeout_members("g", "p-001.zip").unwrap(),
            vec![media(0, "aa"), json, refused, big]
        );
        let state = ledger.takeout_part("g", "p-001.zip").unwrap().unwrap();
        assert_eq!(
            (state.members_read, state.bytes_read, state.read_to_end),
            (4, 7, true)
        );
        assert_eq!(
            ledger.takeout_held_hashes("g").unwrap(),
            ["aa".to_owned()].into()
        );
        // A checkpoint for an older fingerprint writes nothing.
        ledger
            .sight_takeout_part("g", "p-002.zip", "n1", at(0))
            .unwrap();
        ledger
            .checkpoint_takeout_part(
                "g",
                "p-002.zip",
                "old",
                &[media(0, "bb")],
                progress(1, false),
            )
            .unwrap();
        assert!(ledger.takeout_members("g", "p-002.zip").unwrap().is_empty());
        // The same fingerprint again keeps all; a new one starts over.
        ledger
            .sight_takeout_part("g", "p-001.zip", "f1", at(60))
            .unwrap();
        assert_eq!(ledger.takeout_members("g", "p-001.zip").unwrap().len(), 4);
        ledger
            .sight_takeout_part("g", "p-001.zip", "f2", at(120))
            .unwrap();
        assert!(ledger.takeout_members("g", "p-001.zip").unwrap().is_empty());
        let state = ledger.takeout_part("g", "p-001.zip").unwrap().unwrap();
        assert_eq!(
            (state.members_read, state.bytes_read, state.read_to_end),
            (0, 0, false)
        );
        // Forgotten once staged.
        ledger
            .checkpoint_takeout_part("g", "p-001.zip", "f2", &[media(0, "cc")], progress(1, true))
            .unwrap();
        ledger.forget_takeout_members("g", &["p-001.zip"]).unwrap();
        assert!(ledger.takeout_held_hashes("g").unwrap().is_empty());
    }

    #[test]
    fn a_part_is_done_once_per_fingerprint() {
        let (_dir, ledger) = temp_ledger();
        assert_eq!(ledger.takeout_part("g", "p-001.zip").unwrap(), None);
        ledger
            .sight_takeout_part("g", "p-001.zip", "f1", at(0))
            .unwrap();
        // Seen again unchanged: the first sighting counts.
        ledger
            .sight_takeout_part("g", "p-001.zip", "f1", at(60))
            .unwrap();
        let state = ledger.takeout_part("g", "p-001.zip").unwrap().unwrap();
        assert_eq!((state.seen_at, state.done()), (at(0), false));
        ledger
            .finish_takeout_parts("g", &[("p-001.zip", "f1")], at(120), Some("damaged"))
            .unwrap();
        let state = ledger.takeout_part("g", "p-001.zip").unwrap().unwrap();
        assert!(state.done());
        assert_eq!(state.outcome.as_deref(), Some("failed"));
        assert_eq!(state.error.as_deref(), Some("damaged"));
        // Another source's part of the same name is its own.
        assert_eq!(ledger.takeout_part("h", "p-001.zip").unwrap(), None);
        // Changed: starts over.
        ledger
            .sight_takeout_part("g", "p-001.zip", "f2", at(180))
            .unwrap();
        let state = ledger.takeout_part("g", "p-001.zip").unwrap().unwrap();
        assert_eq!((state.seen_at, state.done()), (at(180), false));
        // A result for an older fingerprint does not mark the new one.
        ledger
            .finish_takeout_parts("g", &[("p-001.zip", "f1")], at(200), None)
            .unwrap();
        assert!(!ledger
            .takeout_part("g", "p-001.zip")
            .unwrap()
            .unwrap()
            .done());
        ledger
            .finish_takeout_parts("g", &[("p-001.zip", "f2")], at(240), None)
            .unwrap();
        let state = ledger.takeout_part("g", "p-001.zip").unwrap().unwrap();
        assert_eq!(state.outcome.as_deref(), Some("ok"));
        assert_eq!(state.error, None);
    }
}
