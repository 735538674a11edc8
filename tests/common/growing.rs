//! A synthetic library that grows over a simulated timeline: each `write`
//! regenerates the database from every spec so far and adds the media files
//! that are new, leaving existing files untouched (as Photos does). The same
//! helper as in `tests/rollover.rs`, shared here for the other timeline tests.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use photos_backup::photos::synthetic::{AssetSpec, Flavor, SyntheticLibrary};

pub struct Growing {
    pub path: PathBuf,
    specs: Vec<AssetSpec>,
    scratch: tempfile::TempDir,
    writes: u32,
}

impl Growing {
    pub fn new(dir: &Path, name: &str) -> Self {
        Self {
            path: dir.join(format!("{name}.photoslibrary")),
            specs: Vec::new(),
            scratch: tempfile::tempdir().unwrap(),
            writes: 0,
        }
    }

    pub fn add(&mut self, spec: AssetSpec) -> &mut Self {
        self.specs.push(spec);
        self
    }

    pub fn spec(&mut self, uuid: &str) -> &mut AssetSpec {
        self.specs.iter_mut().find(|s| s.uuid == uuid).unwrap()
    }

    pub fn write(&mut self) {
        self.writes += 1;
        let fresh = self
            .scratch
            .path()
            .join(format!("v{}.photoslibrary", self.writes));
        let mut lib = SyntheticLibrary::new(Flavor::Modern);
        for s in &self.specs {
            lib.asset(s.clone());
        }
        lib.write(&fresh).unwrap();
        for entry in walkdir::WalkDir::new(&fresh)
            .into_iter()
            .filter_map(Result::ok)
        {
            let rel = entry.path().strip_prefix(&fresh).unwrap();
            let dest = self.path.join(rel);
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&dest).unwrap();
            } else if rel.starts_with("database") || !dest.exists() {
                std::fs::copy(entry.path(), &dest).unwrap();
            }
        }
        for stale in ["Photos.sqlite-wal", "Photos.sqlite-shm"] {
            let p = self.path.join("database").join(stale);
            if !fresh.join("database").join(stale).exists() {
                let _ = std::fs::remove_file(p);
            }
        }
    }

    /// The bytes of an asset's original in the library.
    pub fn original(&self, uuid: &str) -> Vec<u8> {
        let asset = super::all_assets(&self.path)
            .into_iter()
            .find(|a| a.uuid == uuid)
            .unwrap();
        let source = asset
            .resources
            .iter()
            .find(|r| r.role == photos_backup::photos::ResourceRole::Original)
            .unwrap();
        std::fs::read(self.path.join(&source.path)).unwrap()
    }
}

/// A photo with its own name, taken at `created`, added at `added`.
pub fn photo(uuid: &str, name: &str, created: DateTime<Utc>, added: DateTime<Utc>) -> AssetSpec {
    AssetSpec {
        added,
        original_filename: photos_backup::photos::synthetic::DbText::Text(name.into()),
        ..AssetSpec::photo(uuid, created)
    }
}
