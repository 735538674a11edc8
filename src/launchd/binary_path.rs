//! Where the agent's binary lives, as far as macOS privacy grants care.
//! Full Disk Access (and Automation, Local Network) is granted to a binary
//! by path and by code identity; an ad-hoc signed Rust build's identity is
//! its hash (`cdhash`), new with every build, so the grant silently stops
//! applying while System Settings still shows it on (go-gui-org/go-gui#303,
//! bobmatnyc/trusty-tools#1677). A binary at a path that itself changes
//! with upgrades (Cargo's `target/`, a Homebrew `Cellar/NAME/VERSION/`
//! folder) loses it on top of that. `install` warns about both; the stable
//! answer is a fixed path and a self-signed identity
//! (`scripts/macos-sign.sh`), whose designated requirement names the
//! certificate instead of the hash (trycua/cua#1792, clintcan/macrdp#141).

use std::path::{Component, Path};

/// Why a binary's path will not survive an upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unstable {
    /// Inside a Cargo `target/` folder: every build replaces it.
    CargoTarget,
    /// Inside Homebrew's `Cellar/NAME/VERSION/`: the next version is elsewhere.
    HomebrewCellar { version: String },
}

impl Unstable {
    /// One line for `install`: what is wrong and the stable place.
    #[must_use]
    pub(crate) fn advice(&self, binary: &Path) -> String {
        match self {
            Unstable::CargoTarget => format!(
                "{} is a Cargo build output: every build replaces it and macOS forgets its Full \
                 Disk Access; copy it to a fixed place (sudo install -m 755 {} \
                 /usr/local/bin/photos-backup) and install from there",
                binary.display(),
                binary.display()
            ),
            Unstable::HomebrewCellar { version } => format!(
                "{} is in Homebrew's folder for version {version}, which the next upgrade \
                 replaces; install from the stable link instead: $(brew --prefix)/bin/photos-backup \
                 install",
                binary.display()
            ),
        }
    }
}

/// Whether `binary` lives where upgrades move or replace it.
#[must_use]
pub(crate) fn unstable(binary: &Path) -> Option<Unstable> {
    let parts: Vec<&str> = binary
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => s.to_str(),
            _ => None,
        })
        .collect();
    let dir_parts = &parts[..parts.len().saturating_sub(1)];
    if let Some(i) = dir_parts.iter().position(|p| *p == "Cellar") {
        if let Some(version) = dir_parts.get(i + 2) {
            return Some(Unstable::HomebrewCellar {
                version: (*version).to_owned(),
            });
        }
    }
    let in_target = dir_parts
        .windows(2)
        .any(|w| w[0] == "target" && (matches!(w[1], "debug" | "release") || w[1].contains('-')));
    in_target.then_some(Unstable::CargoTarget)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_outputs_and_cellar_versions_are_unstable() {
        assert_eq!(
            unstable(Path::new(
                "/Users/ann/src/photos-backup/target/release/photos-backup"
            )),
            Some(Unstable::CargoTarget)
        );
        assert_eq!(
            unstable(Path::new(
                "/Users/ann/pb/target/aarch64-apple-darwin/release/photos-backup"
            )),
            Some(Unstable::CargoTarget)
        );
        assert_eq!(
            unstable(Path::new(
                "/opt/homebrew/Cellar/photos-backup/0.3.1/bin/photos-backup"
            )),
            Some(Unstable::HomebrewCellar {
                version: "0.3.1".into()
            })
        );
        for stable in [
            "/usr/local/bin/photos-backup",
            "/opt/homebrew/bin/photos-backup",
            "/Users/ann/.cargo/bin/photos-backup",
            "/Users/ann/target/photos-backup",
        ] {
            assert_eq!(unstable(Path::new(stable)), None, "{stable}");
        }
    }

    #[test]
    fn advice_names_the_binary_and_a_stable_place() {
        let b = Path::new("/Users/ann/pb/target/release/photos-backup");
        let text = Unstable::CargoTarget.advice(b);
        assert!(text.contains(&b.display().to_string()) && text.contains("/usr/local/bin"));
        let cellar = Unstable::HomebrewCellar {
            version: "0.3.1".into(),
        }
        .advice(Path::new(
            "/opt/homebrew/Cellar/photos-backup/0.3.1/bin/photos-backup",
        ));
        assert!(cellar.contains("version 0.3.1") && cellar.contains("brew --prefix"));
    }
}
