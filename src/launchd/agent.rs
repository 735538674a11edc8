//! The launch agent's property list, as a pure function of what it must say:
//! which binary runs with which config, how often, where its output goes and
//! with which `PATH` (launchd's default has neither Homebrew folder, where
//! sshfs, gocryptfs and borg live), and how it ends: `AbandonProcessGroup`,
//! since launchd otherwise kills the job's whole process group when it
//! exits, taking a kept SSHFS or gocryptfs daemon with it (a dead mount
//! for the next run), and an `ExitTimeOut` long enough for the unmount
//! sequence after SIGTERM (launchd's default is 20 s, then SIGKILL, which
//! would leave the mounts behind). `launchd/photos-backup.plist` in the
//! repository is this function's output for `Agent::example()`; a test keeps
//! the two in agreement.

/// Everything the plist says. Paths are absolute (the caller checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub label: String,
    /// The `photos-backup` binary.
    pub program: String,
    /// The config file, given to `run` with `--config`.
    pub config: String,
    /// Seconds between runs (`StartInterval`).
    pub interval_seconds: u32,
    pub stdout: String,
    pub stderr: String,
    /// `PATH` in the job's environment.
    pub path_env: String,
}

impl Agent {
    /// The documented example: `launchd/photos-backup.plist`.
    #[must_use]
    pub fn example() -> Self {
        let logs = "/Users/USER/Library/Logs/photos-backup";
        Self {
            label: super::DEFAULT_LABEL.into(),
            program: "/usr/local/bin/photos-backup".into(),
            config: "/Users/USER/.config/photos-backup/photos_backup.conf".into(),
            interval_seconds: super::DEFAULT_INTERVAL,
            stdout: format!("{logs}/{}", super::STDOUT_LOG),
            stderr: format!("{logs}/{}", super::STDERR_LOG),
            path_env: super::PATH_ENV.into(),
        }
    }
}

/// The plist's top-level dictionary.
#[must_use]
pub(crate) fn dictionary(agent: &Agent) -> plist::Dictionary {
    let string = |s: &str| plist::Value::String(s.to_owned());
    let mut env = plist::Dictionary::new();
    env.insert("PATH".into(), string(&agent.path_env));
    let mut d = plist::Dictionary::new();
    d.insert("Label".into(), string(&agent.label));
    d.insert(
        "ProgramArguments".into(),
        plist::Value::Array(
            // -q: the run's lines go to its own rotated log, not to
            // launchd's files, which nothing rotates; errors still do.
            [
                agent.program.as_str(),
                "-q",
                "--config",
                agent.config.as_str(),
                "run",
            ]
            .map(string)
            .to_vec(),
        ),
    );
    d.insert(
        "StartInterval".into(),
        plist::Value::Integer(agent.interval_seconds.into()),
    );
    d.insert("RunAtLoad".into(), plist::Value::Boolean(true));
    d.insert("ProcessType".into(), string("Background"));
    d.insert("LowPriorityIO".into(), plist::Value::Boolean(true));
    d.insert("AbandonProcessGroup".into(), plist::Value::Boolean(true));
    d.insert(
        "ExitTimeOut".into(),
        plist::Value::Integer(super::EXIT_TIMEOUT_SECONDS.into()),
    );
    d.insert("EnvironmentVariables".into(), plist::Value::Dictionary(env));
    d.insert("StandardOutPath".into(), string(&agent.stdout));
    d.insert("StandardErrorPath".into(), string(&agent.stderr));
    d
}

/// The plist as XML, the form launchd and people read.
pub fn to_xml(agent: &Agent) -> Result<Vec<u8>, plist::Error> {
    super::to_xml(dictionary(agent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_as_xml() {
        let xml = String::from_utf8(to_xml(&Agent::example()).unwrap()).unwrap();
        insta::assert_snapshot!(xml);
    }

    #[test]
    fn the_reference_plist_in_the_repository_is_what_install_writes() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("launchd/photos-backup.plist");
        let reference = plist::Value::from_file(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .into_dictionary()
            .expect("a dictionary");
        let ours = dictionary(&Agent::example());
        for (key, value) in &ours {
            assert_eq!(
                reference.get(key),
                Some(value),
                "{key} in {}",
                path.display()
            );
        }
        for key in reference.keys() {
            assert!(
                ours.contains_key(key),
                "{key} is only in {}",
                path.display()
            );
        }
    }

    #[test]
    fn values_go_where_launchd_reads_them() {
        let agent = Agent {
            label: "com.example.pb".into(),
            program: "/opt/pb/bin/photos-backup".into(),
            config: "/Users/ann/pb.conf".into(),
            interval_seconds: 900,
            stdout: "/tmp/o".into(),
            stderr: "/tmp/e".into(),
            path_env: "/bin".into(),
        };
        let d = dictionary(&agent);
        let args: Vec<&str> = d["ProgramArguments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_string().unwrap())
            .collect();
        assert_eq!(
            args,
            [
                "/opt/pb/bin/photos-backup",
                "-q",
                "--config",
                "/Users/ann/pb.conf",
                "run"
            ]
        );
        assert_eq!(d["Label"].as_string(), Some("com.example.pb"));
        assert_eq!(d["StartInterval"].as_unsigned_integer(), Some(900));
        // A kept mount's daemon survives the job; the unmount gets its time.
        assert_eq!(d["AbandonProcessGroup"].as_boolean(), Some(true));
        assert!(d["ExitTimeOut"].as_unsigned_integer().unwrap() >= 150);
        assert_eq!(d["StandardOutPath"].as_string(), Some("/tmp/o"));
        assert_eq!(d["StandardErrorPath"].as_string(), Some("/tmp/e"));
        assert_eq!(
            d["EnvironmentVariables"].as_dictionary().unwrap()["PATH"].as_string(),
            Some("/bin")
        );
        // Text that looks like markup stays text.
        let hostile = Agent {
            config: "/Users/ann/<b>&amp;</b>.conf".into(),
            ..agent
        };
        let back = plist::Value::from_reader_xml(&to_xml(&hostile).unwrap()[..]).unwrap();
        assert_eq!(back, plist::Value::Dictionary(dictionary(&hostile)));
    }
}
