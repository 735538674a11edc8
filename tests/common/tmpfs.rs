//! A tmpfs mounted for a test (the tests run as root), to fill a disk on
//! purpose and then grow it; unmounted when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Tmpfs(pub PathBuf);

impl Tmpfs {
    pub fn mount(at: &Path, size: &str) -> Self {
        std::fs::create_dir_all(at).unwrap();
        let ok = Command::new("mount")
            // Owner-only, as every folder of ours must be (a run refuses
            // a staging folder others can write to, and tmpfs is 1777).
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(at)
            .status()
            .unwrap()
            .success();
        assert!(
            ok,
            "cannot mount a tmpfs on {} (the tests run as root)",
            at.display()
        );
        Self(at.to_owned())
    }

    /// Grows or shrinks it (never below what it holds).
    pub fn resize(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .status()
            .unwrap()
            .success();
        assert!(ok, "cannot resize the tmpfs on {}", self.0.display());
    }

    /// Bytes in use.
    pub fn used(&self) -> u64 {
        let out = Command::new("stat")
            .args(["-f", "-c", "%b %f %S"])
            .arg(&self.0)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let n: Vec<u64> = text
            .split_whitespace()
            .map(|w| w.parse().unwrap())
            .collect();
        (n[0] - n[1]) * n[2]
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}
