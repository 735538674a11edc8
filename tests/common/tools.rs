//! Programs for the tests: fake ones, written as shell scripts into a folder
//! the test puts first on `PATH`, and the real ones some tests need. A real
//! tool that is missing fails the test, never skips it: `scripts/test.sh`
//! installs every one, so a missing tool is a broken machine, not an option.

use std::path::{Path, PathBuf};

/// Writes the executable shell script `bin/NAME` (making `bin`), whose body
/// (after `#!/bin/sh`) is `body`; returns its path.
pub fn fake_tool(bin: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(bin).unwrap();
    let path = bin.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// `PATH` with `bin` first, so its fake tools win over the real ones.
pub fn path_with(bin: &Path) -> String {
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(bin.to_owned()).chain(std::env::split_paths(&rest)))
        .unwrap()
        .into_string()
        .expect("PATH and the test folders are UTF-8")
}

/// `program` on `PATH`, if it is there.
pub fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}

/// The real `program` on `PATH`; fails the test, naming the Debian
/// `package` that `scripts/test.sh` installs, when it is missing.
pub fn real_tool(program: &str, package: &str) -> PathBuf {
    on_path(program).unwrap_or_else(|| {
        panic!("{program} is missing: scripts/test.sh installs it (apt-get install {package})")
    })
}

/// Whether process `pid` is gone or a zombie (ended, not yet reaped).
#[must_use]
pub fn ended(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

/// Asserts that process `pid` ends within seconds (a SIGKILL lands a
/// moment after it is sent on a loaded machine); `what` names it.
pub fn assert_ended(pid: u32, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !ended(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(ended(pid), "{what} {pid} still runs");
}
