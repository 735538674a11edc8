//! The snapshot must be consistent even while Photos writes: a writer keeps
//! committing (and checkpointing) to the live database while snapshots are
//! taken; every snapshot must open, pass `quick_check` and see whole
//! transactions only.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use photos_backup::photos::snapshot;
use rusqlite::Connection;

#[test]
fn snapshots_taken_during_writes_and_checkpoints_are_consistent() {
    // A fixed amount of work, so the test does not depend on machine speed.
    const TRANSACTIONS: i64 = 400;
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("Photos.sqlite");
    {
        let conn = Connection::open(&db).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;
             CREATE TABLE t(id INTEGER PRIMARY KEY, a INTEGER, b INTEGER);",
        )
        .unwrap();
    }
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, done) = (db.clone(), done.clone());
        std::thread::spawn(move || {
            let conn = Connection::open(&db).unwrap();
            for n in 1..=TRANSACTIONS {
                // Each transaction keeps the invariant a + b = 0 for every row.
                conn.execute_batch(&format!(
                    "BEGIN; INSERT INTO t(a, b) VALUES ({n}, -{n}); \
                     UPDATE t SET a = a + 1, b = b - 1 WHERE id % 7 = {m}; COMMIT;",
                    m = n % 7
                ))
                .unwrap();
                // Photos writes in bursts, not in a tight loop.
                std::thread::sleep(std::time::Duration::from_millis(1));
                if n % 50 == 0 {
                    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                        .unwrap();
                }
            }
            done.store(true, Ordering::Relaxed);
        })
    };
    let mut taken = 0;
    let mut last_rows = 0;
    // Snapshots while the writer writes, then one after it is done.
    let mut finished = false;
    while !finished {
        finished = done.load(Ordering::Relaxed);
        match snapshot::take(&db) {
            Ok(snap) => {
                let (rows, broken): (i64, i64) = snap
                    .conn
                    .query_row(
                        "SELECT count(*), count(*) FILTER (WHERE a + b != 0) FROM t",
                        [],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .unwrap();
                assert_eq!(broken, 0, "a snapshot saw half a transaction");
                assert!(rows >= last_rows, "a later snapshot saw fewer rows");
                last_rows = rows;
                taken += 1;
            }
            // Photos never paused long enough: a clear "busy", never garbage.
            Err(e) => assert!(!finished && e.to_string().contains("kept changing"), "{e}"),
        }
    }
    writer.join().unwrap();
    assert!(taken >= 1);
    // The snapshot taken after the last write sees every transaction.
    assert_eq!(last_rows, TRANSACTIONS, "the last snapshot missed writes");
    // Nothing was left beside the live database.
    let names: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n.starts_with("Photos.sqlite")),
        "{names:?}"
    );
}
