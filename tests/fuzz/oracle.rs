//! What must hold after the reader met a mutated library, whatever the
//! mutation: no panic, no hang, either assets or an error that names the
//! library, every derived path safe (relative without `..`, or absolute only
//! for a referenced file, never a NUL byte), and the library folder exactly
//! as it was (every entry with its kind, size, mtime and content hash).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use photos_backup::photos::{Asset, Library, Selection};

/// A broken rule: its kind (for the tally) and what was seen.
#[derive(Debug, Clone)]
pub struct Violation {
    pub kind: &'static str,
    pub detail: String,
}

fn violation(kind: &'static str, detail: impl Into<String>) -> Violation {
    Violation {
        kind,
        detail: detail.into(),
    }
}

/// One entry of a library folder: kind, size, mtime, and a content hash for
/// a regular file (a FIFO is never opened) or the target of a symlink.
pub type TreeState = BTreeMap<PathBuf, (String, u64, Option<SystemTime>, String)>;

/// The state of every entry under `root`, symlinks not followed.
#[must_use]
pub fn tree_state(root: &Path) -> TreeState {
    let mut out = TreeState::new();
    for entry in walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
    {
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        let t = meta.file_type();
        let (kind, content) = if t.is_file() {
            let hash = std::fs::read(entry.path()).map_or_else(
                |e| format!("unreadable: {e}"),
                |b| blake3::hash(&b).to_hex().to_string(),
            );
            ("file", hash)
        } else if t.is_symlink() {
            let target = std::fs::read_link(entry.path()).unwrap_or_default();
            ("symlink", target.display().to_string())
        } else if t.is_dir() {
            ("dir", String::new())
        } else {
            ("other", String::new())
        };
        let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
        out.insert(
            rel.to_owned(),
            (kind.to_owned(), meta.len(), meta.modified().ok(), content),
        );
    }
    out
}

/// The first difference between two states, if any.
#[must_use]
pub fn tree_change(before: &TreeState, after: &TreeState) -> Option<Violation> {
    for (path, was) in before {
        match after.get(path) {
            None => {
                return Some(violation(
                    "wrote-library",
                    format!("{} removed", path.display()),
                ))
            }
            Some(now) if now != was => {
                return Some(violation(
                    "wrote-library",
                    format!("{} changed: {was:?} -> {now:?}", path.display()),
                ))
            }
            Some(_) => {}
        }
    }
    after
        .keys()
        .find(|p| !before.contains_key(*p))
        .map(|p| violation("wrote-library", format!("{} created", p.display())))
}

/// Why `path` (of an asset, referenced or not) is unsafe, if it is.
#[must_use]
pub fn unsafe_path(path: &str, isreference: bool) -> Option<String> {
    if path.contains('\0') {
        return Some(format!("NUL byte in {path:?}"));
    }
    if path.split('/').any(|c| c == "..") {
        return Some(format!(".. component in {path:?}"));
    }
    if path.starts_with('/') && !isreference {
        return Some(format!(
            "absolute path {path:?} for an asset that is not referenced"
        ));
    }
    None
}

/// Every path an asset names, with its field.
fn asset_paths(a: &Asset) -> Vec<(String, &str)> {
    let mut paths: Vec<(String, &str)> = [
        ("path", &a.path),
        ("path_edited", &a.path_edited),
        ("path_live_photo", &a.path_live_photo),
        ("path_raw", &a.path_raw),
    ]
    .into_iter()
    .filter_map(|(f, p)| p.as_deref().map(|p| (f.to_owned(), p)))
    .collect();
    paths.extend(
        a.resources
            .iter()
            .map(|r| (format!("resources {:?}", r.role), r.path.as_str())),
    );
    paths
}

/// Checks the paths of every asset.
pub fn check_assets(assets: &[Asset], found: &mut Vec<Violation>) {
    for a in assets {
        for (field, p) in asset_paths(a) {
            if let Some(why) = unsafe_path(p, a.isreference) {
                found.push(violation(
                    "unsafe-path",
                    format!("asset {:?} {field}: {why}", a.uuid),
                ));
            }
        }
    }
}

/// What the library API gave.
#[derive(Debug)]
pub enum Read {
    Assets(Vec<Asset>),
    Error(String),
}

/// Opens the library and reads it three ways (everything, the default
/// selection, a `since` selection with named uuids) plus the asset count;
/// in a thread, so that a hang is seen as one (the thread is then left behind).
pub fn read_library(root: &Path, timeout: Duration) -> Result<Read, Violation> {
    let (tx, rx) = mpsc::channel();
    let owned = root.to_owned();
    std::thread::spawn(move || {
        let outcome = std::panic::catch_unwind(|| read_three_ways(&owned));
        let _ = tx.send(outcome.map_err(|p| panic_message(p.as_ref())));
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(read)) => Ok(read),
        Ok(Err(message)) => Err(violation("panic", message)),
        Err(_) => Err(violation("hang", format!("no answer in {timeout:?}"))),
    }
}

fn read_three_ways(root: &Path) -> Read {
    let library = match Library::open(root) {
        Ok(l) => l,
        Err(e) => return Read::Error(e.to_string()),
    };
    let all = Selection {
        all: true,
        ..Selection::default()
    };
    let assets = match library.assets(&all) {
        Ok(a) => a,
        Err(e) => return Read::Error(e.to_string()),
    };
    let mut uuids: Vec<String> = assets.iter().take(2).map(|a| a.uuid.clone()).collect();
    uuids.push("x') OR 1=1 --".into());
    let since = Selection {
        all: false,
        since: chrono::DateTime::from_timestamp(1_500_000_000, 0),
        uuids,
    };
    for selection in [Selection::default(), since] {
        if let Err(e) = library.assets(&selection) {
            return Read::Error(e.to_string());
        }
    }
    if let Err(e) = library.count_assets() {
        return Read::Error(e.to_string());
    }
    Read::Assets(assets)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "panic with a non-text payload".into())
}

/// What `assets --json --all` said: the asset count, or the error.
pub type CliRead = Result<usize, String>;

/// Runs `assets --json --all --library ROOT` with a timeout and checks its
/// exit, its error and the paths in its JSON.
pub fn run_cli(
    binary: &Path,
    root: &Path,
    timeout: Duration,
    found: &mut Vec<Violation>,
) -> Option<CliRead> {
    let mut child = std::process::Command::new(binary)
        .args(["assets", "--json", "--all", "--library"])
        .arg(root)
        .env_remove("PHOTOS_BACKUP_CONFIG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start photos-backup");
    // Read the pipes on threads so a large listing cannot fill them and stall the child.
    let (mut out, mut err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || read_all(&mut out));
    let err = std::thread::spawn(move || read_all(&mut err));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for photos-backup") {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            found.push(violation("cli-hang", format!("no exit in {timeout:?}")));
            return None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    let stderr = String::from_utf8_lossy(&stderr);
    match status.code() {
        Some(0) => cli_listing(&stdout, found).map(Ok),
        Some(1) => {
            if stderr.contains("panicked") {
                found.push(violation("cli-panic", stderr.to_string()));
            } else if !stderr.contains(&root.display().to_string()) {
                found.push(violation("error-without-path", format!("cli: {stderr}")));
            }
            Some(Err(stderr.to_string()))
        }
        other => {
            found.push(violation("cli-crash", format!("exit {other:?}: {stderr}")));
            None
        }
    }
}

fn read_all(r: &mut impl std::io::Read) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = r.read_to_end(&mut v);
    v
}

/// The JSON listing's asset count, after checking every path in it.
fn cli_listing(stdout: &[u8], found: &mut Vec<Violation>) -> Option<usize> {
    let list: Vec<serde_json::Value> = match serde_json::from_slice(stdout) {
        Ok(l) => l,
        Err(e) => {
            found.push(violation("cli-bad-json", e.to_string()));
            return None;
        }
    };
    for a in &list {
        let isreference = a["isreference"] == true;
        let mut paths: Vec<&str> = ["path", "path_edited", "path_live_photo", "path_raw"]
            .iter()
            .filter_map(|f| a[*f].as_str())
            .collect();
        if let Some(resources) = a["resources"].as_array() {
            paths.extend(resources.iter().filter_map(|r| r["path"].as_str()));
        }
        for p in paths {
            if let Some(why) = unsafe_path(p, isreference) {
                found.push(violation(
                    "unsafe-path",
                    format!("cli, asset {}: {why}", a["uuid"]),
                ));
            }
        }
    }
    Some(list.len())
}
