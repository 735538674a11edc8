//! Whether a mount point answers, asked from a child process under a
//! timeout (a dead or hung FUSE mount can put whoever touches it in
//! uninterruptible sleep, and that must never be the run), and what the
//! answer means (`health_of`, pure); with the mount table, the state of a
//! point for the plan.

use std::path::Path;
use std::time::Duration;

use super::command_lines::probe_command;
use super::failures::{first_lines, non_empty};
use super::plan::{judge, PointState};
use super::{tool, MountEnv, MountError};
use crate::process::{CommandRunner, ProcessError};
use crate::remote::mount_table::MountTable;

/// Whether a mount point answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Health {
    Healthy,
    Dead(String),
}

/// The meaning of a probe of a mount point by a child process (see
/// [`probe_command`]): it ran and listed the folder (healthy), it failed
/// (ENOTCONN, "transport endpoint is not connected", is the usual one), or
/// it did not answer in time (a hung FUSE daemon: the child was killed,
/// and the run never waited on the mount itself).
#[must_use]
fn health_of(outcome: &Result<std::process::Output, ProcessError>, timeout: Duration) -> Health {
    match outcome {
        Ok(out) if out.status.success() => Health::Healthy,
        Ok(out) => Health::Dead(non_empty(first_lines(&String::from_utf8_lossy(
            &out.stderr,
        )))),
        Err(ProcessError::Timeout { .. }) => Health::Dead(format!(
            "no answer within {} s (hung)",
            timeout.as_secs_f32()
        )),
        Err(e) => Health::Dead(crate::error_text::describe(&e)),
    }
}

/// Probes `path` through a child (see [`probe_command`]); `Ok(Some(true))`
/// also says that `name` is a file there.
pub(super) fn probe(
    path: &Path,
    name: &str,
    env: &MountEnv,
    runner: &dyn CommandRunner,
) -> Result<(Health, bool), MountError> {
    let find = tool(env, "find")?;
    let outcome = runner.run(&probe_command(&find, path, name), env.stat_timeout);
    let found = outcome
        .as_ref()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    Ok((health_of(&outcome, env.stat_timeout), found))
}

pub(super) fn check_health(
    path: &Path,
    env: &MountEnv,
    runner: &dyn CommandRunner,
) -> Result<Health, MountError> {
    Ok(probe(path, ".photos-backup-probe", env, runner)?.0)
}

pub(super) fn state_of(
    table: &MountTable,
    path: &Path,
    expected_source: &str,
    env: &MountEnv,
    runner: &dyn CommandRunner,
) -> Result<PointState, MountError> {
    let entries = table.at(path);
    let health = if entries.len() == 1 {
        check_health(path, env, runner)?
    } else {
        Health::Healthy
    };
    Ok(judge(&entries, expected_source, &health))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_meaning() {
        use std::os::unix::process::ExitStatusExt;
        let t = Duration::from_secs(5);
        let output = |code: i32, stderr: &str| std::process::Output {
            status: std::process::ExitStatus::from_raw(code << 8),
            stdout: Vec::new(),
            stderr: stderr.as_bytes().to_vec(),
        };
        assert_eq!(health_of(&Ok(output(0, "")), t), Health::Healthy);
        assert_eq!(
            health_of(
                &Ok(output(
                    1,
                    "find: '/m/p': Transport endpoint is not connected\n"
                )),
                t
            ),
            Health::Dead("find: '/m/p': Transport endpoint is not connected".into())
        );
        let hung = Err(ProcessError::Timeout {
            program: "find".into(),
            seconds: 5,
        });
        assert_eq!(
            health_of(&hung, t),
            Health::Dead("no answer within 5 s (hung)".into())
        );
    }
}
