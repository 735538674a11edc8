//! The readers of macOS programs' output, on output captured on real Macs
//! and published (no Mac runs these tests). Each capture names where it was
//! found; where the public index did not record the repository, the
//! capture's own words are quoted so it can be found again.

use std::path::Path;

use photos_backup::commands::doctor::judge::last_exit_code;
use photos_backup::host::Os;
use photos_backup::power::{parse_pmset, Power};
use photos_backup::remote::local_network::route_is_direct;
use photos_backup::remote::mount_table::MountTable;
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

/// `route get 192.168.1.96` (a Synology NAS on the Mac's own Wi-Fi subnet),
/// from a post "Managing Static Routes on Mac" (2021-03-18, prompt
/// `OKM-MAC-4XELVDQ:~ root#`): a cloned host route, no `gateway:` line,
/// no `GATEWAY` flag. Without `-n` the host shows by name.
const ROUTE_GET_LAN_HOST: &str = "   route to: synology
destination: synology
  interface: en0
      flags: <UP,HOST,DONE,LLINFO,WASCLONED,IFSCOPE,IFREF>
 recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire
       0         0         0        23        27         0      1500       923
";

/// `route get 192.168.1.1` (the home router, on the subnet) and `route get
/// 192.168.1.103` (a machine on the same numbers, sent into the VPN) on one
/// Mac, from a post "Barrier (and routing tables)" ("Using Barrier while
/// using a VPN").
const ROUTE_GET_LAN_ROUTER: &str = "   route to: 192.168.1.1
destination: 192.168.1.1
  interface: en0
      flags: <UP,HOST,DONE,LLINFO,WASCLONED,IFSCOPE,IFREF,ROUTER>
 recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire
       0         0         0         0         0         0      1500      1188
";
const ROUTE_GET_INTO_THE_VPN: &str = "   route to: 192.168.1.103
destination: 192.168.1.103
    gateway: 33.12.129.142
  interface: utun6
      flags: <UP,GATEWAY,HOST,DONE,WASCLONED,IFSCOPE,IFREF>
 recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire
       0         0         0         0         0         0      1400         0
";

/// `route get 169.254.0.0`, a subnet route on `en0` (no host entry cloned
/// yet: `CLONING`, no `GATEWAY`), from Cloudflare's WARP Split Tunnels
/// documentation (cloudflare/cloudflare-docs: "this DHCP address is
/// excluded from WARP and uses `en0`").
const ROUTE_GET_LAN_SUBNET: &str = "   route to: 169.254.0.0
destination: 169.254.0.0
       mask: 255.255.0.0
  interface: en0
      flags: <UP,DONE,CLONING,STATIC>
 recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire
       0         0         0         0         0         0      1500   -210842
";

/// `route get 0` through the default router, dylanaraps/neofetch#2361.
const ROUTE_GET_DEFAULT: &str = "   route to: default
destination: default
       mask: default
    gateway: 10.62.96.1
  interface: en0
      flags: <UP,GATEWAY,DONE,STATIC,PRCLONING,GLOBAL>
 recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire
       0         0         0         0         0         0      1500         0
";

#[test]
fn route_get_of_a_host_on_the_local_subnet() {
    for direct in [
        ROUTE_GET_LAN_HOST,
        ROUTE_GET_LAN_ROUTER,
        ROUTE_GET_LAN_SUBNET,
    ] {
        assert_eq!(route_is_direct(direct), Some(true), "{direct}");
        assert_eq!(
            parse_route_interface(Os::MacOs, direct).as_deref(),
            Some("en0")
        );
    }
}

#[test]
fn route_get_through_a_router() {
    assert_eq!(route_is_direct(ROUTE_GET_DEFAULT), Some(false));
    assert_eq!(
        parse_route_interface(Os::MacOs, ROUTE_GET_DEFAULT).as_deref(),
        Some("en0")
    );
    // A host with home numbers that the VPN takes: routed, not local.
    assert_eq!(route_is_direct(ROUTE_GET_INTO_THE_VPN), Some(false));
    assert_eq!(
        parse_route_interface(Os::MacOs, ROUTE_GET_INTO_THE_VPN).as_deref(),
        Some("utun6")
    );
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
