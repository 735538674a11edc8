//! macOS Local Network Privacy (macOS 15 and later), told apart from "off
//! the network". A LaunchAgent that is not an app is refused connections to
//! hosts on a directly connected subnet: `connect` fails at once with
//! `EHOSTUNREACH` ("No route to host", errno 65), with no prompt, while the
//! same binary run from Terminal connects (Apple's TN3179 exempts launchd
//! daemons, root, and tools run from Terminal or over SSH, not agents).
//! Treated as "off network", the agent would skip every run forever, so the
//! gate turns it into a failure that names the fix.
//!
//! Evidence (public threads, no Mac here): the refusal is synchronous, about
//! 150 µs, errno 65 (anthropics/claude-code#92843, an `fs_usage` trace); it
//! hits hosts on directly connected subnets only, a routed address still
//! works (nrlquaker/winbox-mac#157; the default gateway still answers in
//! anthropics/claude-code#93707); children inherit the verdict of the
//! responsible process: Apple's `/usr/bin/nc` and `/usr/bin/ssh` started
//! under a non-exempt parent are refused the same way
//! (openchamber/openchamber#3489, anthropics/claude-code#93707). So neither
//! `-o ssh_command=/usr/bin/ssh` nor a probe through `/usr/bin/nc` gets
//! through: the probe in this process meets exactly what sshfs's ssh will
//! meet, which is what makes it the right probe. The way through is the
//! user's: allow the binary under System Settings > Privacy & Security >
//! Local Network, or reach the server by a routed address (the VPN).
//!
//! The decision is pure: the error kind, how fast it came, and whether the
//! route to the address is direct (`route -n get`: no `GATEWAY` flag).

use std::fmt;
use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::host::Os;

/// A refusal by Local Network Privacy comes in well under this; an ARP
/// lookup that finds nobody (a café whose subnet has the same numbers as
/// home) takes seconds on macOS before it says "no route" (unverified on a
/// Mac: the figure is the kernel's ARP retry, not measured here).
const REFUSED_WITHIN: Duration = Duration::from_millis(500);

/// What a failed connection attempt looked like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Attempt {
    pub(super) address: SocketAddr,
    pub(super) kind: ErrorKind,
    pub(super) elapsed: Duration,
}

/// Whether `attempt` looks like macOS refusing this process the local
/// network: on macOS, "no route to host" at once, to an address whose route
/// is direct (`Some(true)`), or, when the route could not be read, to a
/// private or link-local address.
#[must_use]
pub(super) fn is_refusal(os: Os, attempt: &Attempt, direct_route: Option<bool>) -> bool {
    os == Os::MacOs
        && attempt.kind == ErrorKind::HostUnreachable
        && attempt.elapsed < REFUSED_WITHIN
        && direct_route.unwrap_or_else(|| is_local_address(attempt.address.ip()))
}

/// Private (RFC 1918, IPv6 unique local) or link-local addresses: where a
/// home server lives.
#[must_use]
fn is_local_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Whether `route -n get ADDR` output describes a direct route (the host is
/// on a subnet of an interface): its `flags:` line has no `GATEWAY`.
/// `None` when there is no `flags:` line.
#[must_use]
pub fn route_is_direct(route_output: &str) -> Option<bool> {
    route_output.lines().find_map(|line| {
        let flags = line.trim().strip_prefix("flags:")?;
        Some(
            !flags
                .trim()
                .trim_matches(['<', '>'])
                .split(',')
                .any(|f| f.trim() == "GATEWAY"),
        )
    })
}

/// The gate's verdict when macOS refused the connection: a failure, not a skip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub(super) host: String,
    pub(super) address: SocketAddr,
    /// The binary the permission is for.
    pub(super) binary: String,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "macOS refused the connection to {} ({}): \"No route to host\" at once to a host on \
             a local subnet, which is Local Network Privacy, not the network",
            self.host, self.address
        )
    }
}

impl Refused {
    /// What the user does about it.
    #[must_use]
    pub(crate) fn fix(&self) -> String {
        format!(
            "System Settings > Privacy & Security > Local Network: turn on {} (macOS lists it \
             after its first refused attempt; if it is not listed, see \"Local Network \
             Privacy\" in the README: reach the server through the VPN, or run \
             `photos-backup doctor --as-agent` after each change)",
            self.binary
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `route get 192.168.1.96`, a NAS on the Wi-Fi's own subnet, captured
    /// on a Mac and published in a post "Managing Static Routes on Mac"
    /// (2021-03-18); more captures in `tests/macos_outputs.rs`.
    const DIRECT: &str = "   route to: synology
destination: synology
  interface: en0
      flags: <UP,HOST,DONE,LLINFO,WASCLONED,IFSCOPE,IFREF>
 recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire
       0         0         0        23        27         0      1500       923
";

    /// Through the router: the `GATEWAY` flag (`route get 0`,
    /// dylanaraps/neofetch#2361).
    const ROUTED: &str = "   route to: default
destination: default
       mask: default
    gateway: 10.62.96.1
  interface: en0
      flags: <UP,GATEWAY,DONE,STATIC,PRCLONING,GLOBAL>
";

    fn attempt(ip: &str, kind: ErrorKind, ms: u64) -> Attempt {
        Attempt {
            address: SocketAddr::new(ip.parse().unwrap(), 22),
            kind,
            elapsed: Duration::from_millis(ms),
        }
    }

    #[test]
    fn direct_and_routed_routes() {
        assert_eq!(route_is_direct(DIRECT), Some(true));
        assert_eq!(route_is_direct(ROUTED), Some(false));
        assert_eq!(
            route_is_direct("route: writing to routing socket: not in table"),
            None
        );
    }

    #[test]
    fn an_instant_no_route_on_a_local_subnet_is_a_refusal_on_macos_only() {
        let fast = attempt("192.168.1.10", ErrorKind::HostUnreachable, 0);
        assert!(is_refusal(Os::MacOs, &fast, Some(true)));
        assert!(is_refusal(Os::MacOs, &fast, None));
        assert!(!is_refusal(Os::Linux, &fast, Some(true)));
        // Routed: LNP does not apply, so a real "no route".
        assert!(!is_refusal(Os::MacOs, &fast, Some(false)));
        // Slow: ARP found nobody (a café with the same numbers).
        let slow = attempt("192.168.1.10", ErrorKind::HostUnreachable, 3000);
        assert!(!is_refusal(Os::MacOs, &slow, Some(true)));
        // Refused or timed out: the network answered, or nobody did.
        for kind in [ErrorKind::ConnectionRefused, ErrorKind::TimedOut] {
            assert!(!is_refusal(
                Os::MacOs,
                &attempt("192.168.1.10", kind, 1),
                Some(true)
            ));
        }
        // No route readable, public address: not a home server.
        let public = attempt("8.8.8.8", ErrorKind::HostUnreachable, 0);
        assert!(!is_refusal(Os::MacOs, &public, None));
    }

    #[test]
    fn local_addresses() {
        for ip in [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.10",
            "169.254.3.3",
            "fd00::1",
            "fe80::1",
        ] {
            assert!(is_local_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "172.32.0.1", "2001:db8::1", "100.64.0.1"] {
            assert!(!is_local_address(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn the_message_says_what_and_the_fix_how() {
        let r = Refused {
            host: "nas.local".into(),
            address: "192.168.1.10:22".parse().unwrap(),
            binary: "/usr/local/bin/photos-backup".into(),
        };
        let text = r.to_string();
        assert!(
            text.contains("nas.local") && text.contains("Local Network Privacy"),
            "{text}"
        );
        assert!(r
            .fix()
            .contains("Local Network: turn on /usr/local/bin/photos-backup"));
    }
}
