//! The one-off launch agent that runs `doctor` as the agent meets the Mac.
//! From Terminal the doctor cannot see what launchd's agent will: Local
//! Network Privacy (Terminal is exempt, an agent is not), Keychain items
//! that do not trust the agent, Full Disk Access and Automation granted to
//! Terminal rather than to the binary. So `doctor --as-agent` (and
//! `install`, at its end) loads this agent, with the same binary and `PATH`
//! as the real one, which runs the checks once and writes its report to a
//! file; the caller waits for the file, unloads the agent and prints it.
//! The plist is a pure function here; `commands::doctor::as_agent` runs it.

use std::path::Path;

/// The probe's label: the agent's, with `.doctor` appended.
#[must_use]
pub(crate) fn label(agent_label: &str) -> String {
    format!("{agent_label}.doctor")
}

/// Everything the probe's plist says. Paths are absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Probe {
    /// The real agent's label (the doctor checks that agent).
    pub(crate) agent_label: String,
    pub(crate) program: String,
    pub(crate) config: String,
    /// Where the doctor writes its report.
    pub(crate) report: String,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) path_env: String,
}

/// The probe's plist: run once at load, never again.
#[must_use]
fn dictionary(p: &Probe) -> plist::Dictionary {
    let string = |s: &str| plist::Value::String(s.to_owned());
    let mut env = plist::Dictionary::new();
    env.insert("PATH".into(), string(&p.path_env));
    let mut d = plist::Dictionary::new();
    d.insert("Label".into(), string(&label(&p.agent_label)));
    d.insert(
        "ProgramArguments".into(),
        plist::Value::Array(
            [
                p.program.as_str(),
                "--config",
                p.config.as_str(),
                "doctor",
                "--label",
                p.agent_label.as_str(),
                "--agent-report",
                p.report.as_str(),
            ]
            .map(string)
            .to_vec(),
        ),
    );
    d.insert("RunAtLoad".into(), plist::Value::Boolean(true));
    d.insert("LaunchOnlyOnce".into(), plist::Value::Boolean(true));
    d.insert("ProcessType".into(), string("Background"));
    d.insert("EnvironmentVariables".into(), plist::Value::Dictionary(env));
    d.insert("StandardOutPath".into(), string(&p.stdout));
    d.insert("StandardErrorPath".into(), string(&p.stderr));
    d
}

/// The plist as XML.
pub(crate) fn to_xml(p: &Probe) -> Result<Vec<u8>, plist::Error> {
    super::to_xml(dictionary(p))
}

/// The report file's first line: `exit: 0` (nothing FAILED) or `exit: 1`.
#[must_use]
pub(crate) fn report_text(passed: bool, body: &str) -> String {
    format!("exit: {}\n{body}", u8::from(!passed))
}

/// Reads a report written by [`report_text`]: whether nothing FAILED, and
/// the doctor's lines. `None` for anything else.
#[must_use]
pub(crate) fn parse_report(text: &str) -> Option<(bool, &str)> {
    let (first, body) = text.split_once('\n')?;
    match first.strip_prefix("exit: ")? {
        "0" => Some((true, body)),
        "1" => Some((false, body)),
        _ => None,
    }
}

/// The report's place: the agent's log folder (the user can read it again).
#[must_use]
pub(crate) fn report_path(log_dir: &Path) -> std::path::PathBuf {
    log_dir.join("doctor-as-agent.txt")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe() -> Probe {
        Probe {
            agent_label: "org.photos-backup".into(),
            program: "/usr/local/bin/photos-backup".into(),
            config: "/Users/ann/pb.conf".into(),
            report: "/Users/ann/Library/Logs/photos-backup/doctor-as-agent.txt".into(),
            stdout: "/o".into(),
            stderr: "/e".into(),
            path_env: crate::launchd::PATH_ENV.into(),
        }
    }

    #[test]
    fn the_probe_runs_the_doctor_once_with_the_agents_binary_and_path() {
        let d = dictionary(&probe());
        assert_eq!(d["Label"].as_string(), Some("org.photos-backup.doctor"));
        let args: Vec<&str> = d["ProgramArguments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_string().unwrap())
            .collect();
        assert_eq!(
            args,
            [
                "/usr/local/bin/photos-backup",
                "--config",
                "/Users/ann/pb.conf",
                "doctor",
                "--label",
                "org.photos-backup",
                "--agent-report",
                "/Users/ann/Library/Logs/photos-backup/doctor-as-agent.txt"
            ]
        );
        assert_eq!(d["RunAtLoad"].as_boolean(), Some(true));
        assert_eq!(d["LaunchOnlyOnce"].as_boolean(), Some(true));
        assert!(!d.contains_key("StartInterval"));
        // The same PATH as the real agent's: the tools are found as it finds them.
        assert_eq!(
            d["EnvironmentVariables"].as_dictionary().unwrap()["PATH"].as_string(),
            Some(crate::launchd::PATH_ENV)
        );
        let back = plist::Value::from_reader_xml(&to_xml(&probe()).unwrap()[..]).unwrap();
        assert_eq!(back, plist::Value::Dictionary(d));
    }

    #[test]
    fn reports_round_trip_and_anything_else_is_refused() {
        let text = report_text(false, "FAILED  server: refused\n");
        assert_eq!(
            parse_report(&text),
            Some((false, "FAILED  server: refused\n"))
        );
        assert_eq!(parse_report(&report_text(true, "")), Some((true, "")));
        for bad in ["", "exit: 0", "exit: 2\nx", "ok\nx"] {
            assert_eq!(parse_report(bad), None, "{bad:?}");
        }
    }
}
