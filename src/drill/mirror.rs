//! The drill's edge with the remote mirror: sampled files read back through
//! the decrypted view (the gocryptfs mount) and hashed. A mount point can
//! hang any access, so each file is read on a thread of its own, bounded
//! (`terminate::bounded`); once one read does not end in time the volume is
//! taken as not answering and the rest are not tried (their threads would
//! only pile up behind the first).

use std::path::Path;
use std::time::{Duration, Instant};

use super::extract::{plain_relative, read_below};
use super::verdict::{judge, Verdict};
use crate::ledger::StagedFile;

/// The longest one file's read may take (a large video over a slow link).
const READ_BOUND: Duration = Duration::from_secs(15 * 60);

/// Reads each of `files` under `plain` and judges it against the ledger;
/// every read ends by `until`. Verdicts in the order of `files`.
pub(crate) fn sample(plain: &Path, files: &[StagedFile], until: Instant) -> Vec<Verdict> {
    let mut stuck: Option<String> = None;
    files
        .iter()
        .map(|f| {
            if let Some(why) = &stuck {
                return Verdict::Unreadable(why.clone());
            }
            if !plain_relative(&f.path) {
                return Verdict::Unreadable(
                    "refused: the ledger's path is not a plain relative path".into(),
                );
            }
            let bound = until
                .saturating_duration_since(Instant::now())
                .min(READ_BOUND);
            let (root, rel) = (plain.to_path_buf(), f.path.clone());
            let Some(read) = crate::terminate::bounded(bound, move || read_below(&root, &rel))
            else {
                let why = format!(
                    "the decrypted view at {} did not answer within {} s",
                    plain.display(),
                    bound.as_secs()
                );
                stuck = Some(why.clone());
                return Verdict::Unreadable(why);
            };
            judge(f.size, &f.hash, read.map_err(|e| reworded(&e)))
        })
        .collect()
}

/// `read_below` speaks of borg; on the mirror a missing file is just missing.
fn reworded(why: &str) -> String {
    if why == "borg did not restore it" {
        "it is not on the remote volume".to_owned()
    } else {
        why.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn staged(path: &str, bytes: &[u8]) -> StagedFile {
        StagedFile {
            library: "a".into(),
            uuid: "u".into(),
            role: "original".into(),
            path: path.into(),
            size: bytes.len() as u64,
            mtime_ns: 0,
            hash: blake3::hash(bytes).to_hex().to_string(),
            source_signature: String::new(),
            exported_at: Utc::now(),
            archive: None,
        }
    }

    #[test]
    fn mirrored_files_are_judged_and_a_missing_one_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("a/2026")).unwrap();
        std::fs::write(dir.path().join("a/2026/x.jpg"), b"xx").unwrap();
        std::fs::write(dir.path().join("a/2026/y.jpg"), b"yY").unwrap();
        let files = [
            staged("a/2026/x.jpg", b"xx"),
            staged("a/2026/y.jpg", b"yy"),
            staged("a/2026/z.jpg", b"zz"),
            staged("a/../x.jpg", b"xx"),
        ];
        let until = Instant::now() + Duration::from_secs(60);
        let v = sample(dir.path(), &files, until);
        assert_eq!(v[0], Verdict::Matched);
        assert!(matches!(v[1], Verdict::WrongContent { .. }), "{:?}", v[1]);
        assert_eq!(
            v[2],
            Verdict::Unreadable("it is not on the remote volume".into())
        );
        assert!(matches!(&v[3], Verdict::Unreadable(w) if w.starts_with("refused")));
    }
}
