//! Soak: months of runs on a simulated clock (`PHOTOS_BACKUP_NOW`) against
//! a synthetic library that grows and changes (new photos, edits, imports of
//! old photos, originals that reach the Mac days late from iCloud,
//! deletions), with the real remote stack on loopback (sshd, SSHFS,
//! gocryptfs, borg over ssh) and random faults: sshd down, the network cut
//! mid-mirror, SIGKILL at a random instant, a dead mount left behind, a full
//! disk, a borg lock held by another client; and the faults of a FUSE stack
//! that stops (issue 12): SIGKILL of the SSHFS daemon, the gocryptfs daemon
//! or both, before a run or during its mirror; SIGTERM of a run while its
//! SSHFS is dead; SIGSTOP of SSHFS (frozen, not dead) during the mirror; a
//! run lock held by a live process past the longest run.
//!
//! After every run the invariants are checked by the harness, not read
//! from the program's output: the run ended within a bounded time, nothing
//! is left in `D` state, no mount is stacked, and a run that failed has
//! recorded the failure (`status.json`) and notified it; then from the
//! ledger, staging, the decrypted remote view and `borg list`, every photo
//! is staged, on the remote view or in a verified archive, byte for byte.
//! Every breach is a violation, and the goal is none. `short_soak` runs in CI (every fault kind at least
//! once); `PB_SOAK_DAYS`, `PB_SOAK_STEP_MINUTES`, `PB_SOAK_SEED`,
//! `PB_SOAK_EVENTS_PER_DAY`, `PB_SOAK_FAULT_PROBABILITY`,
//! `PB_SOAK_REMOTE_CHECK_EVERY` make it the long one (`scripts/soak.sh`).
//!
//! Trashed assets: the export skips them (nothing new is staged for an asset
//! in the trash), but what was staged before stays staged and goes into the
//! month's archive like any other file. So the invariant on the library is
//! stated for assets not in the trash; the invariant on the ledger (every
//! recorded file is staged or in a verified archive) holds for all.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeDelta, TimeZone, Utc};
use common::borg::Repo;
use common::remote::{children_of, daemon_of, kill, processes, TestServer};
use common::setup::{tree, Setup};
use common::timeline::Growing;
use common::tmpfs::Tmpfs;
use common::uuid;
use photos_backup::archive::period::Month;
use photos_backup::ledger::Step;
use photos_backup::remote::mount::{self, MountEnv};
use synthetic::{AssetSpec, Edit, SplitMix64};

const LIB: &str = "soak";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    SshdDown,
    NetworkCut,
    Kill,
    /// SSHFS daemon killed before the run (the view above it dies too).
    DeadMount,
    DiskFull,
    /// gocryptfs daemon killed before the run, SSHFS alive.
    DeadView,
    /// Both daemons killed before the run: two "not connected" mount points.
    DeadBoth,
    /// SSHFS, gocryptfs or both killed during the run's mirror.
    DaemonsKilledMidRun,
    /// SSHFS killed while the run has the volume mounted, then SIGTERM.
    TermWhileDead,
    /// SSHFS stopped (SIGSTOP) during the mirror: the deadline must end it.
    FrozenSshfs,
    /// The run lock held by a live process since long before the run.
    StuckLock,
    BorgLock,
}

const FAULTS: [Fault; 12] = [
    Fault::SshdDown,
    Fault::NetworkCut,
    Fault::Kill,
    Fault::DeadMount,
    Fault::DiskFull,
    Fault::DeadView,
    Fault::DeadBoth,
    Fault::DaemonsKilledMidRun,
    Fault::TermWhileDead,
    Fault::FrozenSshfs,
    Fault::StuckLock,
    Fault::BorgLock,
];

/// The soak's run deadlines (`[run]`): short, so a frozen mount costs
/// seconds, long enough for any healthy run.
const DEADLINE_SECONDS: u64 = 30;
const ARCHIVE_DEADLINE_SECONDS: u64 = 120;

/// The longest a run may take, as the harness sees it: the archive
/// deadline, the signal handler's release bound, and a margin.
const RUN_BOUND: Duration = Duration::from_secs(ARCHIVE_DEADLINE_SECONDS + 15 + 45);

#[derive(Debug, Clone)]
struct Params {
    seed: u64,
    start: DateTime<Utc>,
    days: u32,
    step_minutes: u32,
    /// Library events per simulated day (spread over the runs).
    events_per_day: f64,
    /// Chance that a run gets a fault.
    fault_probability: f64,
    /// Chance that a run is followed by two more, 5 minutes apart.
    burst_probability: f64,
    /// Mount and compare the remote view after every Nth successful run.
    remote_check_every: u32,
    /// Force each fault kind once if chance has not picked it.
    force_every_fault: bool,
}

impl Params {
    /// About 6 weeks at 18-hour steps with bursts: two month ends.
    fn short() -> Self {
        Self {
            seed: 0x50AC_2026,
            start: Utc.with_ymd_and_hms(2026, 1, 20, 9, 0, 0).unwrap(),
            days: 42,
            step_minutes: 18 * 60,
            events_per_day: 3.0,
            fault_probability: 0.12,
            burst_probability: 0.2,
            remote_check_every: 1,
            force_every_fault: true,
        }
    }

    /// `short`, with what the environment overrides.
    fn with_env(mut self) -> Self {
        fn var<T: std::str::FromStr>(name: &str) -> Option<T> {
            let text = std::env::var(name).ok()?;
            Some(
                text.parse()
                    .unwrap_or_else(|_| panic!("{name}={text:?} is not a number")),
            )
        }
        if let Some(v) = var::<u32>("PB_SOAK_DAYS") {
            self.days = v;
            self.fault_probability = 0.02;
            self.remote_check_every = 20;
        }
        if let Some(v) = var::<u32>("PB_SOAK_STEP_MINUTES") {
            self.step_minutes = v;
            if v <= 60 {
                self.burst_probability = 0.0;
            }
        }
        if let Some(v) = var("PB_SOAK_SEED") {
            self.seed = v;
        }
        if let Some(v) = var("PB_SOAK_EVENTS_PER_DAY") {
            self.events_per_day = v;
        }
        if let Some(v) = var("PB_SOAK_FAULT_PROBABILITY") {
            self.fault_probability = v;
        }
        if let Some(v) = var("PB_SOAK_REMOTE_CHECK_EVERY") {
            self.remote_check_every = v;
        }
        self
    }
}

#[derive(Default)]
struct Report {
    runs: BTreeMap<String, u32>,
    faults: BTreeMap<Fault, u32>,
    /// (fault, how the run ended) -> count.
    fault_outcomes: BTreeMap<(Fault, String), u32>,
    events: BTreeMap<&'static str, u32>,
    violations: Vec<String>,
    archives: usize,
    remote_checks: u32,
    /// The longest run, wall time.
    longest_run: Duration,
    /// Failed runs checked for a recorded and notified failure.
    failures_checked: u32,
}

/// How one run ended.
struct Ran {
    /// Exit code; `None` when we killed it.
    code: Option<i32>,
    output: String,
}

impl Ran {
    fn label(&self) -> String {
        self.code
            .map_or_else(|| "killed".to_owned(), |c| c.to_string())
    }
}

struct World {
    params: Params,
    rng: SplitMix64,
    // Field order is drop order: the tmpfs goes before staging's temp dir.
    disk: Tmpfs,
    server: TestServer,
    setup: Setup,
    repo: Repo,
    lib: Growing,
    _tmp: tempfile::TempDir,
    next_n: u32,
    /// Originals in iCloud and when they reach the Mac.
    arrivals: Vec<(DateTime<Utc>, String)>,
    event_budget: f64,
    default_threshold: NaiveDate,
    report: Report,
    run_index: u32,
    ok_runs: u32,
    /// Typical length of a successful run, in ms.
    run_ms: u64,
    /// Where the notification command writes `EVENT|MESSAGE` lines.
    notified: std::path::PathBuf,
}

/// What `run_until` does next.
enum Watch {
    Go,
    Kill,
    Done,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl World {
    fn new(params: Params) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let server = TestServer::start();
        let repo = Repo::on_server(&server);
        let mut lib = Growing::new(tmp.path(), "Soak");
        let mut rng = SplitMix64::new(params.seed);
        let month_start = Month::of(params.start.date_naive()).first_day();
        let first = Utc
            .from_utc_datetime(&month_start.and_hms_opt(8, 0, 0).unwrap())
            .max(params.start - TimeDelta::days(5));
        let mut next_n = 1;
        for _ in 0..12 {
            let at = first + TimeDelta::minutes(rng.below(4 * 24 * 60) as i64);
            lib.add(AssetSpec {
                added: at,
                ..AssetSpec::photo(&uuid(next_n), at)
            });
            next_n += 1;
        }
        lib.write();
        let mut setup = Setup::new();
        setup.add_library(LIB, &lib.path);
        setup.set_threshold(&month_start.to_string());
        let disk = Tmpfs::mount(&setup.staging(), "1g");
        let mut world = Self {
            rng,
            disk,
            server,
            setup,
            repo,
            lib,
            _tmp: tmp,
            next_n,
            arrivals: Vec::new(),
            event_budget: 0.0,
            default_threshold: month_start,
            report: Report::default(),
            run_index: 0,
            ok_runs: 0,
            run_ms: 1000,
            notified: std::path::PathBuf::new(),
            params,
        };
        world.configure();
        world
    }

    /// Writes the config for the server as it is now (its port may move).
    fn configure(&mut self) {
        let borg = self.repo.config_on(
            &self.server,
            "lock_wait_seconds = 2\nmax_pending_days = 10\nverify = \"content\"",
        );
        self.setup.set_extra(format!(
            "{}\n{borg}\n[run]\ndeadline_seconds = {DEADLINE_SECONDS}\n\
             archive_deadline_seconds = {ARCHIVE_DEADLINE_SECONDS}\n",
            self.server.config_toml(self.setup.root())
        ));
        self.notified = self.setup.notify_log();
    }

    fn violation(&mut self, now: DateTime<Utc>, what: &str) {
        let line = format!("run {} at {}: {what}", self.run_index, stamp(now));
        eprintln!("VIOLATION {line}");
        self.report.violations.push(line);
    }

    fn count_event(&mut self, kind: &'static str) {
        *self.report.events.entry(kind).or_default() += 1;
    }

    fn new_photo(&mut self, created: DateTime<Utc>, added: DateTime<Utc>) -> AssetSpec {
        let n = self.next_n;
        self.next_n += 1;
        AssetSpec {
            added,
            ..AssetSpec::photo(&uuid(n), created)
        }
    }

    /// A random asset not in the trash (the initial ones included).
    fn live_asset(&mut self) -> Option<String> {
        let live: Vec<String> = self
            .lib
            .specs
            .iter()
            .filter(|s| !s.trashed)
            .map(|s| s.uuid.clone())
            .collect();
        (!live.is_empty()).then(|| self.rng.pick(&live).clone())
    }

    /// The library's events due by `now`; true when it changed.
    fn library_events(&mut self, now: DateTime<Utc>, step: TimeDelta) -> bool {
        let mut changed = false;
        let due: Vec<String> = self
            .arrivals
            .iter()
            .filter(|(at, _)| *at <= now)
            .map(|(_, u)| u.clone())
            .collect();
        self.arrivals.retain(|(at, _)| *at > now);
        for u in due {
            self.lib.spec(&u).cloud_only = false;
            self.lib.spec(&u).modified = Some(now);
            self.count_event("original arrived from iCloud");
            changed = true;
        }
        self.event_budget += self.params.events_per_day * step.num_minutes() as f64 / 1440.0;
        while self.event_budget >= 1.0
            || (self.event_budget > 0.0 && self.rng.chance(self.event_budget))
        {
            self.event_budget -= 1.0;
            self.one_event(now);
            changed = true;
        }
        self.event_budget = self.event_budget.max(0.0);
        changed
    }

    fn one_event(&mut self, now: DateTime<Utc>) {
        let roll = self.rng.below(100);
        if roll < 40 {
            for _ in 0..=self.rng.below(3) {
                let created = now - TimeDelta::minutes(self.rng.below(48 * 60) as i64);
                let p = self.new_photo(created, now);
                self.lib.add(p);
                self.count_event("new photo");
            }
        } else if roll < 55 {
            if let Some(u) = self.live_asset() {
                let spec = self.lib.spec(&u);
                spec.edit = Some(Edit {
                    at: now,
                    external: false,
                });
                spec.modified = Some(now);
                self.count_event("edit");
            }
        } else if roll < 70 {
            let years = 1 + self.rng.below(10) as i64;
            let created = now - TimeDelta::days(365 * years + self.rng.below(300) as i64);
            let p = self.new_photo(created, now);
            self.lib.add(p);
            self.count_event("import of an old photo");
        } else if roll < 85 {
            let created = now - TimeDelta::minutes(self.rng.below(24 * 60) as i64);
            let mut p = self.new_photo(created, now);
            p.cloud_only = true;
            let arrives = now + TimeDelta::hours(12 + self.rng.below(5 * 24) as i64);
            self.arrivals.push((arrives, p.uuid.clone()));
            self.lib.add(p);
            self.count_event("iCloud-only original");
        } else if let Some(u) = self.live_asset() {
            let spec = self.lib.spec(&u);
            spec.trashed = true;
            spec.modified = Some(now);
            self.arrivals.retain(|(_, a)| *a != u);
            self.count_event("deletion");
        }
    }

    /// Photos big enough that the mirror (or the disk) takes notice.
    fn bulk_photos(&mut self, now: DateTime<Utc>, n: u32, size: u64) {
        for _ in 0..n {
            let mut p = self.new_photo(now - TimeDelta::hours(1), now);
            p.size = Some(size);
            self.lib.add(p);
            self.count_event("bulk photo (fault load)");
        }
        self.lib.write();
    }

    fn run(&mut self, now: DateTime<Utc>) -> Ran {
        let started = Instant::now();
        let ran = self.run_until(now, |_| Watch::Go);
        if ran.code == Some(0) {
            // A moving average of successful runs' length, to aim kills.
            let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.run_ms = (self.run_ms * 3 + ms) / 4;
        }
        ran
    }

    /// A spawned run, watched every few ms by `watch` (until it says
    /// `Done`): its process group is killed on `Watch::Kill`. A run that
    /// has not ended within `RUN_BOUND` is a violation (and killed).
    fn run_until(&mut self, now: DateTime<Utc>, mut watch: impl FnMut(&mut Self) -> Watch) -> Ran {
        let t = stamp(now);
        let started = Instant::now();
        let mut child = self.setup.spawn_with(&[("PHOTOS_BACKUP_NOW", t.as_str())]);
        let group = child.id();
        let mut watching = true;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.report.longest_run = self.report.longest_run.max(started.elapsed());
                return Ran {
                    code: status.code(),
                    output: self.setup.spawned_output(),
                };
            }
            if watching {
                match watch(self) {
                    Watch::Kill => break,
                    Watch::Done => watching = false,
                    Watch::Go => {}
                }
            }
            if started.elapsed() > RUN_BOUND {
                let d = self.d_state();
                self.violation(
                    now,
                    &format!(
                        "the run did not end within {} s (in D state: {d:?})",
                        RUN_BOUND.as_secs()
                    ),
                );
                break;
            }
            std::thread::sleep(Duration::from_millis(3));
        }
        kill_group(group);
        let status = child.wait().unwrap();
        wait_group_gone(group);
        Ran {
            code: status.code(),
            output: self.setup.spawned_output(),
        }
    }

    /// Kills `victims` (`sshfs` on the cipher mount, `gocryptfs` on the plain one).
    fn kill_daemons(&mut self, victims: &[&str], signal: &str) -> Vec<u32> {
        let remote = self.server.remote();
        let mut pids = Vec::new();
        for v in victims {
            let point = if *v == "sshfs" {
                &remote.cipher_mount
            } else {
                &remote.plain_mount
            };
            if let Some(pid) = daemon_of(v, point) {
                kill(pid, signal);
                pids.push(pid);
            }
        }
        pids
    }

    /// The harness mounts the volume, then kills `victims`: what a crash,
    /// an OOM kill or a dropped connection leaves for the next run.
    fn leave_dead(&mut self, now: DateTime<Utc>, victims: &[&str]) {
        let remote = self.server.remote();
        let system = photos_backup::process::System;
        match mount::ensure_mounted(
            &remote,
            &self.server.password(),
            &system,
            &MountEnv::on(&photos_backup::host::Host::current()),
        ) {
            Ok(_) => {
                self.kill_daemons(victims, "KILL");
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => self.violation(now, &format!("the harness could not mount: {e}")),
        }
    }

    /// A run watched until `enough` files reached the server (the mirror is
    /// under way), then `act` once.
    fn during_mirror(&mut self, now: DateTime<Utc>, mut act: impl FnMut(&mut Self)) -> Ran {
        let size = 600_000 + self.rng.below(900_000);
        self.bulk_photos(now, 12, size);
        let before = file_count(&self.server.cipher_dir());
        let cipher_mount = self.server.remote().cipher_mount;
        self.run_until(now, |w| {
            if file_count(&w.server.cipher_dir()) < before + 3
                || daemon_of("sshfs", &cipher_mount).is_none()
            {
                return Watch::Go;
            }
            act(w);
            Watch::Done
        })
    }

    /// Processes of this soak in uninterruptible sleep (`D`).
    fn d_state(&self) -> Vec<(u32, Vec<String>)> {
        self.our_processes()
            .into_iter()
            .filter(|(pid, _)| {
                std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                    stat.rsplit_once(')')
                        .is_some_and(|(_, rest)| rest.trim_start().starts_with('D'))
                })
            })
            .collect()
    }

    /// Holds the run lock from a live process (its group), saying it has
    /// held it since `since`.
    fn hold_lock(&self, since: DateTime<Utc>) -> std::process::Child {
        use std::os::unix::process::CommandExt;
        std::fs::create_dir_all(self.setup.state()).unwrap();
        let lock = self.setup.state().join("run.lock");
        let holder = std::process::Command::new("flock")
            .arg(&lock)
            .args(["sleep", "3600"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap();
        std::fs::write(&lock, format!("{} {}\n", holder.id(), stamp(since))).unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while lock_free(&lock) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        holder
    }

    /// One run at `now` with `fault` (the caller stopped sshd already for
    /// `SshdDown`).
    fn run_with_fault(&mut self, now: DateTime<Utc>, fault: Option<Fault>) -> Ran {
        match fault {
            None | Some(Fault::SshdDown) => self.run(now),
            Some(Fault::Kill) => {
                // A random instant within a typical run's length.
                let typical = self.run_ms.max(200);
                let after = Duration::from_millis(self.rng.below(typical * 5 / 4));
                let started = Instant::now();
                self.run_until(now, |_| {
                    if started.elapsed() >= after {
                        Watch::Kill
                    } else {
                        Watch::Go
                    }
                })
            }
            Some(Fault::NetworkCut) => self.during_mirror(now, |w| {
                w.kill_daemons(&["sshfs"], "KILL");
            }),
            Some(Fault::DeadMount) => {
                self.leave_dead(now, &["sshfs"]);
                self.run(now)
            }
            Some(
                f @ (Fault::DeadView
                | Fault::DeadBoth
                | Fault::DaemonsKilledMidRun
                | Fault::FrozenSshfs
                | Fault::TermWhileDead
                | Fault::StuckLock),
            ) => self.fuse_fault(now, f),
            Some(Fault::DiskFull) => {
                self.bulk_photos(now, 6, 300_000);
                let room = (self.disk.used() + 64 * 1024).div_ceil(4096) * 4096;
                self.disk.resize(&room.to_string());
                let ran = self.run(now);
                self.disk.resize("1g");
                ran
            }
            Some(Fault::BorgLock) => {
                let mut holder = self
                    .repo
                    .borg(&["with-lock", &self.repo.location, "sleep", "6"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap();
                let lock = self.server.root().join("server/borg/lock.exclusive");
                let deadline = Instant::now() + Duration::from_secs(30);
                while !lock.exists() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if !lock.exists() {
                    self.violation(now, "borg with-lock never locked");
                }
                let ran = self.run(now);

                let _ = holder.wait();
                ran
            }
        }
    }

    /// One run with a fault of the FUSE stack or the lock (issue 12).
    fn fuse_fault(&mut self, now: DateTime<Utc>, fault: Fault) -> Ran {
        match fault {
            Fault::DeadView => {
                self.leave_dead(now, &["gocryptfs"]);
                self.run(now)
            }
            Fault::DeadBoth => {
                self.leave_dead(now, &["gocryptfs", "sshfs"]);
                self.run(now)
            }
            Fault::DaemonsKilledMidRun => {
                let victims: &[&str] = match self.rng.below(3) {
                    0 => &["sshfs"],
                    1 => &["gocryptfs"],
                    _ => &["gocryptfs", "sshfs"],
                };
                self.count_event(match victims.len() {
                    2 => "both daemons killed mid-run",
                    _ if victims[0] == "sshfs" => "sshfs killed mid-run",
                    _ => "gocryptfs killed mid-run",
                });
                self.during_mirror(now, |w| {
                    w.kill_daemons(victims, "KILL");
                })
            }
            Fault::FrozenSshfs => {
                let mut frozen = Vec::new();
                let ran = self.during_mirror(now, |w| {
                    frozen = w.kill_daemons(&["sshfs"], "STOP");
                });
                // The run is over; the frozen daemon may go now.
                for pid in frozen {
                    kill(pid, "CONT");
                    kill(pid, "KILL");
                }
                ran
            }
            Fault::TermWhileDead => {
                let plain = self.server.remote().plain_mount;
                let cipher = self.server.remote().cipher_mount;
                self.run_until(now, |w| {
                    if daemon_of("gocryptfs", &plain).is_none() {
                        return Watch::Go;
                    }
                    if let Some(pid) = daemon_of("sshfs", &cipher) {
                        kill(pid, "KILL");
                    }
                    std::thread::sleep(Duration::from_millis(50));
                    if let Some(run) = run_pid(&w.setup) {
                        kill(run, "TERM");
                    }
                    Watch::Done
                })
            }
            Fault::StuckLock => {
                let holder = self.hold_lock(now - TimeDelta::days(2));
                let ran = self.run(now);
                photos_backup::process::kill_group(holder.id());
                let mut holder = holder;
                let _ = holder.wait();
                let lock = self.setup.state().join("run.lock");
                let deadline = Instant::now() + Duration::from_secs(20);
                while !lock_free(&lock) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                }
                if ran.code != Some(1) {
                    self.violation(
                        now,
                        &format!("a stuck lock, yet the run exited {}", ran.label()),
                    );
                }
                ran
            }
            _ => unreachable!("not a FUSE fault: {fault:?}"),
        }
    }

    /// Chooses this run's fault.
    fn choose_fault(&mut self, planned_runs: u32, rollover_due: bool) -> Option<Fault> {
        let never = |w: &Self, f: Fault| !w.report.faults.contains_key(&f);
        if self.params.force_every_fault {
            if rollover_due && never(self, Fault::BorgLock) {
                // Originals still in iCloud would hold the month (and keep
                // borg away): they arrive now, so the lock is met.
                let arrived: Vec<String> = self.arrivals.drain(..).map(|(_, u)| u).collect();
                for u in arrived {
                    self.lib.spec(&u).cloud_only = false;
                    self.count_event("original arrived from iCloud");
                }
                self.lib.write();
                return Some(Fault::BorgLock);
            }
            // The others, spread over the first 80% of the runs.
            let others = &FAULTS[..FAULTS.len() - 1];
            let slot = (planned_runs * 8 / 10 / others.len() as u32).max(1);
            if self.run_index > 0 && self.run_index.is_multiple_of(slot) {
                let missing = others.iter().copied().find(|f| never(self, *f));
                if missing.is_some() {
                    return missing;
                }
            }
        }
        self.rng
            .chance(self.params.fault_probability)
            .then(|| *self.rng.pick(&FAULTS))
    }

    /// Counts the run; `new_fault`: its fault starts here (an outage of
    /// sshd lasts several runs and counts once).
    fn record(&mut self, fault: Option<Fault>, new_fault: bool, ran: &Ran) {
        *self.report.runs.entry(ran.label()).or_default() += 1;
        if let Some(f) = fault {
            if new_fault {
                *self.report.faults.entry(f).or_default() += 1;
            }
            *self
                .report
                .fault_outcomes
                .entry((f, ran.label()))
                .or_default() += 1;
        }
    }

    /// The local threshold (the configured default before the first write).
    fn local_threshold(&self) -> NaiveDate {
        std::fs::read_to_string(self.setup.staging().join("date_threshold.txt"))
            .ok()
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or(self.default_threshold)
    }

    /// Every invariant after a run.
    fn check(&mut self, now: DateTime<Utc>, fault: Option<Fault>, sshd_down: bool, ran: &Ran) {
        let start = ran.output.len().saturating_sub(1500);
        let start = (start..ran.output.len())
            .find(|i| ran.output.is_char_boundary(*i))
            .unwrap_or(0);
        let tail = &ran.output[start..];
        match ran.code {
            Some(0 | 1 | 75) | None => {}
            Some(143) if fault == Some(Fault::TermWhileDead) => {}
            Some(c) => self.violation(now, &format!("exit code {c}: {tail}")),
        }
        self.check_stopped_cleanly(now);
        if ran.code == Some(1) {
            self.check_failure_told(now);
        }
        if sshd_down && ran.code != Some(75) {
            self.violation(now, &format!("sshd down but exit {}: {tail}", ran.label()));
        }
        if fault.is_none() && !sshd_down && ran.code != Some(0) {
            self.violation(
                now,
                &format!("fault-free run exited {}: {tail}", ran.label()),
            );
        }
        let killed = ran.code.is_none();
        self.check_ledger(now, killed);
        if !killed {
            self.check_leftovers(now);
        }
        if ran.code == Some(0) {
            self.ok_runs += 1;
            self.check_success(now);
            if self.ok_runs.is_multiple_of(self.params.remote_check_every) {
                self.check_remote(now);
            }
        }
    }

    /// Every file the ledger has is staged with its hash, or purged into a
    /// verified archive that lists it with that hash.
    fn check_ledger(&mut self, now: DateTime<Utc>, killed: bool) {
        let Ok(Some(ledger)) = photos_backup::ledger::Ledger::open_existing_read_only(
            &self.setup.state().join("ledger.sqlite"),
        ) else {
            return;
        };
        let mut problems = Vec::new();
        let mut rollovers = BTreeMap::new();
        for r in ledger.rollovers().unwrap() {
            let files = ledger.rollover_files(LIB, &r.archive).unwrap();
            rollovers.insert(r.archive.clone(), (r, files));
        }
        for rec in ledger.file_records(LIB).unwrap() {
            let f = &rec.file;
            if rec.purged_at.is_none() {
                let path = self.setup.staging().join(&f.path);
                match photos_backup::export::copy::hash_file(&path) {
                    Ok(h) if h == f.hash => {}
                    // A kill between a rename and its record: the next run
                    // records what is there.
                    Ok(_) if killed => {}
                    Ok(h) => problems.push(format!(
                        "{} {} staged with hash {h}, ledger says {}",
                        f.uuid, f.role, f.hash
                    )),
                    Err(e) => problems.push(format!(
                        "{} {} ({}) neither staged ({e}) nor purged",
                        f.uuid, f.role, f.path
                    )),
                }
            } else {
                let held = f
                    .archive
                    .as_ref()
                    .and_then(|a| rollovers.get(a))
                    .is_some_and(|(r, files)| {
                        r.verified_at.is_some()
                            && files.iter().any(|af| {
                                af.uuid == f.uuid
                                    && af.role == f.role
                                    && af.path == f.path
                                    && af.hash == f.hash
                            })
                    });
                if !held {
                    problems.push(format!(
                        "{} {} ({}) purged but in no verified archive (archive {:?})",
                        f.uuid, f.role, f.path, f.archive
                    ));
                }
            }
        }
        self.report.archives = rollovers
            .values()
            .filter(|(r, _)| r.verified_at.is_some())
            .count();
        for p in problems {
            self.violation(now, &p);
        }
    }

    /// Nothing of ours in `D` state, no mount point mounted twice: after
    /// every run, killed ones included.
    fn check_stopped_cleanly(&mut self, now: DateTime<Utc>) {
        let mut d = self.d_state();
        let deadline = Instant::now() + Duration::from_secs(5);
        while !d.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            d = self.d_state();
        }
        if !d.is_empty() {
            self.violation(now, &format!("processes in D state: {d:?}"));
        }
        let mounts = self.server.mounts();
        let mut points: Vec<_> = mounts.iter().map(|m| m.mount_point.clone()).collect();
        points.sort();
        let before = points.len();
        points.dedup();
        if points.len() != before {
            self.violation(now, &format!("a stacked mount: {mounts:?}"));
        }
    }

    /// A failed run recorded the failure in `status.json` (this run's) and
    /// the user has been told: the last failure/reminder/recovered
    /// notification is a failure or a reminder.
    fn check_failure_told(&mut self, now: DateTime<Utc>) {
        self.report.failures_checked += 1;
        let status: Option<serde_json::Value> =
            std::fs::read_to_string(self.setup.state().join("status.json"))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok());
        let recorded = status.as_ref().is_some_and(|s| {
            s["last_run"]["outcome"] == "failed" && s["last_run"]["started"] == stamp(now)
        });
        if !recorded {
            self.violation(now, &format!("a failure not recorded: {status:?}"));
        }
        let sent = std::fs::read_to_string(&self.notified).unwrap_or_default();
        let last = sent
            .lines()
            .filter_map(|l| l.split_once('|').map(|(event, _)| event))
            .rfind(|e| ["failure", "reminder", "recovered"].contains(e));
        if !matches!(last, Some("failure" | "reminder")) {
            self.violation(now, &format!("a failure not notified (last: {last:?})"));
        }
    }

    /// No temp files in staging, no mounts, no processes of ours.
    fn check_leftovers(&mut self, now: DateTime<Utc>) {
        let temps: Vec<String> = tree(&self.setup.staging())
            .into_keys()
            .filter(|p| p.contains(".pbtmp."))
            .collect();
        if !temps.is_empty() {
            self.violation(now, &format!("temp files left in staging: {temps:?}"));
        }
        let mounts = self.server.mounts();
        if !mounts.is_empty() {
            let points: Vec<_> = mounts.iter().map(|m| m.mount_point.clone()).collect();
            self.violation(now, &format!("mounts left: {points:?}"));
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut left = self.our_processes();
        while !left.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
            left = self.our_processes();
        }
        if !left.is_empty() {
            self.violation(now, &format!("processes left: {left:?}"));
        }
    }

    /// photos-backup, borg, ssh, sshfs or gocryptfs processes of this soak,
    /// and sessions of its sshd (which serve borg or sftp).
    fn our_processes(&self) -> Vec<(u32, Vec<String>)> {
        let roots = [
            self.setup.root().display().to_string(),
            self.server.root().display().to_string(),
        ];
        let sessions: Vec<u32> = self.server.sshd_pid().map_or_else(Vec::new, children_of);
        processes()
            .into_iter()
            .filter(|(pid, args)| {
                let name = args
                    .first()
                    .and_then(|p| Path::new(p).file_name())
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let tool = ["photos-backup", "borg", "ssh", "sshfs", "gocryptfs"]
                    .contains(&name.as_str())
                    || name.starts_with("photos_backup");
                let ours = args.iter().any(|a| roots.iter().any(|r| a.contains(r)));
                (tool && ours) || sessions.contains(pid)
            })
            .collect()
    }

    /// After a successful run: everything mirrored, every local original of
    /// an asset not in the trash recorded, every iCloud-only one pending,
    /// the threshold where the archives say.
    fn check_success(&mut self, now: DateTime<Utc>) {
        let ledger = self.setup.ledger();
        let unmirrored = ledger.unmirrored(LIB).unwrap();
        if !unmirrored.is_empty() {
            let paths: Vec<_> = unmirrored.iter().map(|f| f.path.clone()).collect();
            self.violation(now, &format!("not mirrored after a success: {paths:?}"));
        }
        let originals: std::collections::BTreeSet<String> = ledger
            .files(LIB)
            .unwrap()
            .into_iter()
            .filter(|f| f.role == "original")
            .map(|f| f.uuid)
            .collect();
        let pending: std::collections::BTreeSet<String> = ledger
            .pending(LIB)
            .unwrap()
            .into_iter()
            .map(|p| p.uuid)
            .collect();
        let mut problems = Vec::new();
        for s in self.lib.specs.iter().filter(|s| !s.trashed) {
            if s.cloud_only {
                if !pending.contains(&s.uuid) && !originals.contains(&s.uuid) {
                    problems.push(format!("{} is only in iCloud and not pending", s.uuid));
                }
            } else if !originals.contains(&s.uuid) {
                problems.push(format!("{}: its local original is not recorded", s.uuid));
            }
        }
        let expected = ledger
            .archived_through(LIB)
            .unwrap()
            .map_or(self.default_threshold, |m| m.next().first_day());
        let local = std::fs::read_to_string(self.setup.staging().join("date_threshold.txt"))
            .map_or_else(
                |_| self.default_threshold.to_string(),
                |t| t.trim().to_owned(),
            );
        if local != expected.to_string() {
            problems.push(format!(
                "threshold {local}, but archived through {expected} (exclusive)"
            ));
        }
        if ledger.open_rollover(LIB).unwrap().is_some() {
            problems.push("a rollover left open after a success".into());
        }
        for p in problems {
            self.violation(now, &p);
        }
    }

    /// The decrypted remote view holds exactly staging, same content, and
    /// the same threshold.
    fn check_remote(&mut self, now: DateTime<Utc>) {
        self.report.remote_checks += 1;
        let remote = self.server.remote();
        let env = MountEnv::on(&photos_backup::host::Host::current());
        let system = photos_backup::process::System;
        let mounted = match mount::ensure_mounted(&remote, &self.server.password(), &system, &env) {
            Ok(m) => m,
            Err(e) => return self.violation(now, &format!("cannot mount the remote view: {e}")),
        };
        let mut view = tree(&mounted.plain);
        let remote_threshold = view
            .remove("date_threshold.txt")
            .and(std::fs::read_to_string(mounted.plain.join("date_threshold.txt")).ok());
        view.remove("error.log");
        let mut staged = tree(&self.setup.staging());
        let local_threshold = staged
            .remove("date_threshold.txt")
            .and(std::fs::read_to_string(self.setup.staging().join("date_threshold.txt")).ok());
        let mut problems = Vec::new();
        if remote_threshold != local_threshold {
            problems.push(format!(
                "remote threshold {remote_threshold:?}, local {local_threshold:?}"
            ));
        }
        let only_remote: Vec<_> = view.keys().filter(|p| !staged.contains_key(*p)).collect();
        let only_local: Vec<_> = staged.keys().filter(|p| !view.contains_key(*p)).collect();
        if !only_remote.is_empty() || !only_local.is_empty() {
            problems.push(format!(
                "remote view differs from staging: only remote {only_remote:?}, only local {only_local:?}"
            ));
        }
        let hash = photos_backup::export::copy::hash_file;
        for p in staged.keys().filter(|p| view.contains_key(*p)) {
            if hash(&mounted.plain.join(p)).ok() != hash(&self.setup.staging().join(p)).ok() {
                problems.push(format!("{p} differs on the remote volume"));
            }
        }
        if let Err(e) = mount::unmount(&remote, &system, &env) {
            problems.push(format!("cannot unmount the remote view: {e}"));
        }
        for p in problems {
            self.violation(now, &p);
        }
    }

    /// At the end: every archive borg lists is one the ledger knows, holding
    /// exactly the files the ledger says.
    fn check_archives(&mut self, now: DateTime<Utc>) {
        let ledger = self.setup.ledger();
        let in_borg = self.repo.archives();
        let mut known = Vec::new();
        for r in ledger.rollovers().unwrap() {
            if r.step < Step::Created {
                continue;
            }
            known.push(r.archive.clone());
            let files: Vec<String> = ledger
                .rollover_files(LIB, &r.archive)
                .unwrap()
                .into_iter()
                .map(|f| f.path)
                .collect();
            if !in_borg.contains(&r.archive) {
                self.violation(now, &format!("archive {} is not in borg", r.archive));
                continue;
            }
            let paths = self.repo.paths(&r.archive);
            if paths != files {
                self.violation(
                    now,
                    &format!(
                        "archive {} holds {} files, the ledger says {}",
                        r.archive,
                        paths.len(),
                        files.len()
                    ),
                );
            }
            if r.step != Step::Purged {
                self.violation(
                    now,
                    &format!("rollover {} ended at {:?}", r.archive, r.step),
                );
            }
        }
        for a in in_borg.iter().filter(|a| !known.contains(a)) {
            self.violation(now, &format!("archive {a} in borg, unknown to the ledger"));
        }
    }
}

/// The pid of the run `setup.spawn_with` started (its process group leader
/// is the binary itself).
fn run_pid(setup: &Setup) -> Option<u32> {
    let config = setup
        .root()
        .join("photos_backup.conf")
        .display()
        .to_string();
    processes().into_iter().find_map(|(pid, args)| {
        let ours = args
            .first()
            .and_then(|p| Path::new(p).file_name())
            .is_some_and(|n| n == "photos-backup");
        (ours && args.contains(&config)).then_some(pid)
    })
}

/// Whether nobody holds the flock on `lock`.
fn lock_free(lock: &Path) -> bool {
    std::process::Command::new("flock")
        .arg("-n")
        .arg(lock)
        .arg("true")
        .status()
        .is_ok_and(|s| s.success())
}

fn file_count(dir: &Path) -> usize {
    walkdir::WalkDir::new(dir).into_iter().count()
}

fn kill_group(group: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{group}")])
        .stderr(std::process::Stdio::null())
        .status();
}

/// Waits until no process of process group `group` is left.
fn wait_group_gone(group: u32) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let alive = processes().into_iter().any(|(pid, _)| {
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|stat| {
                    stat.rsplit_once(')')?
                        .1
                        .split_whitespace()
                        .nth(2)?
                        .parse::<u32>()
                        .ok()
                })
                == Some(group)
        });
        if !alive || Instant::now() > deadline {
            return;
        }
        kill_group(group);
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn soak(params: &Params) -> Report {
    common::borg::require_borg();
    common::remote::require_tools();
    let started = Instant::now();
    let mut w = World::new(params.clone());
    let step = TimeDelta::minutes(i64::from(params.step_minutes));
    let end = params.start + TimeDelta::days(i64::from(params.days));
    let planned_runs =
        u32::try_from((end - params.start).num_minutes()).unwrap() / params.step_minutes.max(1);
    let mut now = params.start;
    let mut sshd_down_left = 0u32;
    let mut burst_left = 0u32;
    while now < end {
        let rollover_due = w.local_threshold() < Month::of(now.date_naive()).first_day();
        let advance = if burst_left > 0 {
            TimeDelta::minutes(5)
        } else {
            step
        };
        if w.library_events(now, advance) {
            w.lib.write();
        }
        let was_down = sshd_down_left > 0;
        let fault = if was_down {
            Some(Fault::SshdDown)
        } else {
            let f = w.choose_fault(planned_runs, rollover_due);
            if f == Some(Fault::SshdDown) {
                w.server.stop();
                sshd_down_left = 1 + w.rng.below(3) as u32;
            }
            f
        };
        let sshd_down = fault == Some(Fault::SshdDown);
        let ran = w.run_with_fault(now, fault);
        w.record(fault, !was_down, &ran);
        w.check(now, fault, sshd_down, &ran);
        if sshd_down {
            sshd_down_left -= 1;
            if sshd_down_left == 0 {
                w.server.restart_same_port();
                w.configure();
            }
        }
        w.run_index += 1;
        if w.run_index.is_multiple_of(100) {
            eprintln!(
                "soak: {} runs, simulated {}, {} violations, {:.0} s",
                w.run_index,
                now.format("%Y-%m-%d %H:%M"),
                w.report.violations.len(),
                started.elapsed().as_secs_f64()
            );
        }
        if burst_left > 0 {
            burst_left -= 1;
            now += TimeDelta::minutes(5);
        } else if w.rng.chance(params.burst_probability) {
            burst_left = 2;
            now += TimeDelta::minutes(5);
        } else {
            now += step;
        }
    }
    // The end: every original arrives, then fault-free runs finish the job.
    let arrived: Vec<String> = w.arrivals.drain(..).map(|(_, u)| u).collect();
    for u in arrived {
        w.lib.spec(&u).cloud_only = false;
        w.lib.spec(&u).modified = Some(now);
        w.count_event("original arrived from iCloud");
    }
    w.lib.write();
    for _ in 0..2 {
        let ran = w.run(now);
        w.record(None, false, &ran);
        w.check(now, None, false, &ran);
        w.run_index += 1;
        now += TimeDelta::minutes(5);
    }
    w.check_remote(now);
    w.check_archives(now);
    print_report(params, &w, started.elapsed());
    std::mem::take(&mut w.report)
}

fn print_report(params: &Params, w: &World, took: Duration) {
    let r = &w.report;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "soak: seed {:#x}, {} days from {} at a {}-minute step, {:.1} events/day, fault p={}",
        params.seed,
        params.days,
        params.start.date_naive(),
        params.step_minutes,
        params.events_per_day,
        params.fault_probability
    );
    let total: u32 = r.runs.values().sum();
    let _ = writeln!(s, "runs: {total} (by exit: {:?})", r.runs);
    let _ = writeln!(s, "faults injected: {:?}", r.faults);
    let _ = writeln!(s, "fault outcomes (fault, exit): {:?}", r.fault_outcomes);
    let _ = writeln!(s, "library events: {:?}", r.events);
    let _ = writeln!(
        s,
        "assets: {} ({} in the trash); archives made: {}; remote views compared: {}",
        w.lib.specs.len(),
        w.lib.specs.iter().filter(|a| a.trashed).count(),
        r.archives,
        r.remote_checks
    );
    let _ = writeln!(
        s,
        "longest run: {:.1} s (bound {} s); failed runs checked recorded and notified: {}",
        r.longest_run.as_secs_f64(),
        RUN_BOUND.as_secs(),
        r.failures_checked
    );
    let _ = writeln!(s, "wall time: {took:.0?}");
    let _ = writeln!(s, "violations: {}", r.violations.len());
    for v in &r.violations {
        let _ = writeln!(s, "  {v}");
    }
    println!("{s}");
}

#[test]
fn short_soak() {
    let params = Params::short().with_env();
    let report = soak(&params);
    let missing: Vec<Fault> = FAULTS
        .iter()
        .copied()
        .filter(|f| !report.faults.contains_key(f))
        .collect();
    assert!(
        missing.is_empty(),
        "fault kinds never injected: {missing:?}"
    );
    assert!(report.archives >= 2, "fewer than two archives made");
    assert_eq!(report.violations, Vec::<String>::new());
}
