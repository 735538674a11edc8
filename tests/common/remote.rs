//! A real backup server on loopback for the end-to-end tests of the remote
//! volume: a private `sshd` on a free port of 127.0.0.1 with throwaway host
//! and client keys, and a gocryptfs cipher folder initialised with a known
//! password. Each test gets its own server and temp dir (tests run in
//! parallel threads), and dropping the server, even while a test panics,
//! unmounts everything left under its temp dir and ends every process it
//! started, so no FUSE mount or daemon outlives a test.

use std::io::Write;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use photos_backup::config::Remote;
use photos_backup::host::Os;
use photos_backup::remote::mount_table as mounts;
use photos_backup::secrets::Secret;

/// The tools the tests need, with the reason a missing one fails loudly.
const TOOLS: [&str; 5] = [
    "/usr/sbin/sshd",
    "ssh-keygen",
    "sshfs",
    "gocryptfs",
    "fusermount3",
];

/// Fails (not skips) when a tool is missing: `scripts/test.sh` installs them.
pub fn require_tools() {
    for tool in TOOLS {
        let found = if tool.starts_with('/') {
            Path::new(tool).is_file()
        } else {
            super::tools::on_path(tool).is_some()
        };
        assert!(
            found,
            "{tool} not found: the remote-volume tests need openssh-server, sshfs, \
             gocryptfs and fuse3; scripts/test.sh installs them"
        );
    }
    assert!(
        Path::new("/dev/fuse").exists(),
        "/dev/fuse missing: the remote-volume tests need FUSE (fuse3; in a container, --device /dev/fuse)"
    );
}

/// Mounts fusectl on `/sys/fs/fuse/connections` when it is not (systemd
/// does at boot; a container may not), so the run can abort a dead FUSE
/// connection as it would on a Linux machine. Fails when it cannot.
pub fn require_fusectl() {
    let dir = Path::new(photos_backup::remote::mount::FUSE_CONNECTIONS);
    let mounted = || {
        std::fs::read_to_string("/proc/self/mounts")
            .is_ok_and(|t| t.lines().any(|l| l.split(' ').nth(2) == Some("fusectl")))
    };
    if !mounted() {
        let _ = Command::new("mount")
            .args(["-t", "fusectl", "fusectl"])
            .arg(dir)
            .stderr(Stdio::null())
            .status();
    }
    assert!(
        mounted(),
        "fusectl is not mounted on {} and cannot be (mount -t fusectl fusectl {0})",
        dir.display()
    );
}

/// A private sshd serving a gocryptfs cipher folder, both in a temp dir.
pub struct TestServer {
    tmp: tempfile::TempDir,
    port: u16,
    sshd: Option<Child>,
    password: String,
}

impl TestServer {
    /// Keys, config, a running sshd and an initialised cipher folder.
    pub fn start() -> Self {
        require_tools();
        let tmp = tempfile::Builder::new()
            .prefix("pb-remote-")
            .tempdir()
            .expect("temp dir");
        let root = tmp.path();
        for dir in ["server/cipher", "client", "mnt"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        keygen(&root.join("server/host_key"));
        keygen(&root.join("client/id_ed25519"));
        std::fs::copy(
            root.join("client/id_ed25519.pub"),
            root.join("server/authorized_keys"),
        )
        .unwrap();
        // sshd refuses to start without its privilege separation folder.
        std::fs::create_dir_all("/run/sshd").unwrap();

        let password = format!("pb-test-pw-{}-{:x}", std::process::id(), nanos());
        let mut server = Self {
            tmp,
            port: 0,
            sshd: None,
            password,
        };
        server.start_sshd();
        server.write_known_hosts(&server.root().join("server/host_key.pub"));
        server.init_cipher_dir(&server.cipher_dir());
        server
    }

    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The pid of the running sshd, if any.
    pub fn sshd_pid(&self) -> Option<u32> {
        self.sshd.as_ref().map(Child::id)
    }

    /// The gocryptfs cipher folder as the server sees it (same machine).
    pub fn cipher_dir(&self) -> PathBuf {
        self.root().join("server/cipher")
    }

    pub fn password(&self) -> Secret {
        Secret::new(self.password.clone())
    }

    pub fn password_text(&self) -> &str {
        &self.password
    }

    /// A `[remote]` pointing at this server: root@127.0.0.1, its port and
    /// keys, mount points in the temp dir.
    pub fn remote(&self) -> Remote {
        let root = self.root();
        Remote {
            host: "127.0.0.1".into(),
            port: self.port,
            user: "root".into(),
            dir: self.cipher_dir().display().to_string(),
            identity_file: Some(root.join("client/id_ed25519")),
            known_hosts: Some(root.join("client/known_hosts")),
            cipher_mount: root.join("mnt/cipher"),
            plain_mount: root.join("mnt/plain"),
            password: "env:PHOTOS_BACKUP_TEST_UNUSED".into(),
            keep_mounted: false,
            probe_timeout: Duration::from_secs(2),
            interface: None,
            sshfs: None,
            gocryptfs: None,
        }
    }

    /// The `[remote]` table for this server; its password goes in a 0600
    /// file in `dir`.
    pub fn config_toml(&self, dir: &Path) -> String {
        use std::os::unix::fs::PermissionsExt;
        let pass = dir.join("gocryptfs.pass");
        std::fs::write(&pass, self.password_text()).unwrap();
        std::fs::set_permissions(&pass, std::fs::Permissions::from_mode(0o600)).unwrap();
        let r = self.remote();
        let q = |p: &Path| toml::Value::String(p.display().to_string()).to_string();
        format!(
            "\n[remote]\nhost = \"127.0.0.1\"\nport = {}\nuser = \"root\"\ndir = {}\n\
             identity_file = {}\nknown_hosts = {}\ncipher_mount = {}\nplain_mount = {}\n\
             password = {}\nprobe_timeout_seconds = 2\n",
            r.port,
            q(Path::new(&r.dir)),
            q(r.identity_file.as_deref().unwrap()),
            q(r.known_hosts.as_deref().unwrap()),
            q(&r.cipher_mount),
            q(&r.plain_mount),
            toml::Value::String(format!("file:{}", pass.display())),
        )
    }

    /// Replaces the known host key by another one: the server now looks
    /// like an impostor.
    pub fn forge_known_hosts(&self) {
        let other = self.root().join("client/other_host_key");
        keygen(&other);
        self.write_known_hosts(&other.with_extension("pub"));
    }

    /// A fresh client key the server does not know.
    pub fn foreign_identity(&self) -> PathBuf {
        let key = self.root().join("client/stranger");
        keygen(&key);
        key
    }

    /// Initialises `dir` as a gocryptfs cipher folder with the server's
    /// password (on stdin; a low scrypt cost keeps tests fast).
    pub fn init_cipher_dir(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        let mut child = Command::new("gocryptfs")
            .args(["-init", "-q", "-scryptn", "10", "--"])
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start gocryptfs -init");
        writeln!(child.stdin.take().unwrap(), "{}", self.password).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "gocryptfs -init {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops sshd (and its sessions): the server is now off the network.
    pub fn stop(&mut self) {
        if let Some(mut sshd) = self.sshd.take() {
            for pid in children_of(sshd.id()) {
                kill(pid, "KILL");
            }
            let _ = sshd.kill();
            let _ = sshd.wait();
        }
    }

    /// Starts sshd again after `stop` (on a new port: see `port`).
    pub fn restart(&mut self) {
        self.stop();
        self.start_sshd();
        self.write_known_hosts(&self.root().join("server/host_key.pub"));
    }

    /// Starts sshd again after `stop` on the same port, so that clients
    /// (and a borg repository that refuses to be relocated) see the same
    /// server; falls back to `restart` when another process took the port.
    pub fn restart_same_port(&mut self) {
        self.stop();
        let port = self.port;
        if !self.try_start_sshd(port) {
            self.start_sshd();
            self.write_known_hosts(&self.root().join("server/host_key.pub"));
        }
    }

    /// Every mount under the temp dir (the test's own mounts), most recent first.
    pub fn mounts(&self) -> Vec<mounts::MountEntry> {
        // No panic here: this also runs in `drop` while a test panics.
        let Ok(table) = mounts::read(Os::Linux, &photos_backup::process::System) else {
            return Vec::new();
        };
        let root = std::fs::canonicalize(self.root()).unwrap_or_else(|_| self.root().to_owned());
        table.under(&root).into_iter().cloned().collect()
    }

    fn start_sshd(&mut self) {
        // Another test may take the free port between our look and sshd's
        // bind: try a few.
        for _ in 0..5 {
            if self.try_start_sshd(free_port()) {
                return;
            }
        }
        panic!(
            "sshd did not start: {}",
            std::fs::read_to_string(self.root().join("server/sshd.log")).unwrap_or_default()
        );
    }

    /// Starts sshd on `port`; false when it could not listen there.
    fn try_start_sshd(&mut self, port: u16) -> bool {
        let root = self.root().to_owned();
        let config = root.join("server/sshd_config");
        let log = root.join("server/sshd.log");
        std::fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\n\
                 Port {port}\n\
                 HostKey {root}/server/host_key\n\
                 AuthorizedKeysFile {root}/server/authorized_keys\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\n\
                 StrictModes no\n\
                 UsePAM no\n\
                 PrintMotd no\n\
                 PidFile {root}/server/sshd.pid\n\
                 Subsystem sftp internal-sftp\n",
                root = root.display()
            ),
        )
        .unwrap();
        let mut child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start /usr/sbin/sshd");
        if wait_for_port(port, &mut child) {
            self.port = port;
            self.sshd = Some(child);
            return true;
        }
        let _ = child.kill();
        let _ = child.wait();
        false
    }

    fn write_known_hosts(&self, host_pub: &Path) {
        let key = std::fs::read_to_string(host_pub).unwrap();
        let key: Vec<&str> = key.split_whitespace().take(2).collect();
        std::fs::write(
            self.root().join("client/known_hosts"),
            format!("[127.0.0.1]:{} {}\n", self.port, key.join(" ")),
        )
        .unwrap();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Mounts first (most recent first), lazily so that even a hung one goes.
        for entry in self.mounts() {
            let _ = Command::new("fusermount3")
                .arg("-uz")
                .arg(&entry.mount_point)
                .stderr(Stdio::null())
                .status();
        }
        // The daemons that served them, should any be stopped or stuck.
        let root = self.root().display().to_string();
        for (pid, cmdline) in processes() {
            let ours = cmdline.iter().any(|a| a.contains(&root));
            let daemon = cmdline
                .first()
                .is_some_and(|p| p.ends_with("sshfs") || p.ends_with("gocryptfs"));
            if ours && daemon {
                kill(pid, "KILL");
            }
        }
        self.stop();
    }
}

fn keygen(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args([
            "-q",
            "-N",
            "",
            "-t",
            "ed25519",
            "-C",
            "photos-backup-test",
            "-f",
        ])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .expect("run ssh-keygen");
    assert!(
        out.status.success(),
        "ssh-keygen {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until `port` accepts connections; false when sshd exits first.
fn wait_for_port(port: u16, child: &mut Child) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_ok() {
            return true;
        }
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// Every process: its pid and argv, from `/proc/*/cmdline`.
pub fn processes() -> Vec<(u32, Vec<String>)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        if let Ok(bytes) = std::fs::read(entry.path().join("cmdline")) {
            let args = bytes
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            found.push((pid, args));
        }
    }
    found
}

/// The pids whose parent is `parent` (from `/proc/PID/stat`).
pub fn children_of(parent: u32) -> Vec<u32> {
    processes()
        .into_iter()
        .filter_map(|(pid, _)| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
            let ppid: u32 = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            (ppid == parent).then_some(pid)
        })
        .collect()
}

/// Sends `signal` (`KILL`, `STOP`, `CONT`) to `pid`.
pub fn kill(pid: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// The pid of the daemon (`sshfs`, `gocryptfs`) serving `mount_point`.
pub fn daemon_of(program: &str, mount_point: &Path) -> Option<u32> {
    let point = mount_point.display().to_string();
    processes().into_iter().find_map(|(pid, args)| {
        let is_program = args
            .first()
            .is_some_and(|p| Path::new(p).file_name().is_some_and(|n| n == program));
        (is_program && args.contains(&point)).then_some(pid)
    })
}
