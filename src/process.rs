//! The one place that starts other programs. Every child gets a timeout, its
//! output captured (and capped), and a description for errors that names the
//! program. Each child leads a process group of its own, so that a timeout
//! kills all it started too (a `sh -c` grandchild must not live on holding
//! our pipes), and the groups still running are known, for the whole-run
//! deadline and the signal handler to stop them. A child is waited for on a
//! thread of its own (the caller waits with a timeout on what that thread
//! reports), so one stuck in the kernel (a dead FUSE mount) never takes the
//! run with it. Secrets reach a child only through its standard input or an
//! environment variable marked secret, never its arguments, and every
//! rendering of a command line (`Display`, `Debug`, errors, logs) masks
//! them. No other module spawns a process.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

/// A program and its arguments, built by pure functions and tested as lists,
/// with the environment and standard input it needs.
#[derive(Clone, PartialEq, Eq)]
pub struct CommandLine {
    pub(crate) program: PathBuf,
    pub args: Vec<String>,
    pub(crate) env: Vec<EnvVar>,
    /// Bytes written to the child's standard input (a password, a list of
    /// paths), then closed.
    pub(crate) stdin: Option<Vec<u8>>,
    /// The child's working folder (default: ours).
    pub(crate) cwd: Option<PathBuf>,
    /// The most standard output bytes taken; more is an error
    /// ([`ProcessError::TooMuchOutput`]) and the child is stopped.
    max_stdout: Option<usize>,
}

/// One environment variable for a child; a secret one is never shown.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct EnvVar {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) secret: bool,
}

impl CommandLine {
    pub fn new(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            stdin: None,
            cwd: None,
            max_stdout: None,
        }
    }

    /// Takes at most `bytes` of standard output (a secret, a probe).
    #[must_use]
    pub(crate) fn max_stdout(mut self, bytes: usize) -> Self {
        self.max_stdout = Some(bytes);
        self
    }

    /// Runs the child in `dir`.
    #[must_use]
    pub(crate) fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    #[must_use]
    pub(crate) fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push(EnvVar {
            name: name.to_owned(),
            value: value.to_owned(),
            secret: false,
        });
        self
    }

    #[must_use]
    pub fn secret_env(mut self, name: &str, value: &str) -> Self {
        self.env.push(EnvVar {
            name: name.to_owned(),
            value: value.to_owned(),
            secret: true,
        });
        self
    }

    /// Sends `bytes` (a secret) on the child's standard input.
    #[must_use]
    pub(crate) fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// The program's name, for messages.
    #[must_use]
    pub(crate) fn name(&self) -> String {
        self.program.display().to_string()
    }
}

/// `NAME=value program args`, secrets as `***`, standard input never shown.
impl std::fmt::Display for CommandLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for var in &self.env {
            let value = if var.secret {
                "***"
            } else {
                var.value.as_str()
            };
            write!(f, "{}={} ", var.name, value)?;
        }
        write!(f, "{}", self.program.display())?;
        for arg in &self.args {
            write!(f, " {arg}")?;
        }
        if self.stdin.is_some() {
            write!(f, " <(secret on stdin)")?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for CommandLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CommandLine({self})")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot start {program}")]
    Start {
        program: String,
        source: std::io::Error,
    },
    #[error("{program} did not finish within {seconds} s and was stopped")]
    Timeout { program: String, seconds: u64 },
    #[error("{program} printed more than {limit} bytes and was stopped")]
    TooMuchOutput { program: String, limit: usize },
}

/// Names of environment variables that hold a secret (`env:NAME`
/// references): no child inherits them. A child that needs the secret gets
/// it through its own channel (`BORG_PASSPHRASE`, standard input), set
/// explicitly on its `CommandLine`, which this does not remove.
static WITHHELD: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// Keeps the variable `name` out of the environment of every child started
/// from now on (unless its command line sets it).
pub(crate) fn withhold_env(name: &str) {
    WITHHELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(name.to_owned());
}

/// The withheld variables `cmd` does not set itself.
fn withheld_from(cmd: &CommandLine) -> Vec<String> {
    WITHHELD
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .filter(|name| !cmd.env.iter().any(|v| &v.name == *name))
        .cloned()
        .collect()
}

/// Runs programs. A trait so tests can stand in for the real thing.
pub trait CommandRunner {
    /// Runs `cmd` to completion or until `timeout`; output is captured.
    fn run(&self, cmd: &CommandLine, timeout: Duration) -> Result<Output, ProcessError>;

    /// Runs `cmd` like [`CommandRunner::run`], giving each line of its
    /// standard error to `on_line` (without its line end) as it comes, for
    /// a child that reports progress there. Its standard error may then be
    /// longer than the cap: the output keeps the first [`MAX_STDERR`]
    /// bytes, the rest only reaches `on_line`. This default, for stand-ins,
    /// gives the lines once the child has ended.
    fn run_with_lines(
        &self,
        cmd: &CommandLine,
        timeout: Duration,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<Output, ProcessError> {
        let out = self.run(cmd, timeout)?;
        for line in String::from_utf8_lossy(&out.stderr).lines() {
            on_line(line);
        }
        Ok(out)
    }
}

/// Runs real processes, each in a process group of its own.
#[derive(Debug, Default, Clone, Copy)]
pub struct System;

/// The most standard error bytes kept (a message, never data).
pub const MAX_STDERR: usize = 1 << 20;

/// The longest line of standard error given whole to a line reader; a
/// longer one comes in pieces.
const MAX_LINE: u64 = 64 * 1024;

/// The most lines of standard error waiting for the caller at a time.
const EVENTS_QUEUED: usize = 1024;

/// What the threads around a child report to the one waiting for it.
enum Event {
    /// A line of standard error (streaming only).
    Line(String),
    /// Standard error has ended: what was kept, or `Err` for too much.
    Stderr(Result<Vec<u8>, ()>),
    /// The child has ended (and was reaped).
    Exited(std::io::Result<std::process::ExitStatus>),
}

/// Process groups of children still running (with their program's name),
/// for [`stop_all_children`].
static RUNNING: Mutex<Vec<(u32, String)>> = Mutex::new(Vec::new());

/// Where the running groups are also written, for the next run to stop
/// those a killed run left ([`stop_orphans`]).
static RECORD: Mutex<Option<PathBuf>> = Mutex::new(None);

/// One running child's group, listed in `RUNNING` while this lives.
struct Listed(u32);

impl Listed {
    fn new(group: u32, program: &std::path::Path) -> Self {
        let name = program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Ok(mut running) = RUNNING.lock() {
            running.push((group, name));
            save(&running);
        }
        Self(group)
    }
}

impl Drop for Listed {
    fn drop(&mut self) {
        if let Ok(mut running) = RUNNING.lock() {
            running.retain(|(g, _)| *g != self.0);
            save(&running);
        }
    }
}

/// Writes the running groups to the record file, if any (best effort).
fn save(running: &[(u32, String)]) {
    let Some(path) = RECORD.lock().ok().and_then(|r| r.clone()) else {
        return;
    };
    let mut text = String::new();
    for (group, name) in running {
        text.push_str(&format!("{group} {name}\n"));
    }
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, &path);
    }
}

/// From now on, keeps the list of running children's groups in `path`.
pub(crate) fn record_children_in(path: PathBuf) {
    if let Ok(mut record) = RECORD.lock() {
        *record = Some(path);
    }
    if let Ok(running) = RUNNING.lock() {
        save(&running);
    }
}

/// Kills the process groups that a run killed before its children ended
/// left in `path` (its [`record_children_in`] file): an sshfs or gocryptfs
/// mid-mount, a borg holding the repository lock. A group is only killed
/// while its leader, when there is one, is still the program recorded
/// (`leader_names`: its program or, for a script, its interpreter's first
/// argument), so a reused pid is never hit. Returns them.
pub(crate) fn stop_orphans(
    path: &std::path::Path,
    leader_names: &dyn Fn(u32) -> Option<Vec<String>>,
) -> Vec<(u32, String)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let _ = std::fs::remove_file(path);
    let mut stopped = Vec::new();
    for line in text.lines() {
        let Some((group, name)) = line.split_once(' ') else {
            continue;
        };
        let Ok(group) = group.parse::<u32>() else {
            continue;
        };
        let leader_ok = leader_names(group).is_none_or(|names| names.iter().any(|n| n == name));
        if group > 1 && group_alive(group) && leader_ok {
            kill_group(group);
            stopped.push((group, name.to_owned()));
        }
    }
    // A moment for the kernel to end them (and let go of what they held).
    let deadline = Instant::now() + Duration::from_secs(3);
    while stopped.iter().any(|(g, _)| group_alive(*g)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    stopped
}

/// The file names of the first two words of process `pid`'s command line
/// (a program; an interpreter and its script), `None` when it is gone or
/// cannot be told: from `/proc/PID/cmdline` on Linux, `ps -o command=`
/// elsewhere.
#[must_use]
pub(crate) fn process_names(pid: u32) -> Option<Vec<String>> {
    use std::os::unix::ffi::OsStrExt;
    let words: Vec<Vec<u8>> = if cfg!(target_os = "linux") {
        let bytes = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        bytes
            .split(|b| *b == 0)
            .take(2)
            .map(<[u8]>::to_vec)
            .collect()
    } else {
        let ps = CommandLine::new("/bin/ps", ["-o", "command=", "-p", &pid.to_string()]);
        let out = System.run(&ps, Duration::from_secs(5)).ok()?;
        if !out.status.success() {
            return None;
        }
        out.stdout
            .split(u8::is_ascii_whitespace)
            .filter(|w| !w.is_empty())
            .take(2)
            .map(<[u8]>::to_vec)
            .collect()
    };
    let names: Vec<String> = words
        .iter()
        .filter_map(|w| std::path::Path::new(std::ffi::OsStr::from_bytes(w)).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    (!names.is_empty()).then_some(names)
}

/// SIGKILL to a whole process group (the child and all it started).
pub fn kill_group(group: u32) {
    if let Some(pid) = rustix::process::Pid::from_raw(group as i32) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// Whether a process group has a member left (zombies count until reaped).
#[must_use]
fn group_alive(group: u32) -> bool {
    rustix::process::Pid::from_raw(group as i32)
        .is_some_and(|pid| rustix::process::test_kill_process_group(pid).is_ok())
}

/// Kills the process group of every child still running (the whole-run
/// deadline, a signal); returns how many there were.
pub(crate) fn stop_all_children() -> usize {
    let groups = RUNNING.lock().map(|r| r.clone()).unwrap_or_default();
    for (group, _) in &groups {
        kill_group(*group);
    }
    groups.len()
}

/// Reads `from` to its end in a thread, keeping at most `limit` bytes, and
/// hands what it kept to `done`; more stops the reading (`Err`), and the
/// writer meets a closed pipe.
fn read_capped(
    mut from: impl Read + Send + 'static,
    limit: usize,
    done: impl FnOnce(Result<Vec<u8>, ()>) + Send + 'static,
) {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let took = (&mut from)
            .take(limit as u64 + 1)
            .read_to_end(&mut kept)
            .map_err(|_| ());
        // A read error: what came so far is what there is.
        done(if took.is_ok() && kept.len() > limit {
            Err(())
        } else {
            Ok(kept)
        });
    });
}

/// Reads standard error line by line in a thread, each line to `events`
/// as it comes, keeping the first `limit` bytes (more is dropped, never an
/// error: progress goes on as long as the child works).
fn read_lines(from: impl Read + Send + 'static, limit: usize, events: mpsc::SyncSender<Event>) {
    use std::io::BufRead;
    std::thread::spawn(move || {
        let mut reader = std::io::BufReader::new(from);
        let (mut kept, mut line) = (Vec::new(), Vec::new());
        loop {
            line.clear();
            match (&mut reader).take(MAX_LINE).read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let room = limit.saturating_sub(kept.len()).min(line.len());
                    kept.extend_from_slice(&line[..room]);
                    let text = String::from_utf8_lossy(&line);
                    let text = text.trim_end_matches(['\n', '\r']).to_owned();
                    if events.send(Event::Line(text)).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = events.send(Event::Stderr(Ok(kept)));
    });
}

/// Waits for `child` on a thread of its own, which reaps it whenever it
/// ends: the caller waits on the channel with a timeout, and a child stuck
/// in the kernel (a dead FUSE mount) holds only that thread, never the run.
fn wait_in_thread(mut child: std::process::Child, events: mpsc::SyncSender<Event>) {
    std::thread::spawn(move || {
        let _ = events.send(Event::Exited(child.wait()));
    });
}

impl CommandRunner for System {
    fn run(&self, cmd: &CommandLine, timeout: Duration) -> Result<Output, ProcessError> {
        run_child(cmd, timeout, None)
    }

    fn run_with_lines(
        &self,
        cmd: &CommandLine,
        timeout: Duration,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<Output, ProcessError> {
        run_child(cmd, timeout, Some(on_line))
    }
}

/// Starts `cmd` in a process group of its own, its three streams piped
/// (standard input only when it has some).
fn spawn(cmd: &CommandLine) -> Result<std::process::Child, ProcessError> {
    use std::os::unix::process::CommandExt;
    let mut command = command_of(cmd);
    command
        .process_group(0)
        .stdin(if cmd.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.spawn().map_err(|source| ProcessError::Start {
        program: cmd.name(),
        source,
    })
}

/// `cmd` as a `std::process::Command`: its program, arguments, environment
/// (what is withheld removed) and folder; the caller sets what it connects.
fn command_of(cmd: &CommandLine) -> std::process::Command {
    let mut command = std::process::Command::new(&cmd.program);
    command.args(&cmd.args);
    for name in withheld_from(cmd) {
        command.env_remove(name);
    }
    for var in &cmd.env {
        command.env(&var.name, &var.value);
    }
    if let Some(dir) = &cmd.cwd {
        command.current_dir(dir);
    }
    command
}

/// Runs `cmd` in a process group of its own; with `on_line`, its standard
/// error is streamed to it line by line.
fn run_child(
    cmd: &CommandLine,
    timeout: Duration,
    mut on_line: Option<&mut dyn FnMut(&str)>,
) -> Result<Output, ProcessError> {
    let mut child = spawn(cmd)?;
    let group = child.id();
    let _listed = Listed::new(group, &cmd.program);
    if let (Some(bytes), Some(mut stdin)) = (cmd.stdin.clone(), child.stdin.take()) {
        std::thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        });
    }
    let stdout = child.stdout.take().map(|o| {
        let (tx, rx) = mpsc::channel();
        read_capped(o, cmd.max_stdout.unwrap_or(usize::MAX - 1), move |r| {
            let _ = tx.send(r);
        });
        rx
    });
    let deadline = Instant::now() + timeout;
    // Bounded: a child that writes faster than the caller takes its lines
    // waits for it.
    let (events, rx) = mpsc::sync_channel(EVENTS_QUEUED);
    match child.stderr.take() {
        Some(e) if on_line.is_some() => read_lines(e, MAX_STDERR, events.clone()),
        Some(e) => {
            let events = events.clone();
            read_capped(e, MAX_STDERR, move |r| {
                let _ = events.send(Event::Stderr(r));
            });
        }
        None => {
            let _ = events.send(Event::Stderr(Ok(Vec::new())));
        }
    }
    wait_in_thread(child, events);
    // The waiter thread reaps the leader once it ends; the group goes.
    let stop = |error| {
        kill_group(group);
        Err(error)
    };
    let timed_out = || ProcessError::Timeout {
        program: cmd.name(),
        seconds: timeout.as_secs(),
    };
    // Standard error ends when every process holding it has closed it: a
    // grandchild that keeps it counts against the timeout.
    let (mut status, mut stderr) = (None, None);
    while status.is_none() || stderr.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Event::Line(line)) => {
                if let Some(on_line) = on_line.as_mut() {
                    on_line(&line);
                }
            }
            Ok(Event::Stderr(Ok(bytes))) => stderr = Some(bytes),
            Ok(Event::Stderr(Err(()))) => {
                return stop(ProcessError::TooMuchOutput {
                    program: cmd.name(),
                    limit: MAX_STDERR,
                })
            }
            Ok(Event::Exited(Ok(ended))) => status = Some(ended),
            Ok(Event::Exited(Err(source))) => {
                return stop(ProcessError::Start {
                    program: cmd.name(),
                    source,
                })
            }
            Err(_) => return stop(timed_out()),
        }
    }
    let (Some(status), Some(stderr)) = (status, stderr) else {
        unreachable!("the loop ends with both")
    };
    // Likewise standard output.
    let stdout = match stdout {
        None => Vec::new(),
        Some(rx) => match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(Ok(bytes)) => bytes,
            Ok(Err(())) => {
                return stop(ProcessError::TooMuchOutput {
                    program: cmd.name(),
                    limit: cmd.max_stdout.unwrap_or(usize::MAX),
                })
            }
            Err(_) => return stop(timed_out()),
        },
    };
    Ok(Output {
        status,
        stdout,
        stderr,
    })
}

/// A runner that says what it runs (`-v`): each command line, secrets
/// masked, then how it ended and how long it took, to `log`.
pub(crate) struct Traced<'a, W: std::io::Write + Send> {
    pub(crate) inner: &'a dyn CommandRunner,
    pub(crate) log: std::sync::Mutex<W>,
}

impl<W: std::io::Write + Send> Traced<'_, W> {
    /// Runs through `run`, then says what ran and how it ended.
    fn traced(
        &self,
        cmd: &CommandLine,
        run: impl FnOnce() -> Result<Output, ProcessError>,
    ) -> Result<Output, ProcessError> {
        let started = Instant::now();
        let result = run();
        let ended = match &result {
            Ok(out) => out.status.to_string(),
            Err(e) => crate::error_text::describe(e),
        };
        if let Ok(mut log) = self.log.lock() {
            let _ = writeln!(
                log,
                "$ {cmd}  [{ended}, {:.2} s]",
                started.elapsed().as_secs_f64()
            );
        }
        result
    }
}

impl<W: std::io::Write + Send> CommandRunner for Traced<'_, W> {
    fn run(&self, cmd: &CommandLine, timeout: Duration) -> Result<Output, ProcessError> {
        self.traced(cmd, || self.inner.run(cmd, timeout))
    }

    fn run_with_lines(
        &self,
        cmd: &CommandLine,
        timeout: Duration,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<Output, ProcessError> {
        self.traced(cmd, || self.inner.run_with_lines(cmd, timeout, on_line))
    }
}

/// Starts `cmd` and leaves it running, reaped by a thread when it ends
/// (`caffeinate -w PID` ends with us). Its output is discarded.
pub(crate) fn spawn_background(cmd: &CommandLine) -> Result<(), ProcessError> {
    let mut command = command_of(cmd);
    command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().map_err(|source| ProcessError::Start {
        program: cmd.name(),
        source,
    })?;
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// How a child ended, for an error message: its status and, when it said
/// something, the first lines of its stderr.
#[must_use]
pub(crate) fn failure_detail(output: &Output) -> String {
    let excerpt = stderr_excerpt(output);
    if excerpt.is_empty() {
        output.status.to_string()
    } else {
        format!("{}: {excerpt}", output.status)
    }
}

/// The first lines of a child's stderr, for an error message.
#[must_use]
pub(crate) fn stderr_excerpt(output: &Output) -> String {
    let text = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(3)
        .collect();
    lines.join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    #[test]
    fn a_traced_runner_says_what_it_ran_without_secrets() {
        let traced = Traced {
            inner: &System,
            log: std::sync::Mutex::new(Vec::new()),
        };
        let cmd = CommandLine::new("sh", ["-c", "exit 3"]).secret_env("PW", "hunter2");
        let out = traced.run(&cmd, Duration::from_secs(10)).unwrap();
        assert_eq!(out.status.code(), Some(3));
        let log = String::from_utf8(traced.log.into_inner().unwrap()).unwrap();
        assert!(
            log.starts_with("$ PW=*** sh -c exit 3  [exit status: 3, "),
            "{log}"
        );
        assert!(!log.contains("hunter2"));
    }

    #[test]
    fn runs_captures_and_times_out() {
        let out = System
            .run(
                &CommandLine::new("sh", ["-c", "echo out; echo err >&2; exit 3"]),
                Duration::from_secs(10),
            )
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(stderr_excerpt(&out), "err");

        let started = Instant::now();
        let err = System
            .run(
                &CommandLine::new("sleep", ["30"]),
                Duration::from_millis(200),
            )
            .unwrap_err();
        assert!(err.to_string().contains("sleep did not finish"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn an_env_secret_reaches_no_child_unless_set_for_it() {
        // A name used by this test alone: tests run in parallel.
        std::env::set_var("PB_TEST_WITHHELD_SECRET", "hunter2");
        let show = "echo ${PB_TEST_WITHHELD_SECRET-unset}";
        let run = |cmd: &CommandLine| {
            let out = System.run(cmd, Duration::from_secs(10)).unwrap();
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        assert_eq!(run(&CommandLine::new("sh", ["-c", show])), "hunter2");
        crate::secrets::env::read("PB_TEST_WITHHELD_SECRET").unwrap();
        assert_eq!(run(&CommandLine::new("sh", ["-c", show])), "unset");
        let meant = CommandLine::new("sh", ["-c", show])
            .secret_env("PB_TEST_WITHHELD_SECRET", "for this one");
        assert_eq!(run(&meant), "for this one");
    }

    #[test]
    fn secrets_reach_the_child_but_never_its_rendering() {
        let cmd = CommandLine::new("sh", ["-c", "read line; echo \"$line $PB_TOKEN $PB_MODE\""])
            .stdin("hunter2\n")
            .secret_env("PB_TOKEN", "s3cr3t")
            .env("PB_MODE", "plain");
        let out = System.run(&cmd, Duration::from_secs(10)).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "hunter2 s3cr3t plain\n"
        );
        for shown in [cmd.to_string(), format!("{cmd:?}")] {
            assert!(
                !shown.contains("hunter2") && !shown.contains("s3cr3t"),
                "{shown}"
            );
            assert!(
                shown.contains("PB_TOKEN=***") && shown.contains("PB_MODE=plain"),
                "{shown}"
            );
        }
    }

    /// Whether `pid` has ended (gone, or a zombie nobody reaped yet).
    fn ended(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
    }

    fn wait_ended(pid: u32) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ended(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        ended(pid)
    }

    #[test]
    fn a_timeout_kills_what_the_child_started_too() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!("sleep 60 & echo $! > {}; wait", pid_file.display());
        let err = System
            .run(
                &CommandLine::new("sh", ["-c", &script]),
                Duration::from_millis(500),
            )
            .unwrap_err();
        assert!(matches!(err, ProcessError::Timeout { .. }), "{err}");
        let pid: u32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(
            wait_ended(pid),
            "the grandchild sleep {pid} outlived the timeout"
        );
    }

    #[test]
    fn a_grandchild_holding_the_output_counts_against_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        // sh ends at once; its sleep keeps stdout open.
        let script = format!("sleep 60 & echo $! > {}", pid_file.display());
        let started = Instant::now();
        let err = System
            .run(
                &CommandLine::new("sh", ["-c", &script]),
                Duration::from_millis(500),
            )
            .unwrap_err();
        assert!(matches!(err, ProcessError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(30));
        let pid: u32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(wait_ended(pid), "the sleep {pid} outlived the timeout");
    }

    #[test]
    fn output_beyond_the_cap_stops_the_child() {
        let cmd = CommandLine::new("sh", ["-c", "yes"]).max_stdout(1000);
        let err = System.run(&cmd, Duration::from_secs(20)).unwrap_err();
        assert!(
            matches!(err, ProcessError::TooMuchOutput { limit: 1000, .. }),
            "{err}"
        );
        let cmd = CommandLine::new("sh", ["-c", "printf 0123456789"]).max_stdout(10);
        let out = System.run(&cmd, Duration::from_secs(20)).unwrap();
        assert_eq!(out.stdout, b"0123456789");
    }

    #[test]
    fn orphans_of_a_killed_run_are_stopped_but_never_a_stranger() {
        use std::os::unix::fs::PermissionsExt;
        use std::os::unix::process::CommandExt;
        let dir = tempfile::tempdir().unwrap();
        let record = dir.path().join("children");
        // A script (borg is one): its leader runs the interpreter.
        let script = dir.path().join("fakeborg");
        std::fs::write(&script, "#!/bin/sh\nsleep 60\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let start = |program: &std::path::Path, arg: &str| {
            std::process::Command::new(program)
                .arg(arg)
                .process_group(0)
                .spawn()
                .unwrap()
        };
        // A run's children, in groups of their own, left running; and a stranger.
        let mut orphan = start("sleep".as_ref(), "60");
        let mut script_orphan = start(&script, "x");
        let mut stranger = start("sleep".as_ref(), "61");
        // Until they have exec'd, they still look like this test.
        let deadline = Instant::now() + Duration::from_secs(10);
        let looks =
            |pid: u32, name: &str| process_names(pid).is_some_and(|n| n.iter().any(|n| n == name));
        while !(looks(orphan.id(), "sleep")
            && looks(stranger.id(), "sleep")
            && looks(script_orphan.id(), "fakeborg"))
        {
            assert!(Instant::now() < deadline, "the children never started");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::fs::write(
            &record,
            format!(
                "{} sleep\n{} fakeborg\n{} borg\nnonsense\n",
                orphan.id(),
                script_orphan.id(),
                stranger.id()
            ),
        )
        .unwrap();
        let stopped = stop_orphans(&record, &process_names);
        assert_eq!(
            stopped,
            [
                (orphan.id(), "sleep".to_owned()),
                (script_orphan.id(), "fakeborg".to_owned())
            ]
        );
        assert!(orphan.wait().unwrap().signal().is_some());
        assert!(script_orphan.wait().unwrap().signal().is_some());
        assert!(
            stranger.try_wait().unwrap().is_none(),
            "a stranger was killed"
        );
        stranger.kill().unwrap();
        stranger.wait().unwrap();
        assert!(!record.exists());
        assert!(stop_orphans(&record, &process_names).is_empty());
    }

    #[test]
    fn standard_error_lines_reach_the_caller_while_the_child_runs() {
        let dir = tempfile::tempdir().unwrap();
        let go = dir.path().join("go");
        // The child ends only once the caller has seen its first line.
        let script = format!(
            "echo ready >&2; while [ ! -e '{}' ]; do sleep 0.05; done; echo done >&2; echo out",
            go.display()
        );
        let mut seen = Vec::new();
        let out = System
            .run_with_lines(
                &CommandLine::new("sh", ["-c", &script]),
                Duration::from_secs(20),
                &mut |line| {
                    if line == "ready" {
                        std::fs::write(&go, "").unwrap();
                    }
                    seen.push(line.to_owned());
                },
            )
            .unwrap();
        assert_eq!(seen, ["ready", "done"]);
        assert_eq!(out.stderr, b"ready\ndone\n");
        assert_eq!(out.stdout, b"out\n");
    }

    #[test]
    fn streamed_standard_error_past_the_cap_is_kept_short_not_refused() {
        let lines = MAX_STDERR / 4 + 1000;
        let script = format!("yes abc | head -n {lines} >&2");
        let mut count = 0;
        let out = System
            .run_with_lines(
                &CommandLine::new("sh", ["-c", &script]),
                Duration::from_secs(20),
                &mut |line| {
                    assert_eq!(line, "abc");
                    count += 1;
                },
            )
            .unwrap();
        assert!(out.status.success());
        assert_eq!(count, lines);
        assert_eq!(out.stderr.len(), MAX_STDERR);
        // Without streaming, that much is refused.
        let err = System
            .run(
                &CommandLine::new("sh", ["-c", &script]),
                Duration::from_secs(20),
            )
            .unwrap_err();
        assert!(matches!(err, ProcessError::TooMuchOutput { .. }), "{err}");
    }

    #[test]
    fn a_streamed_child_still_times_out_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!(
            "echo started >&2; sleep 60 & echo $! > {}; wait",
            pid_file.display()
        );
        let mut seen = 0;
        let err = System
            .run_with_lines(
                &CommandLine::new("sh", ["-c", &script]),
                Duration::from_millis(500),
                &mut |_| seen += 1,
            )
            .unwrap_err();
        assert!(matches!(err, ProcessError::Timeout { .. }), "{err}");
        assert_eq!(seen, 1);
        let pid: u32 = std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert!(wait_ended(pid), "the sleep {pid} outlived the timeout");
    }

    #[test]
    fn a_missing_program_is_named() {
        let err = System
            .run(
                &CommandLine::new("/nonexistent/tool", ["x"]),
                Duration::from_secs(1),
            )
            .unwrap_err();
        assert!(err.to_string().contains("/nonexistent/tool"), "{err}");
    }
}
