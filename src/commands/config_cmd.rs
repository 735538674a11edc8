//! `config init` and `config check`: a first config without copying files
//! by hand, and a way to see what a config means before a run acts on it.
//! `init` writes the example shipped inside the binary (so a user who
//! installed only the binary has it) with the user's own Photos library
//! filled in, never over an existing file; `check` prints the settings as
//! resolved (absolute paths, defaults filled). Secrets appear only as the
//! references the file holds: nothing here reads a secret.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::config::Config;
use crate::host::Host;

/// The example config, as shipped in the repository.
const EXAMPLE: &str = include_str!("../../photos_backup.conf.example");

/// Where the example's library section starts; `init` rewrites from here on.
const LIBRARY_SECTION: &str = "# One [[library]] per Photos library";

/// Where Photos keeps the system library, relative to the home folder.
const SYSTEM_LIBRARY: &str = "Pictures/Photos Library.photoslibrary";

/// The example config for the user of `home`: one `[[library]]` named after
/// the user with the system library's path when `found`, else the example's
/// libraries with a comment saying that none was found.
#[must_use]
fn example_for(home: &Path, found: bool) -> String {
    let (head, section) = EXAMPLE
        .find(LIBRARY_SECTION)
        .map_or((EXAMPLE, ""), |at| EXAMPLE.split_at(at));
    if !found {
        return format!(
            "{head}# No Photos library was found at ~/{SYSTEM_LIBRARY}: set the name\n\
             # and path of yours below (these two are examples).\n{section}"
        );
    }
    format!(
        "{head}{LIBRARY_SECTION} (one per family member).\n\
         [[library]]\n\
         # Short name: letters, digits, '-', '_', '.'; used in folder and archive names.\n\
         name = \"{}\"\n\
         # The .photoslibrary bundle (found by `photos-backup config init`).\n\
         path = \"~/{SYSTEM_LIBRARY}\"\n",
        library_name(home)
    )
}

/// A library name for the user of `home`: its folder's name with every
/// character a library name may not hold dropped (`me` when none is left).
#[must_use]
fn library_name(home: &Path) -> String {
    let user = home
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name: String = user
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect();
    let name = name.trim_matches('.');
    if name.is_empty() {
        "me".to_owned()
    } else {
        name.to_owned()
    }
}

/// `config init`: writes the example to `path` (its folder created
/// owner-only, the file 0600), never over an existing file.
pub(crate) fn init(path: &Path, host: &Host, out: &mut dyn Write) -> Result<()> {
    let found = host.home.join(SYSTEM_LIBRARY).is_dir();
    let text = example_for(&host.home, found);
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        crate::private_fs::create_dir_all(folder)
            .with_context(|| format!("cannot create the folder {}", folder.display()))?;
    }
    let mut file = crate::private_fs::create_new(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "config file {} exists already; it is left as it is (see what it means \
                 with `photos-backup config check`)",
                path.display()
            )
        } else {
            anyhow::Error::new(e).context(format!("cannot create {}", path.display()))
        }
    })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(out, "Wrote the example config to {}", path.display())?;
    if found {
        writeln!(
            out,
            "Library {:?}: {}",
            library_name(&host.home),
            host.home.join(SYSTEM_LIBRARY).display()
        )?;
    } else {
        writeln!(
            out,
            "No Photos library at {}: set yours in its [[library]] section.",
            host.home.join(SYSTEM_LIBRARY).display()
        )?;
    }
    writeln!(
        out,
        "Next steps:\n  \
         1. Edit it: the backup server ([remote]), the borg repository ([borg]), staging.\n  \
         2. photos-backup config check   (what it means, resolved)\n  \
         3. photos-backup secret set NAME   (each keychain: secret it refers to)\n  \
         4. photos-backup doctor, then photos-backup init-repo and photos-backup install"
    )?;
    Ok(())
}

/// `config check`: the settings of a config that loaded, resolved.
pub(crate) fn check(config: &Config, out: &mut dyn Write) -> Result<()> {
    out.write_all(describe(config).as_bytes())?;
    Ok(())
}

/// The settings as lines of text; secrets as their references only, every
/// value from the file through `printable`.
#[must_use]
fn describe(c: &Config) -> String {
    let mut s = String::new();
    let secs = |d: std::time::Duration| d.as_secs();
    let _ = writeln!(s, "config file {}: ok", p(c.file.display()));
    let _ = writeln!(s, "[state] dir = {}", p(c.state_dir.display()));
    let _ = writeln!(s, "        log_dir = {}", p(c.log_dir.display()));
    let _ = writeln!(
        s,
        "[run] only_on_ac_power = {}, deadline_seconds = {}, archive_deadline_seconds = {}, \
         skip_alert_hours = {}",
        c.only_on_ac_power,
        secs(c.limits.deadline),
        secs(c.limits.archive_deadline),
        secs(c.limits.skip_alert_after) / 3600
    );
    let _ = writeln!(
        s,
        "[staging] dir = {}, group_readable = {}",
        p(c.staging_dir.display()),
        c.staging_group_readable
    );
    let _ = writeln!(s, "[threshold] default = {}", c.default_threshold);
    let e = &c.export;
    let _ = writeln!(
        s,
        "[export] edited = {}, unpicked_bursts = {}, download_missing = {}, \
         max_downloads_per_run = {}, download_timeout_seconds = {}",
        e.edited,
        e.unpicked_bursts,
        e.download_missing,
        e.max_downloads_per_run,
        secs(e.download_timeout)
    );
    remote_and_borg(c, &mut s);
    match &c.drill {
        None => s.push_str("[drill] none: runs make no restore drills\n"),
        Some(d) => {
            let _ = writeln!(
                s,
                "[drill] every_days = {}, files = {}, mirror_files = {}",
                d.every_days, d.files, d.mirror_files
            );
        }
    }
    let b = &c.backfill;
    let _ = writeln!(
        s,
        "[backfill] enabled = {}, start = {}, max_staging_gb = {:.1}",
        b.enabled,
        b.start
            .map_or_else(|| "the oldest photo".to_owned(), |m| m.to_string()),
        b.max_staging_bytes as f64 / 1e9
    );
    let method = notify_method(&c.notify.method);
    let _ = writeln!(
        s,
        "[notify] method = {method}, repeat_after_hours = {}, on_success = {}",
        secs(c.notify.repeat_after) / 3600,
        c.notify.on_success
    );
    match &c.monitor {
        None => s.push_str("[monitor] none: no dead-man pings\n"),
        Some(monitor) => {
            let _ = writeln!(
                s,
                "[monitor] url = {} (a reference; not read), style = {}, on_skip = {}, \
                 timeout_seconds = {}",
                p(&monitor.url),
                monitor.style.name(),
                monitor.on_skip.name(),
                secs(monitor.timeout)
            );
        }
    }
    for library in &c.libraries {
        let _ = writeln!(
            s,
            "[[library]] {} = {}",
            library.name,
            p(library.path.display())
        );
    }
    for takeout in &c.takeouts {
        let _ = writeln!(
            s,
            "[[takeout]] {} = {} (time_zone {})",
            takeout.name,
            p(takeout.inbox.display()),
            takeout.time_zone
        );
    }
    s
}

/// `[remote]` and `[borg]`: their secrets as the references the file holds.
fn remote_and_borg(c: &Config, s: &mut String) {
    let secs = |d: std::time::Duration| d.as_secs();
    match &c.remote {
        None => s.push_str("[remote] none: staging only, nothing mirrored\n"),
        Some(r) => {
            let _ = writeln!(
                s,
                "[remote] {}@{}:{} dir = {}\n         password = {} (a reference; not read)\n         \
                 cipher_mount = {}\n         plain_mount = {}\n         identity_file = {}, \
                 known_hosts = {}, keep_mounted = {}, probe_timeout_seconds = {}, interface = {}",
                p(&r.user),
                p(&r.host),
                r.port,
                p(&r.dir),
                p(&r.password),
                p(r.cipher_mount.display()),
                p(r.plain_mount.display()),
                or_default(r.identity_file.as_deref(), "ssh's own"),
                or_default(r.known_hosts.as_deref(), "ssh's own"),
                r.keep_mounted,
                secs(r.probe_timeout),
                p(r.interface.as_deref().unwrap_or("any")),
            );
        }
    }
    match &c.borg {
        None => s.push_str("[borg] none: nothing is archived, staging keeps growing\n"),
        Some(b) => {
            let _ = writeln!(
                s,
                "[borg] repository = {}\n       passphrase = {} (a reference; not read)\n       \
                 prefix = {}, compression = {}, lock_wait_seconds = {}, verify = {}, \
                 max_pending_days = {}, check_every_days = {}, prune_keep_monthly = {}, \
                 prune_keep_yearly = {}",
                p(&b.repository),
                p(&b.passphrase),
                p(&b.prefix),
                p(&b.compression),
                b.lock_wait,
                match b.verify {
                    crate::config::Verify::Size => "size",
                    crate::config::Verify::Content => "content",
                },
                b.max_pending_days,
                number_or(b.check_every_days, "never"),
                number_or(b.prune_keep_monthly, "all"),
                number_or(b.prune_keep_yearly, "all"),
            );
        }
    }
}

/// The notify method as the config names it; a command shows only its program.
fn notify_method(method: &crate::notify::Method) -> String {
    match method {
        crate::notify::Method::NotificationCenter => "notification-center".to_owned(),
        crate::notify::Method::Osascript => "osascript".to_owned(),
        // Only the program: its arguments may hold a topic or a token.
        crate::notify::Method::Command(words) => format!(
            "command {} (its {} arguments not shown)",
            p(words.first().map_or("", String::as_str)),
            words.len().saturating_sub(1)
        ),
        crate::notify::Method::None => "none".to_owned(),
    }
}

fn or_default(path: Option<&Path>, default: &str) -> String {
    path.map_or_else(|| default.to_owned(), |path| p(path.display()))
}

fn number_or(value: Option<u32>, default: &str) -> String {
    value.map_or_else(|| default.to_owned(), |v| v.to_string())
}

/// A value of the config file (untrusted text) made safe for a terminal.
fn p(value: impl std::fmt::Display) -> String {
    crate::printable::printable(&value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_library_name_comes_from_the_home_folder() {
        assert_eq!(library_name(Path::new("/Users/anna")), "anna");
        assert_eq!(library_name(Path::new("/Users/.jo é.")), "jo");
        assert_eq!(library_name(Path::new("/")), "me");
    }

    #[test]
    fn values_that_could_drive_the_terminal_are_refused() {
        let host = Host {
            home: "/Users/anna".into(),
            ..Host::current()
        };
        let example = example_for(Path::new("/Users/anna"), true);
        // A route's interface, a reference's command and a path are refused
        // with a control character in them, and the error does not repeat it
        // raw: nothing `config check` shows can drive the terminal.
        for (from, to, key) in [
            (
                "~/Pictures/Photos Library.photoslibrary",
                "~/Pictures/\\u001b[2J\\nfake.photoslibrary",
                "library[0].path",
            ),
            (
                "# interface = \"utun*\"",
                "interface = \"u\\u001b[2J\\nfake\"",
                "remote.interface",
            ),
            (
                "password = \"keychain:photos-backup-gocryptfs\"",
                "password = \"command:echo \\u001b[2J\"",
                "remote.password",
            ),
        ] {
            let text = example.replace(from, to);
            let err = crate::config::parse(&text, Path::new("/c/pb.conf"), &host)
                .unwrap_err()
                .to_string();
            assert!(err.contains(key) && !err.contains('\u{1b}'), "{err}");
        }
    }

    #[test]
    fn a_takeout_is_shown_and_its_example_kept_in_both_examples() {
        for found in [true, false] {
            let text = example_for(Path::new("/Users/anna"), found);
            assert!(text.contains("# [[takeout]]\n"), "{text}");
        }
        let host = Host {
            home: "/Users/anna".into(),
            ..Host::current()
        };
        let text = example_for(Path::new("/Users/anna"), true).replace(
            "# [[takeout]]\n# name = \"carla-google\"\n# inbox = ",
            "[[takeout]]\nname = \"carla-google\"\ninbox = ",
        );
        let text = text.replace("# time_zone = ", "time_zone = ");
        let config = crate::config::parse(&text, Path::new("/c/pb.conf"), &host).unwrap();
        let shown = describe(&config);
        assert!(
            shown.contains(
                "[[takeout]] carla-google = /Users/anna/Library/CloudStorage/\
                 GoogleDrive-carla@example.com/My Drive/Takeout (time_zone Europe/Berlin)"
            ),
            "{shown}"
        );
    }

    #[test]
    fn the_example_with_a_library_found_has_only_it() {
        let text = example_for(Path::new("/Users/anna"), true);
        assert!(text.starts_with("# photos-backup configuration"));
        assert_eq!(text.matches("[[library]]\n").count(), 1, "{text}");
        assert!(text.contains("name = \"anna\"\n"));
        assert!(!text.contains("ben"));
        let kept = example_for(Path::new("/Users/anna"), false);
        assert!(kept.contains("No Photos library was found"));
        assert!(kept.ends_with(&EXAMPLE[EXAMPLE.find(LIBRARY_SECTION).unwrap()..]));
    }
}
