//! Whether the Mac runs on its battery, for `[run].only_on_ac_power`: the
//! heavy steps (the monthly archive, downloads from iCloud) then wait for a
//! charger. macOS says it in `pmset -g batt` ("Now drawing from 'AC Power'");
//! Linux in `/sys/class/power_supply`. When nothing can tell, the machine
//! counts as plugged in (a desktop), so the backup never waits forever.

use std::path::Path;
use std::time::Duration;

use crate::process::{CommandLine, CommandRunner};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Power {
    Ac,
    Battery,
}

/// From `pmset -g batt` output; `None` when it says neither.
#[must_use]
pub fn parse_pmset(text: &str) -> Option<Power> {
    let first = text.lines().next()?;
    if first.contains("'AC Power'") {
        Some(Power::Ac)
    } else if first.contains("'Battery Power'") {
        Some(Power::Battery)
    } else {
        None
    }
}

/// From the power supplies of `/sys/class/power_supply` as (type, online):
/// on battery when there is a battery and no mains supply online.
#[must_use]
fn from_supplies(supplies: &[(String, bool)]) -> Power {
    let battery = supplies.iter().any(|(kind, _)| kind == "Battery");
    let mains_online = supplies
        .iter()
        .any(|(kind, online)| kind != "Battery" && *online);
    if battery && !mains_online {
        Power::Battery
    } else {
        Power::Ac
    }
}

/// This machine's power source: `pmset` when there is one (macOS), else the
/// Linux power supplies.
pub(crate) fn current(pmset: Option<&Path>, runner: &dyn CommandRunner) -> Power {
    if let Some(program) = pmset {
        let cmd = CommandLine::new(program, ["-g", "batt"]);
        if let Ok(out) = runner.run(&cmd, Duration::from_secs(10)) {
            if let Some(p) = parse_pmset(&String::from_utf8_lossy(&out.stdout)) {
                return p;
            }
        }
        return Power::Ac;
    }
    let mut supplies = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/sys/class/power_supply") {
        for e in entries.flatten() {
            let read =
                |name: &str| std::fs::read_to_string(e.path().join(name)).unwrap_or_default();
            supplies.push((read("type").trim().to_owned(), read("online").trim() == "1"));
        }
    }
    from_supplies(&supplies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pmset_says_which() {
        let ac = "Now drawing from 'AC Power'\n -InternalBattery-0 (id=1)\t100%; charged;\n";
        let batt =
            "Now drawing from 'Battery Power'\n -InternalBattery-0 (id=1)\t80%; discharging;\n";
        assert_eq!(parse_pmset(ac), Some(Power::Ac));
        assert_eq!(parse_pmset(batt), Some(Power::Battery));
        assert_eq!(parse_pmset("garbage"), None);
    }

    #[test]
    fn supplies_decide_like_a_laptop_and_a_desktop() {
        let s = |list: &[(&str, bool)]| -> Vec<(String, bool)> {
            list.iter().map(|(k, o)| ((*k).to_owned(), *o)).collect()
        };
        assert_eq!(
            from_supplies(&s(&[("Battery", false), ("Mains", false)])),
            Power::Battery
        );
        assert_eq!(
            from_supplies(&s(&[("Battery", false), ("Mains", true)])),
            Power::Ac
        );
        assert_eq!(from_supplies(&s(&[])), Power::Ac);
    }
}
