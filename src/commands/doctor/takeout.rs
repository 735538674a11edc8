//! The doctor's checks of each `[[takeout]]` source (issue 19): the inbox
//! is there, is a folder and can be listed (within a bound: it is often a
//! Google Drive folder, whose listing can block while Drive fetches), and
//! is not inside staging or the mirror (a run would read its own output);
//! the time zone is known; staging has room for the largest set not read
//! yet (the free space the staging check already asked for). Looking
//! (`fact`, thin: one bounded listing, the ledger's part rows) and judging
//! (`judge`, pure) are apart, like the rest of the doctor.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::Check;
use crate::config::{Config, Takeout};
use crate::ledger::Ledger;
use crate::takeout::inbox;
use crate::text::{human_bytes, sh_quote};

/// How long listing an inbox may take.
const LIST_BOUND: Duration = Duration::from_secs(30);

/// What the doctor found of one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TakeoutFact {
    pub(super) name: String,
    pub(super) inbox: PathBuf,
    pub(super) listing: Listing,
    /// The config key of the folder the inbox is inside, and that folder.
    pub(super) inside: Option<(&'static str, PathBuf)>,
    /// The time zone is not known (why).
    pub(super) zone_error: Option<String>,
    /// Bytes free in staging, as the staging check found them.
    pub(super) staging_free: Result<u64, String>,
}

/// What listing the inbox gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Listing {
    Missing,
    NotAFolder,
    Unreadable(String),
    /// Did not end within the bound (seconds).
    TimedOut(u64),
    Listed {
        sets: usize,
        /// The largest set whose parts are not all read: id and bytes.
        largest_unread: Option<(String, u64)>,
    },
}

/// Looks at `t`'s inbox (bounded) and which of its sets `ledger` has read.
#[must_use]
pub(super) fn fact(
    config: &Config,
    t: &Takeout,
    ledger: Option<&Ledger>,
    staging_free: Result<u64, String>,
) -> TakeoutFact {
    let dir = t.inbox.clone();
    let listed = crate::terminate::bounded(LIST_BOUND, move || {
        match std::fs::metadata(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Listing::Missing),
            Err(e) => return Err(Listing::Unreadable(e.to_string())),
            Ok(m) if !m.is_dir() => return Err(Listing::NotAFolder),
            Ok(_) => {}
        }
        inbox::scan(&dir, LIST_BOUND)
            .map_err(|e| Listing::Unreadable(crate::error_text::describe(&e)))
    });
    let listing = match listed {
        None => Listing::TimedOut(LIST_BOUND.as_secs()),
        Some(Err(listing)) => listing,
        Some(Ok(scan)) => {
            let read = |part: &str| {
                ledger
                    .and_then(|l| l.takeout_part(&t.name, part).ok().flatten())
                    .is_some_and(|s| s.done())
            };
            let largest_unread = scan
                .sets
                .iter()
                .filter(|s| !s.parts.iter().all(|p| read(&p.name)))
                .map(|s| (s.id.clone(), s.parts.iter().map(|p| p.size).sum::<u64>()))
                .max_by_key(|(_, bytes)| *bytes);
            Listing::Listed {
                sets: scan.sets.len(),
                largest_unread,
            }
        }
    };
    TakeoutFact {
        name: t.name.clone(),
        inbox: t.inbox.clone(),
        listing,
        inside: inside(config, &t.inbox),
        zone_error: jiff::tz::TimeZone::get(&t.time_zone)
            .err()
            .map(|e| format!("{:?} is not a known time zone ({e})", t.time_zone)),
        staging_free,
    }
}

/// The folder of ours `inbox` is inside, if any (compared as written,
/// absolute: the inbox is never resolved through a mount that may hang).
fn inside(config: &Config, inbox: &Path) -> Option<(&'static str, PathBuf)> {
    let inbox = std::path::absolute(inbox).unwrap_or_else(|_| inbox.to_owned());
    let mut ours = vec![
        ("staging.dir", config.staging_dir.clone()),
        ("state.dir", config.state_dir.clone()),
    ];
    if let Some(r) = &config.remote {
        ours.push(("remote.plain_mount", r.plain_mount.clone()));
        ours.push(("remote.cipher_mount", r.cipher_mount.clone()));
    }
    ours.into_iter()
        .map(|(key, dir)| (key, std::path::absolute(&dir).unwrap_or(dir)))
        .find(|(_, dir)| inbox.starts_with(dir))
}

/// The verdict on one source.
#[must_use]
pub(super) fn judge(f: &TakeoutFact, file: &Path) -> Check {
    let subject = format!("takeout {}", f.name);
    let inbox = f.inbox.display();
    let file = file.display();
    let fix_inbox = format!(
        "correct `inbox` of [[takeout]] {:?} in {file} (the folder Google Takeout parts \
         arrive in)",
        f.name
    );
    if let Some((key, dir)) = &f.inside {
        return Check::failed(
            subject,
            format!("the inbox {inbox} is inside {key} ({})", dir.display()),
            format!("{fix_inbox}: a run must never read what it writes"),
        );
    }
    if let Some(why) = &f.zone_error {
        return Check::failed(
            subject,
            why.clone(),
            format!(
                "set `time_zone` of [[takeout]] {:?} in {file} to an IANA name such as \
                 \"Europe/Berlin\"",
                f.name
            ),
        );
    }
    let (sets, largest) = match &f.listing {
        Listing::Missing => {
            return Check::failed(
                subject,
                format!("the inbox {inbox} does not exist"),
                format!(
                    "create it (mkdir -p {}), or {fix_inbox}",
                    sh_quote(&f.inbox.display().to_string())
                ),
            )
        }
        Listing::NotAFolder => {
            return Check::failed(
                subject,
                format!("the inbox {inbox} is not a folder"),
                fix_inbox,
            )
        }
        Listing::Unreadable(why) => {
            return Check::failed(
                subject,
                format!("the inbox {inbox} cannot be listed: {why}"),
                format!("give this user read access to {inbox}, or {fix_inbox}"),
            )
        }
        Listing::TimedOut(secs) => {
            return Check::warning(
                subject,
                format!("listing the inbox {inbox} did not end within {secs} s"),
                "if it is a Google Drive folder, make it available offline \
                 (Finder: right-click, Make Available Offline), then run doctor again",
            )
        }
        Listing::Listed {
            sets,
            largest_unread,
        } => (*sets, largest_unread),
    };
    let found = format!(
        "inbox {inbox}: {sets} Takeout set{} ({})",
        crate::text::plural(sets as u64),
        match largest {
            None => "all read".to_owned(),
            Some((id, bytes)) => format!("largest not read yet: {id}, {}", human_bytes(*bytes)),
        }
    );
    match (largest, &f.staging_free) {
        (Some((id, bytes)), Ok(free)) if free < bytes => Check::warning(
            subject,
            format!("{found}; staging has only {} free", human_bytes(*free)),
            format!(
                "free {} in staging (reading {id} holds up to its size there until it is \
                 staged), or move `staging.dir` in {file}",
                human_bytes(bytes - free)
            ),
        ),
        _ => Check::ok(subject, found),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(listing: Listing) -> TakeoutFact {
        TakeoutFact {
            name: "carla-google".into(),
            inbox: "/Users/c/Google Drive/Takeout".into(),
            listing,
            inside: None,
            zone_error: None,
            staging_free: Ok(3_000_000_000),
        }
    }

    #[test]
    fn each_verdict_of_a_takeout_source() {
        let file = Path::new("/c.conf");
        let listed = |largest: Option<(&str, u64)>| Listing::Listed {
            sets: 2,
            largest_unread: largest.map(|(id, b)| (id.to_owned(), b)),
        };
        let mut lines = Vec::new();
        for f in [
            fact(listed(None)),
            fact(listed(Some(("takeout-20240701T221728Z", 2_000_000_000)))),
            fact(listed(Some(("takeout-20240701T221728Z", 50_000_000_000)))),
            fact(Listing::Missing),
            fact(Listing::NotAFolder),
            fact(Listing::Unreadable(
                "Permission denied (os error 13)".into(),
            )),
            fact(Listing::TimedOut(30)),
            TakeoutFact {
                inside: Some(("staging.dir", "/Users/c/Google Drive".into())),
                ..fact(listed(None))
            },
            TakeoutFact {
                zone_error: Some("\"Mars/Olympus\" is not a known time zone".into()),
                ..fact(listed(None))
            },
        ] {
            lines.push(super::super::render(&judge(&f, file)));
        }
        insta::assert_snapshot!(lines.join("\n"));
    }
}
