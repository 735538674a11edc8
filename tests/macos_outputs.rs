//! The readers of macOS programs' output, on output captured on real Macs
//! and published (no Mac runs these tests). Each capture names where it was
//! found; where the public index did not record the repository, the
//! capture's own words are quoted so it can be found again.

use std::path::Path;

use photos_backup::commands::doctor::judge::last_exit_code;
use photos_backup::power::{parse_pmset, Power};
use photos_backup::remote::local_network::route_is_direct;
use photos_backup::remote::mounts::{MountTable, Os};
use photos_backup::remote::network::parse_route_interface;
use photos_backup::remote::sshfs_mode::{is_incompatible, parse_versions};
use photos_backup::secrets::KeychainError;

/// `mount` on macOS with an sshfs mount, from the macFUSE wiki's "Mount
/// Options" page (`fsname`), as quoted in a translation of it.
const MOUNT_SSHFS: &str = "sshfs#singh@127.0.0.1:/tmp/dir on /private/tmp/ssh (macfuse, nodev, nosuid, synchronous, mounted by singh)\n";

/// `mount` with a `JuiceFS` (macFUSE) volume, from a `JuiceFS` walkthrough
/// (`JuiceFS:alicloud on /Users/voidint/jfs`).
const MOUNT_JUICEFS: &str =
    "JuiceFS:alicloud on /Users/voidint/jfs (macfuse, nodev, nosuid, synchronous, mounted by voidint)\n";

#[test]
fn mount_lines_of_macfuse_volumes() {
    let table = MountTable::parse(Os::MacOs, MOUNT_SSHFS);
    let ssh = table.at(Path::new("/private/tmp/ssh"));
    assert_eq!(ssh.len(), 1);
    assert_eq!(ssh[0].source, "sshfs#singh@127.0.0.1:/tmp/dir");
    assert_eq!(ssh[0].fs_type, "macfuse");
    assert!(ssh[0].is_fuse());
    let jfs = MountTable::parse(Os::MacOs, MOUNT_JUICEFS);
    assert_eq!(
        jfs.at(Path::new("/Users/voidint/jfs"))[0].source,
        "JuiceFS:alicloud"
    );
}

#[test]
fn pmset_batt_on_battery_and_on_ac() {
    // A terminal transcript ("artem@MacBook-Pro-15 missing % pmset -g batt").
    let battery = "Now drawing from 'Battery Power'
 -InternalBattery-0 (id=19857507)\t69%; discharging; 5:30 remaining present: true
";
    // A Japanese macOS notes page ("バッテリーの状態をCUIで取得する").
    let ac = "Now drawing from 'AC Power'
 -InternalBattery-0 (id=5767267)        61%; AC attached; not charging present: true
";
    assert_eq!(parse_pmset(battery), Some(Power::Battery));
    assert_eq!(parse_pmset(ac), Some(Power::Ac));
}

/// `launchctl print` fixtures a public project labels "real `launchctl
/// print` output, 2026-10-06" (labels `com.chorus.*`).
#[test]
fn launchctl_print_reads_the_services_own_exit_code() {
    let ex_config = "gui/501/com.chorus.fixture-ex-config = {\n\truns = 3325\n\tlast exit code = 78: EX_CONFIG\n}";
    assert_eq!(last_exit_code(ex_config), Some(78));
    // Killed by a signal: the only "last exit code" is an endpoint's, nested.
    let killed = "gui/501/com.chorus.hooks = {
\tstate = running
\truns = 48
\tpid = 38837
\tlast terminating signal = Killed: 9
\tendpoints = {
\t\tlast exit code = 0
\t}
}";
    assert_eq!(last_exit_code(killed), None, "a kill is not a clean exit");
    let first_run = "gui/501/com.chorus.api = {\n\truns = 1\n\tpid = 52021\n}";
    assert_eq!(last_exit_code(first_run), None);
}

#[test]
fn sshfs_version_of_the_pair_that_never_returns() {
    // macfuse/macfuse#1180.
    let broken = "SSHFS version 3.7.5\nFUSE library version 3.18.2\nusing FUSE kernel interface version 7.45\nmacFUSE mount version 5.3.3\n";
    // macfuse/macfuse#1102.
    let fine = "SSHFS version 3.7.3\nFUSE library version 3.17.2\nusing FUSE kernel interface version 7.40\nmacFUSE mount version 5.0.5\n";
    assert!(is_incompatible(&parse_versions(broken)));
    assert!(!is_incompatible(&parse_versions(fine)));
}

#[test]
fn route_get_through_a_router() {
    // Unverified shape: no public capture of `route -n get` was found; the
    // lines are route(8)'s labels. What matters: the interface, and the
    // GATEWAY flag that says the host is not on a local subnet.
    let routed = "   route to: 10.20.0.5\ndestination: default\n       mask: default\n    gateway: 172.20.10.1\n  interface: en0\n      flags: <UP,GATEWAY,DONE,STATIC,PRCLONING,GLOBAL>\n";
    assert_eq!(
        parse_route_interface(Os::MacOs, routed).as_deref(),
        Some("en0")
    );
    assert_eq!(route_is_direct(routed), Some(false));
}

#[test]
fn security_framework_errors_that_need_the_user() {
    // -25308 with Apple's text, as lionheart/openradar-mirror#13474 and
    // oblador/react-native-keychain#558 report it.
    let e = KeychainError::Os {
        code: -25308,
        message: "User interaction is not allowed.".into(),
    };
    assert!(e.to_string().contains("photos-backup secret set"), "{e}");
}
