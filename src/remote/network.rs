//! The gate: is the backup server reachable from where the laptop is now?
//! A run every five minutes must cost nothing and alert nobody when the
//! laptop is on a train, so before any mount the run asks two cheap
//! questions: does a TCP connection to the server's SSH port open within a
//! short timeout, and (when configured) does the route to it go through the
//! right interface (`utun*`: only over the VPN, never to a stranger's host
//! that happens to have the same private address). "No" means skip the run
//! (exit 75), not fail. One "no" is not the network's: macOS refusing this
//! process the local network (`local_network`), which would otherwise skip
//! every run forever; it is `Refused`, a failure that names the fix.
//! Reading the route output and matching the interface are pure; connecting
//! and asking `route`/`ip` are thin edges.

use std::fmt;
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use super::local_network::{self, Attempt, Refused};
use crate::config::Remote;
use crate::host::Os;
use crate::process::{stderr_excerpt, CommandLine, CommandRunner};

/// The answer of the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reachability {
    /// Go: the server answered on `address` (through `interface`, when one was required).
    Reachable {
        address: SocketAddr,
        interface: Option<String>,
    },
    /// Skip this run (exit 75, off network): no alert, try again next time.
    Unreachable(Unreachable),
    /// macOS refused this process the local network (Local Network
    /// Privacy): a failure with a fix, never a skip.
    Refused(Refused),
}

impl Reachability {
    #[must_use]
    pub fn is_reachable(&self) -> bool {
        matches!(self, Reachability::Reachable { .. })
    }
}

/// Why the server is out of reach, for the log line of a skipped run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    /// The name did not resolve (no DNS, or not the home network's DNS).
    Resolve { host: String, reason: String },
    /// No address accepted a connection: refused or timed out, each named.
    Connect {
        host: String,
        port: u16,
        failures: Vec<(SocketAddr, String)>,
    },
    /// The route to every address goes elsewhere than the required interface.
    Route {
        host: String,
        pattern: String,
        routes: Vec<(IpAddr, String)>,
    },
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreachable::Resolve { host, reason } => {
                write!(f, "cannot resolve {host}: {reason}")
            }
            Unreachable::Connect {
                host,
                port,
                failures,
            } => {
                write!(f, "{host} port {port} does not answer")?;
                let list: Vec<String> = failures.iter().map(|(a, e)| format!("{a}: {e}")).collect();
                if !list.is_empty() {
                    write!(f, " ({})", list.join("; "))?;
                }
                Ok(())
            }
            Unreachable::Route {
                host,
                pattern,
                routes,
            } => {
                let list: Vec<String> = routes.iter().map(|(a, r)| format!("{a} {r}")).collect();
                write!(
                    f,
                    "the route to {host} does not go through an interface matching {pattern:?} ({})",
                    list.join("; ")
                )
            }
        }
    }
}

/// Tries a TCP connection to every address of `host:port`, each within
/// `timeout`; the first that opens makes the server reachable.
#[must_use]
pub fn probe(host: &str, port: u16, timeout: Duration) -> Reachability {
    match resolve(host, port, timeout) {
        Ok(addrs) => connect_any(host, port, &addrs, timeout, None).0,
        Err(reason) => Reachability::Unreachable(reason),
    }
}

/// The gate of a run: [`probe`], and when `remote.interface` is set, only
/// over addresses whose route goes through a matching interface (asked from
/// `route -n get` on macOS, `ip route get` on Linux).
pub fn gate(
    remote: &Remote,
    os: Os,
    tool_dirs: &[PathBuf],
    runner: &dyn CommandRunner,
) -> Reachability {
    let timeout = remote.probe_timeout;
    let addrs = match resolve(&remote.host, remote.port, timeout) {
        Ok(addrs) => addrs,
        Err(reason) => return Reachability::Unreachable(reason),
    };
    let Some(pattern) = remote.interface.as_deref() else {
        let (reach, attempts) = connect_any(&remote.host, remote.port, &addrs, timeout, None);
        return refusal(remote, os, &attempts, tool_dirs, runner).unwrap_or(reach);
    };
    let mut routes = Vec::new();
    let mut matching = Vec::new();
    for addr in &addrs {
        match route_interface(os, addr.ip(), tool_dirs, runner) {
            Ok(name) if interface_matches(pattern, &name) => matching.push((*addr, name)),
            Ok(name) => routes.push((addr.ip(), format!("via {name}"))),
            Err(reason) => routes.push((addr.ip(), reason)),
        }
    }
    let mut failures = Vec::new();
    let mut attempts = Vec::new();
    for (addr, name) in matching {
        match connect_any(&remote.host, remote.port, &[addr], timeout, Some(name)) {
            (Reachability::Unreachable(Unreachable::Connect { failures: f, .. }), a) => {
                failures.extend(f);
                attempts.extend(a);
            }
            (reachable, _) => return reachable,
        }
    }
    if let Some(refused) = refusal(remote, os, &attempts, tool_dirs, runner) {
        return refused;
    }
    Reachability::Unreachable(if failures.is_empty() {
        Unreachable::Route {
            host: remote.host.clone(),
            pattern: pattern.to_owned(),
            routes,
        }
    } else {
        Unreachable::Connect {
            host: remote.host.clone(),
            port: remote.port,
            failures,
        }
    })
}

/// Resolves `host` in a thread, so a resolver that hangs off-network costs
/// at most `timeout` (the thread is left to finish on its own).
fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, Unreachable> {
    let (tx, rx) = mpsc::channel();
    let name = host.to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(
            (name.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect),
        );
    });
    let error = |reason: String| Unreachable::Resolve {
        host: host.to_owned(),
        reason,
    };
    match rx.recv_timeout(timeout) {
        Ok(Ok(addrs)) => {
            let addrs: Vec<SocketAddr> = addrs;
            if addrs.is_empty() {
                Err(error("no address".into()))
            } else {
                Ok(addrs)
            }
        }
        Ok(Err(e)) => Err(error(e.to_string())),
        Err(_) => Err(error(format!(
            "no answer within {} ms",
            timeout.as_millis()
        ))),
    }
}

/// The first address that accepts a connection; else why each did not,
/// with the attempts as facts for [`refusal`].
fn connect_any(
    host: &str,
    port: u16,
    addrs: &[SocketAddr],
    timeout: Duration,
    interface: Option<String>,
) -> (Reachability, Vec<Attempt>) {
    let mut failures = Vec::new();
    let mut attempts = Vec::new();
    for addr in addrs {
        let started = std::time::Instant::now();
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(_) => {
                let reach = Reachability::Reachable {
                    address: *addr,
                    interface,
                };
                return (reach, attempts);
            }
            Err(e) => {
                attempts.push(Attempt {
                    address: *addr,
                    kind: e.kind(),
                    elapsed: started.elapsed(),
                });
                failures.push((*addr, connect_error(&e, timeout)));
            }
        }
    }
    let reach = Reachability::Unreachable(Unreachable::Connect {
        host: host.to_owned(),
        port,
        failures,
    });
    (reach, attempts)
}

/// `Refused` when one of the failed `attempts` was macOS's Local Network
/// Privacy rather than the network (the route of that address asked from
/// `route -n get` only then, so an ordinary skip costs nothing more).
fn refusal(
    remote: &Remote,
    os: Os,
    attempts: &[Attempt],
    tool_dirs: &[PathBuf],
    runner: &dyn CommandRunner,
) -> Option<Reachability> {
    attempts.iter().find_map(|attempt| {
        if !local_network::is_refusal(os, attempt, Some(true)) {
            return None;
        }
        let direct = route_output(os, attempt.address.ip(), tool_dirs, runner)
            .ok()
            .and_then(|out| local_network::route_is_direct(&out));
        local_network::is_refusal(os, attempt, direct).then(|| {
            Reachability::Refused(Refused {
                host: remote.host.clone(),
                address: attempt.address,
                binary: std::env::current_exe()
                    .map_or_else(|_| "photos-backup".into(), |p| p.display().to_string()),
            })
        })
    })
}

/// A connect error in words: "refused", "timed out after 3000 ms", or the OS text.
fn connect_error(e: &std::io::Error, timeout: Duration) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
            format!("timed out after {} ms", timeout.as_millis())
        }
        _ => e.to_string(),
    }
}

/// Asks the system which interface the route to `ip` uses.
fn route_interface(
    os: Os,
    ip: IpAddr,
    tool_dirs: &[PathBuf],
    runner: &dyn CommandRunner,
) -> Result<String, String> {
    let out = route_output(os, ip, tool_dirs, runner)?;
    parse_route_interface(os, &out).ok_or_else(|| format!("the route to {ip} names no interface"))
}

/// What `route -n get` (macOS) or `ip route get` (Linux) says about `ip`.
fn route_output(
    os: Os,
    ip: IpAddr,
    tool_dirs: &[PathBuf],
    runner: &dyn CommandRunner,
) -> Result<String, String> {
    let tool = match os {
        Os::MacOs => "route",
        Os::Linux => "ip",
    };
    let program = crate::tools::find(tool, None, tool_dirs).map_err(|e| e.to_string())?;
    let cmd = route_command(os, &program, ip);
    let out = runner
        .run(&cmd, Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("no route ({})", stderr_excerpt(&out)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `route -n get [-inet6] ADDR` (macOS) or `ip route get ADDR` (Linux).
#[must_use]
fn route_command(os: Os, program: &std::path::Path, ip: IpAddr) -> CommandLine {
    let addr = ip.to_string();
    match os {
        Os::MacOs if ip.is_ipv6() => CommandLine::new(program, ["-n", "get", "-inet6", &addr]),
        Os::MacOs => CommandLine::new(program, ["-n", "get", &addr]),
        Os::Linux => CommandLine::new(program, ["route", "get", &addr]),
    }
}

/// The interface in `route -n get` output (`interface: utun3`) or in
/// `ip route get` output (`... dev wg0 src ...`).
#[must_use]
pub fn parse_route_interface(os: Os, output: &str) -> Option<String> {
    match os {
        Os::MacOs => output.lines().find_map(|line| {
            let value = line.trim().strip_prefix("interface:")?.trim();
            (!value.is_empty()).then(|| value.to_owned())
        }),
        Os::Linux => {
            let mut words = output.split_whitespace();
            while let Some(word) = words.next() {
                if word == "dev" {
                    return words.next().map(str::to_owned);
                }
            }
            None
        }
    }
}

/// Whether interface `name` matches `pattern`: `*` any run of characters,
/// `?` one character, everything else literally (`utun*`, `wg0`, `en?`).
#[must_use]
fn interface_matches(pattern: &str, name: &str) -> bool {
    fn matches(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| matches(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && matches(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && matches(rest, &n[1..]),
        }
    }
    let p: Vec<char> = pattern.trim().chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, TcpListener};
    use std::time::Instant;

    /// `route -n get 10.8.0.1` on macOS 14 connected to a `WireGuard` VPN.
    const MACOS_VPN: &str = "   route to: 10.8.0.1
destination: 10.8.0.0
       mask: 255.255.255.0
  interface: utun3
      flags: <UP,DONE,CLONING,STATIC>
 recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire
       0         0         0         0         0         0      1420         0
";

    /// The same on a café Wi-Fi: the default route.
    const MACOS_WIFI: &str = "   route to: 192.168.1.10
destination: default
       mask: default
    gateway: 172.20.10.1
  interface: en0
      flags: <UP,GATEWAY,DONE,STATIC,PRCLONING,GLOBAL>
 recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire
       0         0         0         0         0         0      1500         0
";

    #[test]
    fn macos_route_output() {
        assert_eq!(
            parse_route_interface(Os::MacOs, MACOS_VPN).as_deref(),
            Some("utun3")
        );
        assert_eq!(
            parse_route_interface(Os::MacOs, MACOS_WIFI).as_deref(),
            Some("en0")
        );
        assert_eq!(
            parse_route_interface(
                Os::MacOs,
                "route: writing to routing socket: not in table\n"
            ),
            None
        );
    }

    #[test]
    fn linux_route_output() {
        let lo = "local 127.0.0.1 dev lo table local src 127.0.0.1 uid 0 \n    cache <local> \n";
        assert_eq!(parse_route_interface(Os::Linux, lo).as_deref(), Some("lo"));
        let wg = "10.8.0.1 dev wg0 src 10.8.0.2 uid 1000 \n    cache \n";
        assert_eq!(parse_route_interface(Os::Linux, wg).as_deref(), Some("wg0"));
        let via = "192.168.1.10 via 172.20.10.1 dev wlp2s0 src 172.20.10.4 uid 1000 \n    cache \n";
        assert_eq!(
            parse_route_interface(Os::Linux, via).as_deref(),
            Some("wlp2s0")
        );
        assert_eq!(
            parse_route_interface(Os::Linux, "RTNETLINK answers: Network is unreachable"),
            None
        );
    }

    #[test]
    fn route_commands() {
        let v4 = IpAddr::V4(Ipv4Addr::new(10, 8, 0, 1));
        let v6: IpAddr = "fd00::1".parse().unwrap();
        let route = std::path::Path::new("/sbin/route");
        assert_eq!(
            route_command(Os::MacOs, route, v4).args,
            ["-n", "get", "10.8.0.1"]
        );
        assert_eq!(
            route_command(Os::MacOs, route, v6).args,
            ["-n", "get", "-inet6", "fd00::1"]
        );
        let ip = std::path::Path::new("/usr/sbin/ip");
        assert_eq!(
            route_command(Os::Linux, ip, v4).args,
            ["route", "get", "10.8.0.1"]
        );
    }

    #[test]
    fn interface_patterns() {
        assert!(interface_matches("utun*", "utun3"));
        assert!(interface_matches("utun*", "utun"));
        assert!(!interface_matches("utun*", "en0"));
        assert!(!interface_matches("utun*", "xutun3"));
        assert!(interface_matches("wg0", "wg0"));
        assert!(!interface_matches("wg0", "wg01"));
        assert!(interface_matches("en?", "en1"));
        assert!(!interface_matches("en?", "en10"));
        assert!(interface_matches("*", "anything"));
        assert!(interface_matches(" utun* ", "utun2"));
    }

    #[test]
    fn an_open_port_is_reachable_a_closed_one_is_not() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let reach = probe("127.0.0.1", port, Duration::from_secs(2));
        assert!(reach.is_reachable(), "{reach:?}");
        drop(listener);

        let started = Instant::now();
        let reach = probe("127.0.0.1", port, Duration::from_secs(2));
        let Reachability::Unreachable(why) = reach else {
            panic!("a closed port is reachable");
        };
        let text = why.to_string();
        assert!(text.contains("connection refused"), "{text}");
        assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn an_unresolvable_name_is_unreachable_with_the_name() {
        let reach = probe("no-such-host.invalid", 22, Duration::from_secs(3));
        let Reachability::Unreachable(why) = reach else {
            panic!("resolved .invalid");
        };
        assert!(why.to_string().contains("no-such-host.invalid"), "{why}");
    }

    /// Answers every command with `stdout`, and records what it was asked.
    struct Canned {
        stdout: &'static str,
        asked: std::cell::RefCell<Vec<String>>,
    }

    impl CommandRunner for Canned {
        fn run(
            &self,
            cmd: &CommandLine,
            _timeout: Duration,
        ) -> Result<std::process::Output, crate::process::ProcessError> {
            use std::os::unix::process::ExitStatusExt;
            self.asked.borrow_mut().push(cmd.to_string());
            Ok(std::process::Output {
                status: std::process::ExitStatus::from_raw(0),
                stdout: self.stdout.as_bytes().to_vec(),
                stderr: Vec::new(),
            })
        }
    }

    #[test]
    fn the_gate_on_macos_goes_only_through_the_vpn() {
        let bin = tempfile::tempdir().unwrap();
        std::fs::write(bin.path().join("route"), "").unwrap();
        let dirs = vec![bin.path().to_owned()];
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let remote = Remote {
            port: listener.local_addr().unwrap().port(),
            interface: Some("utun*".into()),
            ..remote_for_tests()
        };
        let vpn = Canned {
            stdout: MACOS_VPN,
            asked: std::cell::RefCell::default(),
        };
        let reach = gate(&remote, Os::MacOs, &dirs, &vpn);
        assert_eq!(
            reach,
            Reachability::Reachable {
                address: listener.local_addr().unwrap(),
                interface: Some("utun3".into())
            }
        );
        assert_eq!(
            *vpn.asked.borrow(),
            [format!("{}/route -n get 127.0.0.1", bin.path().display())]
        );
        let wifi = Canned {
            stdout: MACOS_WIFI,
            asked: std::cell::RefCell::default(),
        };
        let reach = gate(&remote, Os::MacOs, &dirs, &wifi);
        let Reachability::Unreachable(why) = reach else {
            panic!("went through en0: {reach:?}");
        };
        assert!(why.to_string().contains("127.0.0.1 via en0"), "{why}");
    }

    #[test]
    fn an_instant_no_route_on_a_direct_route_is_refused_not_skipped() {
        let bin = tempfile::tempdir().unwrap();
        std::fs::write(bin.path().join("route"), "").unwrap();
        let dirs = vec![bin.path().to_owned()];
        let remote = Remote {
            host: "nas.local".into(),
            ..remote_for_tests()
        };
        let attempt = Attempt {
            address: "192.168.1.10:22".parse().unwrap(),
            kind: std::io::ErrorKind::HostUnreachable,
            elapsed: Duration::from_micros(150),
        };
        let direct = Canned {
            stdout: "   route to: 192.168.1.10\ndestination: 192.168.1.10\n  interface: en0\n      flags: <UP,HOST,DONE,LLINFO,WASCLONED,IFSCOPE,IFREF>\n",
            asked: std::cell::RefCell::default(),
        };
        let Some(Reachability::Refused(r)) =
            refusal(&remote, Os::MacOs, &[attempt], &dirs, &direct)
        else {
            panic!("not refused");
        };
        assert_eq!((r.host.as_str(), r.address), ("nas.local", attempt.address));
        assert_eq!(
            *direct.asked.borrow(),
            [format!(
                "{}/route -n get 192.168.1.10",
                bin.path().display()
            )]
        );
        // Through a router: really no route, an ordinary skip.
        let routed = Canned {
            stdout: MACOS_WIFI,
            asked: std::cell::RefCell::default(),
        };
        assert_eq!(
            refusal(&remote, Os::MacOs, &[attempt], &dirs, &routed),
            None
        );
        // A refused or slow connection never asks `route`.
        let quiet = Canned {
            stdout: "",
            asked: std::cell::RefCell::default(),
        };
        let refused = Attempt {
            kind: std::io::ErrorKind::ConnectionRefused,
            ..attempt
        };
        assert_eq!(refusal(&remote, Os::MacOs, &[refused], &dirs, &quiet), None);
        assert_eq!(refusal(&remote, Os::Linux, &[attempt], &dirs, &quiet), None);
        assert!(quiet.asked.borrow().is_empty());
    }

    fn remote_for_tests() -> Remote {
        Remote {
            host: "127.0.0.1".into(),
            port: 22,
            user: "anna".into(),
            dir: "/photos".into(),
            identity_file: None,
            known_hosts: None,
            cipher_mount: "/m/c".into(),
            plain_mount: "/m/p".into(),
            password: "keychain:pb".into(),
            keep_mounted: false,
            probe_timeout: Duration::from_secs(2),
            interface: None,
            sshfs: None,
            gocryptfs: None,
        }
    }

    #[test]
    fn reasons_read_well() {
        let route = Unreachable::Route {
            host: "nas".into(),
            pattern: "utun*".into(),
            routes: vec![("192.168.1.10".parse().unwrap(), "via en0".into())],
        };
        assert_eq!(
            route.to_string(),
            "the route to nas does not go through an interface matching \"utun*\" (192.168.1.10 via en0)"
        );
    }
}
