//! `photos-backup install` and `uninstall` through the real binary, with a
//! temp `HOME` and a fake `launchctl` on `PATH` that keeps a "loaded" flag
//! like launchd (bootstrap of a loaded agent fails, bootout of a missing one
//! exits 5, as in jdx/mise#10965, so it is asked only of a loaded one) and
//! records every call, so the order and the arguments of the
//! calls are checked, not only that the plist was written.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::tools::{fake_tool, path_with};

struct Machine {
    tmp: tempfile::TempDir,
}

struct Ran {
    code: Option<i32>,
    out: String,
    err: String,
}

impl Machine {
    fn new() -> Self {
        let m = Self {
            tmp: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(m.home()).unwrap();
        std::fs::create_dir_all(m.bin()).unwrap();
        // Per label: `loaded.LABEL` holds the loaded plist. A bootstrapped
        // plist's program runs at once in the background, as launchd does
        // with RunAtLoad, unless it is the backup agent itself (its `run`
        // is not for this test).
        let script = format!(
            r#"dir='{dir}'
printf '%s\n' "$*" >> "$dir/calls"
case "$1" in
print)
    [ -e "$dir/loaded.${{2##*/}}" ] && exit 0
    echo "Could not find service \"${{2##*/}}\" in domain" >&2; exit 113 ;;
bootout)
    if [ -e "$dir/loaded.${{2##*/}}" ]; then rm "$dir/loaded.${{2##*/}}"; exit 0; fi
    echo "Boot-out failed: 5: Input/output error" >&2; exit 5 ;;
bootstrap)
    label=$(basename "$3" .plist)
    if [ -e "$dir/broken" ] || [ -e "$dir/loaded.$label" ]; then
        echo "Bootstrap failed: 5: Input/output error" >&2; exit 5
    fi
    cp "$3" "$dir/loaded.$label"
    case "$label" in
    *.doctor)
        [ -e "$dir/silent-probe" ] && exit 0
        sed -n '/<key>ProgramArguments<\/key>/,/<\/array>/s/.*<string>\(.*\)<\/string>.*/\1/p' "$3" \
            > "$dir/probe-args"
        set --
        while IFS= read -r arg; do set -- "$@" "$arg"; done < "$dir/probe-args"
        "$@" > "$dir/probe.out" 2>&1 &
        ;;
    esac ;;
*)
    echo "fake launchctl: unexpected $1" >&2; exit 64 ;;
esac
"#,
            dir = m.root().display()
        );
        fake_tool(&m.bin(), "launchctl", &script);
        std::fs::write(
            m.config(),
            "[staging]\ndir = \"staging\"\n[threshold]\ndefault = \"2024-01-01\"\n",
        )
        .unwrap();
        m
    }

    fn root(&self) -> &Path {
        self.tmp.path()
    }

    fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    fn bin(&self) -> PathBuf {
        self.root().join("bin")
    }

    fn config(&self) -> PathBuf {
        self.root().join("photos_backup.conf")
    }

    fn plist(&self, label: &str) -> PathBuf {
        self.home()
            .join("Library/LaunchAgents")
            .join(format!("{label}.plist"))
    }

    /// The fake launchctl's calls so far, one line each, then forgets them.
    fn calls(&self) -> Vec<String> {
        let path = self.root().join("calls");
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let _ = std::fs::remove_file(path);
        text.lines().map(str::to_owned).collect()
    }

    fn loaded(&self, label: &str) -> Option<plist::Dictionary> {
        let path = self.root().join(format!("loaded.{label}"));
        path.exists().then(|| {
            plist::Value::from_file(path)
                .unwrap()
                .into_dictionary()
                .unwrap()
        })
    }

    fn run(&self, args: &[&str]) -> Ran {
        let out = Command::new(env!("CARGO_BIN_EXE_photos-backup"))
            .arg("--config")
            .arg(self.config())
            .args(args)
            .env("HOME", self.home())
            .env("PATH", path_with(&self.bin()))
            .env_remove("PHOTOS_BACKUP_CONFIG")
            .output()
            .unwrap();
        Ran {
            code: out.status.code(),
            out: String::from_utf8_lossy(&out.stdout).into_owned(),
            err: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn run_ok(&self, args: &[&str]) -> String {
        let ran = self.run(args);
        assert_eq!(ran.code, Some(0), "{args:?}:\n{}\n{}", ran.out, ran.err);
        ran.out
    }
}

fn uid() -> String {
    let out = Command::new("id").arg("-u").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn strings(value: &plist::Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_string().unwrap().to_owned())
        .collect()
}

#[test]
fn install_writes_the_plist_under_home_and_bootstraps_it() {
    let m = Machine::new();
    let out = m.run_ok(&["install"]);
    let plist = m.plist("org.photos-backup");
    let domain = format!("gui/{}", uid());
    let probe = m.plist("org.photos-backup.doctor");
    assert_eq!(
        m.calls(),
        [
            format!("print {domain}/org.photos-backup"),
            format!("bootstrap {domain} {}", plist.display()),
            // Then the doctor as the agent: loaded, run by "launchd" (its
            // own look at the agent), unloaded.
            format!("print {domain}/org.photos-backup.doctor"),
            format!("bootstrap {domain} {}", probe.display()),
            format!("print {domain}/org.photos-backup"),
            format!("print {domain}/org.photos-backup.doctor"),
            format!("bootout {domain}/org.photos-backup.doctor"),
            format!("print {domain}/org.photos-backup.doctor"),
        ]
    );
    assert!(
        out.contains("as the agent (launchd, org.photos-backup.doctor):"),
        "{out}"
    );
    let verdict = out.lines().last().unwrap();
    assert!(verdict.starts_with("doctor: "), "{out}");

    let written = plist::Value::from_file(&plist)
        .unwrap()
        .into_dictionary()
        .unwrap();
    assert_eq!(
        m.loaded("org.photos-backup").as_ref(),
        Some(&written),
        "bootstrapped another file"
    );
    let binary = std::fs::canonicalize(env!("CARGO_BIN_EXE_photos-backup")).unwrap();
    assert_eq!(
        strings(&written["ProgramArguments"]),
        [
            binary.display().to_string(),
            "-q".into(),
            "--config".into(),
            m.config().display().to_string(),
            "run".into(),
        ]
    );
    assert_eq!(written["Label"].as_string(), Some("org.photos-backup"));
    assert_eq!(written["StartInterval"].as_unsigned_integer(), Some(300));
    let logs = m.home().join("Library/Logs/photos-backup");
    assert!(logs.is_dir(), "the log folder is made for launchd");
    assert_eq!(
        written["StandardErrorPath"].as_string(),
        Some(logs.join("launchd.err.log").to_str().unwrap())
    );
    let mode = std::fs::metadata(&plist).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
    // Only the plist in the folder: no temp files left.
    assert_eq!(
        std::fs::read_dir(plist.parent().unwrap()).unwrap().count(),
        1
    );

    assert!(out.contains(&format!("wrote {}", plist.display())), "{out}");
    // The test binary is a Cargo build output: a path macOS forgets.
    assert!(
        out.contains(&format!(
            "warning: {} is a Cargo build output",
            binary.display()
        )),
        "{out}"
    );
    assert!(out.contains("remove the entry"), "{out}");
    assert!(out.contains("Full Disk Access"), "{out}");
    assert!(out.contains(&binary.display().to_string()), "{out}");
    assert!(
        out.contains(&format!("launchctl print {domain}/org.photos-backup")),
        "{out}"
    );
}

#[test]
fn installing_again_replaces_the_loaded_agent() {
    let m = Machine::new();
    m.run_ok(&["install"]);
    m.calls();
    let out = m.run_ok(&["install", "--interval", "600"]);
    let domain = format!("gui/{}", uid());
    let plist = m.plist("org.photos-backup");
    assert_eq!(
        m.calls()[..4],
        [
            format!("print {domain}/org.photos-backup"),
            format!("bootout {domain}/org.photos-backup"),
            format!("print {domain}/org.photos-backup"),
            format!("bootstrap {domain} {}", plist.display()),
        ]
    );
    assert!(out.contains("stopped the agent org.photos-backup"), "{out}");
    let loaded = m.loaded("org.photos-backup").expect("loaded again");
    assert_eq!(loaded["StartInterval"].as_unsigned_integer(), Some(600));
}

#[test]
fn uninstall_reverses_install_and_can_be_repeated() {
    let m = Machine::new();
    m.run_ok(&["install", "--label", "com.example.pb"]);
    m.calls();
    let plist = m.plist("com.example.pb");
    assert!(plist.is_file());

    let out = m.run_ok(&["uninstall", "--label", "com.example.pb"]);
    let domain = format!("gui/{}", uid());
    assert_eq!(
        m.calls(),
        [
            format!("print {domain}/com.example.pb"),
            format!("bootout {domain}/com.example.pb")
        ]
    );
    assert!(!plist.exists());
    assert!(m.loaded("com.example.pb").is_none());
    assert!(out.contains("stopped com.example.pb"), "{out}");

    let out = m.run_ok(&["uninstall", "--label", "com.example.pb"]);
    assert!(out.contains("was not loaded"), "{out}");
    assert_eq!(m.calls(), [format!("print {domain}/com.example.pb")]);
    assert!(
        out.contains(&format!("no {} to remove", plist.display())),
        "{out}"
    );
}

#[test]
fn doctor_as_agent_hands_back_the_agents_report_and_its_verdict() {
    let m = Machine::new();
    // A library that is not there: the agent's doctor FAILS, and says why.
    let missing = m.root().join("Gone.photoslibrary");
    std::fs::write(
        m.config(),
        format!(
            "[staging]\ndir = \"staging\"\n[threshold]\ndefault = \"2024-01-01\"\n\
             [[library]]\nname = \"gone\"\npath = {:?}\n",
            missing.display().to_string()
        ),
    )
    .unwrap();
    let ran = m.run(&["doctor", "--as-agent"]);
    assert_eq!(ran.code, Some(1), "{}\n{}", ran.out, ran.err);
    assert!(ran.out.contains("as the agent"), "{}", ran.out);
    assert!(
        ran.out
            .lines()
            .any(|l| l.starts_with("FAILED  library gone")
                && l.contains(&missing.display().to_string())),
        "{}",
        ran.out
    );
    // The probe ran the same binary, with the config, writing the report.
    let args = std::fs::read_to_string(m.root().join("probe-args")).unwrap();
    let binary = std::fs::canonicalize(env!("CARGO_BIN_EXE_photos-backup")).unwrap();
    assert_eq!(
        args.lines().take(4).collect::<Vec<_>>(),
        [
            binary.display().to_string().as_str(),
            "--config",
            m.config().display().to_string().as_str(),
            "doctor"
        ]
    );
    // Nothing of the probe is left loaded or on disk; the report stays to read.
    assert!(m.loaded("org.photos-backup.doctor").is_none());
    assert!(!m.plist("org.photos-backup.doctor").exists());
    let report = m
        .home()
        .join("Library/Logs/photos-backup/doctor-as-agent.txt");
    assert!(std::fs::read_to_string(report)
        .unwrap()
        .starts_with("exit: 1\n"));
}

#[test]
fn a_failing_launchctl_is_named_with_its_arguments_and_why() {
    let m = Machine::new();
    std::fs::write(m.root().join("broken"), "").unwrap();
    let ran = m.run(&["install"]);
    assert_eq!(ran.code, Some(1), "{}\n{}", ran.out, ran.err);
    let plist = m.plist("org.photos-backup");
    let command = format!("launchctl bootstrap gui/{} {}", uid(), plist.display());
    assert!(
        ran.err.contains(&command) && ran.err.contains("Input/output error"),
        "{}",
        ran.err
    );
}

#[test]
fn a_config_that_does_not_load_installs_nothing() {
    let m = Machine::new();
    std::fs::write(m.config(), "[staging]\ndir = 1\n").unwrap();
    let ran = m.run(&["install"]);
    assert_eq!(ran.code, Some(2), "{}", ran.err);
    assert!(
        ran.err.contains(&m.config().display().to_string()),
        "{}",
        ran.err
    );
    assert!(!m.plist("org.photos-backup").exists());
    assert!(m.calls().is_empty());
}
