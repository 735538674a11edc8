//! The ledger's tables and how an older ledger is brought up to date.
//!
//! The schema version lives in `PRAGMA user_version`: 0 is an empty file, and
//! `step(n)` turns version `n` into `n + 1`, each in its own transaction, so a
//! run killed mid-upgrade leaves a ledger at a known version. A ledger newer
//! than this program is refused by the caller rather than misread.

use rusqlite::{Connection, Transaction, TransactionBehavior};

/// The version this program writes.
pub(super) const LATEST: u32 = 7;

/// Version 7, the Takeout half (`takeout.rs`): a set too large for one
/// run is read across runs, part by part, member by member. Each part
/// keeps how many members are read and whether it is read to its end; each
/// member read keeps what the plan needs of it (a media member's content
/// hash, size and archive time, its bytes being in the holding folder by
/// hash or staged before; a JSON's bytes; why a member was refused). A
/// part whose fingerprint changes starts over: its member rows go (a
/// trigger). A set's member rows go once it is staged. The same version
/// adds `V7_REPORT`.
const V7_TAKEOUT_MEMBERS: &str = "
ALTER TABLE takeout_part ADD COLUMN members_read INTEGER NOT NULL DEFAULT 0;
ALTER TABLE takeout_part ADD COLUMN bytes_read INTEGER NOT NULL DEFAULT 0;
ALTER TABLE takeout_part ADD COLUMN read_to_end INTEGER NOT NULL DEFAULT 0;
CREATE TABLE takeout_member (
    source   TEXT NOT NULL,
    part     TEXT NOT NULL,
    idx      INTEGER NOT NULL,
    path     TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('media', 'json', 'oversize_json', 'refused')),
    hash     TEXT,
    size     INTEGER,
    modified TEXT,
    json     BLOB,
    reason   TEXT,
    PRIMARY KEY (source, part, idx)
) WITHOUT ROWID;
CREATE INDEX takeout_member_hash ON takeout_member (source, hash);
CREATE TRIGGER takeout_part_restart AFTER UPDATE OF fingerprint ON takeout_part
WHEN OLD.fingerprint != NEW.fingerprint BEGIN
    DELETE FROM takeout_member WHERE source = OLD.source AND part = OLD.part;
END;
";

/// Version 7, the coverage half (`takeout_report.rs`): what reading each
/// Takeout set found, the latest report per set: its parts, counts and lists (JSON), and every
/// content hash of the set, so `coverage` can prove each is in the ledger.
const V7_REPORT: &str = "
CREATE TABLE takeout_report (
    source        TEXT NOT NULL,
    set_id        TEXT NOT NULL,
    read_at       TEXT NOT NULL,
    parts         TEXT NOT NULL,
    media_members INTEGER NOT NULL CHECK (media_members >= 0),
    contents      INTEGER NOT NULL CHECK (contents >= 0),
    staged_new    INTEGER NOT NULL CHECK (staged_new >= 0),
    known         INTEGER NOT NULL CHECK (known >= 0),
    duplicates    INTEGER NOT NULL CHECK (duplicates >= 0),
    lists         TEXT NOT NULL,
    PRIMARY KEY (source, set_id)
) WITHOUT ROWID;

CREATE TABLE takeout_report_content (
    source TEXT NOT NULL,
    set_id TEXT NOT NULL,
    hash   TEXT NOT NULL,
    PRIMARY KEY (source, set_id, hash)
) WITHOUT ROWID;
";

/// Version 6: the parts of Google Takeout sets a `[[takeout]]` source has
/// looked at (`takeout.rs`): each part's fingerprint, when it was first
/// seen with it (a part is read once it stayed the same a while), and,
/// once its whole set was read, when and how that ended. A changed part
/// gets a new row state and is read again. What a source staged is in
/// `staged_file` like a library's, its uuid the content hash.
const V6: &str = "
CREATE TABLE takeout_part (
    source       TEXT NOT NULL,
    part         TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    seen_at      TEXT NOT NULL,
    processed_at TEXT,
    outcome      TEXT CHECK (outcome IN ('ok', 'failed')),
    error        TEXT,
    PRIMARY KEY (source, part)
) WITHOUT ROWID;
";

/// Version 5: the backfill of the back catalogue (`backfill.rs`). Its
/// archives are rollovers too (`rollover.backfill = 1`, one month, a part of
/// it), so `locate`, `restore` and `archives` need no special case; the
/// monthly rollover ignores them. `staged_file.batch` names the backfill
/// part a staged file belongs to: the monthly rollover takes only files
/// without one, a part only its own. Staging a file again (an edit, by the
/// normal cycle) clears it (`record_file`), so the new version goes with
/// the month it was made in. `backfill_asset` is what a part was planned
/// to take, so a killed run stages the same assets again;
/// `backfill_hold` a month whose originals are still in iCloud;
/// `backfill_census` what the last look at the back catalogue found left
/// (for `status`, and so an unchanged library is not read again once its
/// back catalogue is done).
const V5: &str = "
ALTER TABLE staged_file ADD COLUMN batch TEXT;
CREATE INDEX staged_file_by_batch ON staged_file (library, batch) WHERE batch IS NOT NULL;
ALTER TABLE rollover ADD COLUMN backfill INTEGER NOT NULL DEFAULT 0 CHECK (backfill IN (0, 1));

CREATE TABLE backfill_asset (
    library TEXT NOT NULL,
    archive TEXT NOT NULL,
    uuid    TEXT NOT NULL,
    PRIMARY KEY (library, archive, uuid)
) WITHOUT ROWID;

CREATE TABLE backfill_hold (
    library TEXT NOT NULL,
    month   TEXT NOT NULL,
    reason  TEXT NOT NULL,
    since   TEXT NOT NULL,
    PRIMARY KEY (library, month)
) WITHOUT ROWID;

CREATE TABLE backfill_census (
    library TEXT PRIMARY KEY NOT NULL,
    at      TEXT NOT NULL,
    basis   TEXT NOT NULL,
    months  INTEGER NOT NULL CHECK (months >= 0),
    assets  INTEGER NOT NULL CHECK (assets >= 0),
    bytes   INTEGER NOT NULL CHECK (bytes >= 0),
    runs    INTEGER NOT NULL CHECK (runs >= 0),
    waiting INTEGER CHECK (waiting >= 0)
);
";

/// Version 4: the version of each asset when it was last staged, and the
/// basis of those versions (program, Photos model, export options) with
/// the time of the last full read (`asset_versions.rs`). A ledger upgraded
/// from version 3 has none: its next run reads every selected asset in
/// full. Any file row removed forgets its asset's version (a trigger), so
/// an asset whose files left the ledger is planned again.
const V4: &str = "
CREATE TABLE asset_version (
    library TEXT NOT NULL,
    uuid    TEXT NOT NULL,
    version INTEGER NOT NULL,
    files   INTEGER NOT NULL CHECK (files >= 0),
    PRIMARY KEY (library, uuid)
) WITHOUT ROWID;

CREATE TABLE version_basis (
    library TEXT PRIMARY KEY NOT NULL,
    basis   TEXT NOT NULL,
    full_at TEXT NOT NULL
);

CREATE TRIGGER asset_version_forget AFTER DELETE ON staged_file BEGIN
    DELETE FROM asset_version WHERE library = OLD.library AND uuid = OLD.uuid;
END;
";

/// Version 3, first: the pending assets stored in key order (`WITHOUT
/// ROWID`), so one library's are read as a range of neighbouring pages.
/// A rowid table interleaves them with everything written meanwhile; every
/// run reads them all (tens of thousands when originals wait in iCloud),
/// and through the index that was 17,000 page reads, 70 MB, per run.
///
/// Then: what each library has in staging, kept current by triggers.
/// `status.json` is written after every run; counting 200k `staged_file`
/// rows for it took longer than the whole no-op run. A file counts while it
/// is not purged; `unmirrored` counts those without `mirrored_at`. The
/// triggers fire inside the writer's transaction, so the totals can never
/// disagree with the rows. (`record_file`'s upsert fires the UPDATE trigger
/// when the row exists, the INSERT trigger when it does not; nothing uses
/// `INSERT OR REPLACE`, whose deletes would not fire triggers. The triggers
/// add a library's row with `WHERE NOT EXISTS`, not `INSERT OR IGNORE`: an
/// outer statement's conflict clause, like the upsert's, overrides theirs.)
const V3: &str = "
CREATE TABLE pending_by_key (
    library      TEXT NOT NULL,
    uuid         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    attempts     INTEGER NOT NULL CHECK (attempts >= 0),
    first_seen   TEXT NOT NULL,
    last_attempt TEXT,
    PRIMARY KEY (library, uuid)
) WITHOUT ROWID;
INSERT INTO pending_by_key SELECT library, uuid, reason, attempts, first_seen, last_attempt
    FROM pending;
DROP TABLE pending;
ALTER TABLE pending_by_key RENAME TO pending;

CREATE TABLE staged_total (
    library    TEXT PRIMARY KEY NOT NULL,
    files      INTEGER NOT NULL DEFAULT 0,
    bytes      INTEGER NOT NULL DEFAULT 0,
    unmirrored INTEGER NOT NULL DEFAULT 0
);

INSERT INTO staged_total (library, files, bytes, unmirrored)
    SELECT library, count(*), coalesce(sum(size), 0), count(*) - count(mirrored_at)
    FROM staged_file WHERE purged_at IS NULL GROUP BY library;

CREATE TRIGGER staged_total_insert AFTER INSERT ON staged_file
WHEN NEW.purged_at IS NULL BEGIN
    INSERT INTO staged_total (library) SELECT NEW.library
        WHERE NOT EXISTS (SELECT 1 FROM staged_total WHERE library = NEW.library);
    UPDATE staged_total SET files = files + 1, bytes = bytes + NEW.size,
        unmirrored = unmirrored + (NEW.mirrored_at IS NULL)
    WHERE library = NEW.library;
END;

CREATE TRIGGER staged_total_delete AFTER DELETE ON staged_file
WHEN OLD.purged_at IS NULL BEGIN
    UPDATE staged_total SET files = files - 1, bytes = bytes - OLD.size,
        unmirrored = unmirrored - (OLD.mirrored_at IS NULL)
    WHERE library = OLD.library;
END;

CREATE TRIGGER staged_total_update AFTER UPDATE ON staged_file BEGIN
    UPDATE staged_total SET files = files - 1, bytes = bytes - OLD.size,
        unmirrored = unmirrored - (OLD.mirrored_at IS NULL)
    WHERE library = OLD.library AND OLD.purged_at IS NULL;
    INSERT INTO staged_total (library) SELECT NEW.library
        WHERE NOT EXISTS (SELECT 1 FROM staged_total WHERE library = NEW.library);
    UPDATE staged_total SET files = files + 1, bytes = bytes + NEW.size,
        unmirrored = unmirrored + (NEW.mirrored_at IS NULL)
    WHERE library = NEW.library AND NEW.purged_at IS NULL;
END;
";

/// Version 2: the rollovers. `rollover` is one row per (library, archive)
/// and the step it reached; `rollover_file` is what the archive was given
/// (the staged files at the time of `borg create`), what it is verified
/// against and what may be purged. It stays after the purge: it is the
/// record of which version of which file is in which archive.
const V2: &str = "
CREATE TABLE rollover (
    library     TEXT NOT NULL,
    archive     TEXT NOT NULL,
    first_month TEXT NOT NULL,
    last_month  TEXT NOT NULL,
    step        TEXT NOT NULL CHECK (step IN ('planned', 'created', 'verified', 'purged')),
    planned_at  TEXT NOT NULL,
    created_at  TEXT,
    verified_at TEXT,
    purged_at   TEXT,
    pruned_at   TEXT,
    files       INTEGER NOT NULL DEFAULT 0,
    bytes       INTEGER NOT NULL DEFAULT 0,
    missing     TEXT NOT NULL DEFAULT '[]',
    warning     TEXT,
    PRIMARY KEY (library, archive)
);

CREATE TABLE rollover_file (
    library TEXT NOT NULL,
    archive TEXT NOT NULL,
    uuid    TEXT NOT NULL,
    role    TEXT NOT NULL,
    path    TEXT NOT NULL,
    size    INTEGER NOT NULL,
    hash    TEXT NOT NULL,
    PRIMARY KEY (library, archive, uuid, role)
);
CREATE INDEX rollover_file_by_uuid ON rollover_file (library, uuid);

CREATE TABLE repo_check (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    ok      INTEGER NOT NULL,
    message TEXT NOT NULL
);
";

/// Version 1. `path_key` is the staging path as the filesystem compares it
/// (APFS ignores case and Unicode normalization): two assets must never get
/// names that land on the same file.
const V1: &str = "
CREATE TABLE staged_file (
    library          TEXT NOT NULL,
    uuid             TEXT NOT NULL,
    role             TEXT NOT NULL,
    path             TEXT NOT NULL,
    path_key         TEXT NOT NULL,
    size             INTEGER NOT NULL CHECK (size >= 0),
    mtime_ns         INTEGER NOT NULL,
    hash             TEXT NOT NULL,
    source_signature TEXT NOT NULL,
    exported_at      TEXT NOT NULL,
    mirrored_at      TEXT,
    archive          TEXT,
    purged_at        TEXT,
    PRIMARY KEY (library, uuid, role),
    UNIQUE (library, path_key)
);

CREATE TABLE pending (
    library      TEXT NOT NULL,
    uuid         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    attempts     INTEGER NOT NULL CHECK (attempts >= 0),
    first_seen   TEXT NOT NULL,
    last_attempt TEXT,
    PRIMARY KEY (library, uuid)
);

CREATE TABLE library_state (
    library      TEXT PRIMARY KEY NOT NULL,
    db_size      INTEGER NOT NULL,
    db_mtime_ns  INTEGER NOT NULL,
    wal_size     INTEGER,
    wal_mtime_ns INTEGER,
    CHECK ((wal_size IS NULL) = (wal_mtime_ns IS NULL))
);

CREATE TABLE run (
    id         INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at   TEXT,
    dry_run    INTEGER NOT NULL,
    outcome    TEXT,
    summary    TEXT
);
";

/// The schema version of the open database.
pub(super) fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Applies the steps from the current version to `LATEST`. The version is
/// read again inside each write transaction: two processes opening a new
/// ledger at once do not both create the tables.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    loop {
        let tx = Transaction::new(conn, TransactionBehavior::Immediate)?;
        let from = version(&tx)?;
        if from >= LATEST {
            return Ok(());
        }
        step(&tx, from)?;
        tx.pragma_update(None, "user_version", from + 1)?;
        tx.commit()?;
    }
}

/// Turns schema version `from` into `from + 1`.
fn step(tx: &Transaction, from: u32) -> rusqlite::Result<()> {
    match from {
        0 => tx.execute_batch(V1),
        1 => tx.execute_batch(V2),
        2 => tx.execute_batch(V3),
        3 => tx.execute_batch(V4),
        4 => tx.execute_batch(V5),
        5 => tx.execute_batch(V6),
        6 => {
            tx.execute_batch(V7_TAKEOUT_MEMBERS)?;
            tx.execute_batch(V7_REPORT)
        }
        _ => unreachable!("no step from schema version {from}; LATEST is {LATEST}"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::at;
    use super::super::{Ledger, StagedFile};
    use super::*;

    #[test]
    fn migrates_a_version_0_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        {
            // A version-0 database that already holds a page (not just an
            // empty file), as an old or foreign tool would leave it.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE unrelated (x); INSERT INTO unrelated VALUES (1);")
                .unwrap();
            assert_eq!(version(&conn).unwrap(), 0);
        }
        // Read-only cannot upgrade it and says so.
        let msg = Ledger::open_existing_read_only(&path)
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("version 0") && msg.contains(&path.display().to_string()),
            "{msg}"
        );

        let ledger = Ledger::open(&path).unwrap();
        assert_eq!(version(&ledger.conn).unwrap(), LATEST);
        let file = StagedFile {
            library: "lib".into(),
            uuid: "u".into(),
            role: "original".into(),
            path: "lib/2024/05/01/a.jpg".into(),
            size: 1,
            mtime_ns: 2,
            hash: "h".into(),
            source_signature: "1:2".into(),
            exported_at: at(0),
            archive: None,
        };
        ledger.record_file(&file).unwrap();
        assert_eq!(ledger.files("lib").unwrap(), [file]);
        let kept: i64 = ledger
            .conn
            .query_row("SELECT x FROM unrelated", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, 1);
        drop(ledger);
        // Opening again applies nothing twice.
        assert!(Ledger::open(&path).is_ok());
        assert!(Ledger::open_existing_read_only(&path).unwrap().is_some());
    }

    #[test]
    fn version_3_counts_what_a_version_2_ledger_already_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(V1).unwrap();
            conn.execute_batch(V2).unwrap();
            conn.pragma_update(None, "user_version", 2).unwrap();
            let insert = "INSERT INTO staged_file (library, uuid, role, path, path_key, size,
                              mtime_ns, hash, source_signature, exported_at, mirrored_at, purged_at)
                          VALUES (?1, ?2, 'original', ?2, ?2, ?3, 0, 'h', 's', 'then', ?4, ?5)";
            for (library, uuid, size, mirrored, purged) in [
                ("A", "1", 10, None, None),
                ("A", "2", 20, Some("then"), None),
                ("A", "3", 40, Some("then"), Some("then")),
                ("B", "4", 80, None, Some("then")),
            ] {
                conn.execute(
                    insert,
                    rusqlite::params![library, uuid, size, mirrored, purged],
                )
                .unwrap();
            }
            conn.execute(
                "INSERT INTO pending VALUES ('A', 'u', 'original only in iCloud', 2, ?1, NULL)",
                [super::super::time_text(&at(5))],
            )
            .unwrap();
        }
        let ledger = Ledger::open(&path).unwrap();
        assert_eq!(version(&ledger.conn).unwrap(), LATEST);
        let pending = ledger.pending("A").unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(
            (
                pending[0].uuid.as_str(),
                pending[0].reason.as_str(),
                pending[0].attempts
            ),
            ("u", "original only in iCloud", 2)
        );
        assert_eq!(pending[0].first_seen, at(5));
        assert_eq!(ledger.staged_totals("A").unwrap(), (2, 30, 1));
        assert_eq!(ledger.staged_totals("B").unwrap(), (0, 0, 0));
        assert_eq!(ledger.staged_totals("C").unwrap(), (0, 0, 0));
        // Version 4: no versions yet, so the next run reads in full.
        assert_eq!(ledger.version_basis("A").unwrap(), None);
        assert_eq!(ledger.unchanged_assets("A", &[("1", 0)]).unwrap(), [None]);
    }

    #[test]
    fn version_7_keeps_a_version_6_ledgers_takeout_parts_with_nothing_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&[V1, V2, V3, V4, V5, V6].concat())
                .unwrap();
            conn.pragma_update(None, "user_version", 6).unwrap();
            conn.execute_batch(
                "INSERT INTO takeout_part (source, part, fingerprint, seen_at, processed_at, outcome)
                 VALUES ('g', 'p-001.zip', 'f1', '2026-03-01T10:00:00Z',
                         '2026-03-01T10:11:00Z', 'ok');",
            )
            .unwrap();
        }
        let ledger = Ledger::open(&path).unwrap();
        assert_eq!(version(&ledger.conn).unwrap(), LATEST);
        let part = ledger.takeout_part("g", "p-001.zip").unwrap().unwrap();
        assert!(part.done(), "read before stays read");
        assert_eq!(
            (part.members_read, part.bytes_read, part.read_to_end),
            (0, 0, false)
        );
        assert!(ledger.takeout_members("g", "p-001.zip").unwrap().is_empty());
    }

    #[test]
    fn version_5_keeps_a_version_4_ledger_monthly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.sqlite");
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&[V1, V2, V3, V4].concat()).unwrap();
            conn.pragma_update(None, "user_version", 4).unwrap();
            conn.execute_batch(
                "INSERT INTO staged_file (library, uuid, role, path, path_key, size, mtime_ns,
                     hash, source_signature, exported_at)
                 VALUES ('A', 'u', 'original', 'A/2026/10/a.jpg', 'a', 10, 0, 'h', 's', 'then');
                 INSERT INTO rollover (library, archive, first_month, last_month, step, planned_at)
                 VALUES ('A', 'p-A-2026-09', '2026-09', '2026-09', 'purged',
                         '2026-10-01T00:00:00Z');",
            )
            .unwrap();
        }
        let ledger = Ledger::open(&path).unwrap();
        assert_eq!(version(&ledger.conn).unwrap(), LATEST);
        let rollovers = ledger.rollovers().unwrap();
        assert!(!rollovers[0].backfill);
        assert_eq!(
            ledger.archived_through("A").unwrap(),
            Some("2026-09".parse().unwrap())
        );
        // The staged file belongs to no backfill part: the monthly rollover takes it.
        ledger
            .plan_rollover(
                "A",
                "p-A-2026-10",
                ("2026-10".parse().unwrap(), "2026-10".parse().unwrap()),
                &[],
                at(1),
            )
            .unwrap();
        assert_eq!(
            ledger.snapshot_rollover("A", "p-A-2026-10").unwrap(),
            (1, 10)
        );
    }
}
