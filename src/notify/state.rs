//! The notification state between runs: `notify.json` in the state folder,
//! two instants in RFC 3339. Written atomically (temp file, fsync, rename),
//! and only when it changes, so a quiet run writes nothing.
//!
//! A file that does not parse (edited by hand, say) is not an error: it is
//! read as "no state", with a warning naming it, and replaced at the next
//! write. The worst this can do is send one notification too many; an error
//! here would instead silence every failure notification until someone
//! noticed, which for an unattended backup is the worse outcome.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::policy::State;
use super::NotifyError;

/// The file name, in the state folder.
const FILE_NAME: &str = "notify.json";

/// The state, and a warning when the file was unreadable and ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Loaded {
    pub(super) state: State,
    pub(super) warning: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    failing_since: Option<String>,
    last_notified: Option<String>,
}

/// Where the state lives in `state_dir`.
#[must_use]
pub(super) fn path(state_dir: &Path) -> PathBuf {
    state_dir.join(FILE_NAME)
}

/// Reads the state: default when the file does not exist; default with a
/// warning when it is malformed; an error naming it when it cannot be read.
pub(super) fn load(state_dir: &Path) -> Result<Loaded, NotifyError> {
    let path = path(state_dir);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Loaded {
                state: State::default(),
                warning: None,
            })
        }
        Err(source) => return Err(NotifyError::ReadState { path, source }),
    };
    Ok(match parse(&bytes) {
        Ok(state) => Loaded {
            state,
            warning: None,
        },
        Err(why) => Loaded {
            state: State::default(),
            warning: Some(format!(
                "notification state {} is unreadable ({why}); starting afresh",
                path.display()
            )),
        },
    })
}

/// Writes the state atomically and durably.
pub(super) fn save(state_dir: &Path, state: &State) -> Result<(), NotifyError> {
    let path = path(state_dir);
    let bytes = render(state);
    crate::export::copy::write_atomic(&path, &bytes, None)
        .map(drop)
        .map_err(|e| NotifyError::WriteState {
            path,
            message: crate::error_text::describe(&e),
        })
}

/// The file's content for `state`.
#[must_use]
fn render(state: &State) -> Vec<u8> {
    let stored = Stored {
        failing_since: state.failing_since.map(|t| t.to_rfc3339()),
        last_notified: state.last_notified.map(|t| t.to_rfc3339()),
    };
    let mut bytes = serde_json::to_vec_pretty(&stored).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The state in the file's content, or why it is not one.
fn parse(bytes: &[u8]) -> Result<State, String> {
    let stored: Stored = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let instant = |name: &str, v: Option<String>| -> Result<Option<DateTime<Utc>>, String> {
        v.map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .map(|t| t.to_utc())
                .map_err(|e| format!("{name}: {s:?} is not an RFC 3339 time ({e})"))
        })
        .transpose()
    };
    Ok(State {
        failing_since: instant("failing_since", stored.failing_since)?,
        last_notified: instant("last_notified", stored.last_notified)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing() -> State {
        let t = DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
            .unwrap()
            .to_utc();
        State {
            failing_since: Some(t),
            last_notified: Some(t + chrono::Duration::hours(24)),
        }
    }

    #[test]
    fn round_trip_leaves_only_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap().state, State::default());
        save(dir.path(), &failing()).unwrap();
        let loaded = load(dir.path()).unwrap();
        assert_eq!(loaded.state, failing());
        assert_eq!(loaded.warning, None);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [FILE_NAME]);
        save(dir.path(), &State::default()).unwrap();
        assert_eq!(load(dir.path()).unwrap().state, State::default());
    }

    #[test]
    fn the_file_is_plain_json_with_utc_instants() {
        let text = String::from_utf8(render(&failing())).unwrap();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["failing_since"], "2026-03-01T08:00:00+00:00");
        assert_eq!(value["last_notified"], "2026-03-02T08:00:00+00:00");
    }

    #[test]
    fn a_corrupt_file_is_no_state_with_a_warning_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(dir.path());
        for bad in [
            &b"{not json"[..],
            br#"{"failing_since": "yesterday"}"#,
            br#"{"failing_since": null, "colour": "red"}"#,
        ] {
            std::fs::write(&file, bad).unwrap();
            let loaded = load(dir.path()).unwrap();
            assert_eq!(loaded.state, State::default());
            let warning = loaded.warning.expect("a warning");
            assert!(warning.contains(&file.display().to_string()), "{warning}");
        }
    }

    #[test]
    fn an_unreadable_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should be: reading it fails, and not with
        // "not found".
        std::fs::create_dir(path(dir.path())).unwrap();
        let msg = load(dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains(&path(dir.path()).display().to_string()),
            "{msg}"
        );
    }
}
