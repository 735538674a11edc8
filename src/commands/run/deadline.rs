//! The whole-run deadline. A run that never ends is a backup that stopped
//! without a word: a child or the kernel (a dead FUSE mount) can hold it
//! forever, and its lock then turns every later run into a skip. So a
//! watchdog thread, started once the lock is taken, waits for the run's
//! deadline (`[run] deadline_seconds`, or `archive_deadline_seconds` once
//! the run starts archiving a month) and, past it, acts without ever
//! touching a mount point itself: it kills the children's process groups,
//! aborts and releases the mounts (bounded), records the failure in
//! `status.json`, notifies, and exits with the failure code. Its clock is
//! the monotonic one: the run's own `now` may be simulated.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set once the run starts archiving: the longer deadline applies.
static ARCHIVING: AtomicBool = AtomicBool::new(false);

/// Set once the deadline has passed: the watchdog ends the process.
static EXPIRED: AtomicBool = AtomicBool::new(false);

/// When the watchdog started, and its limits: what a late step reads to end
/// before it (`remaining`).
static STARTED: std::sync::OnceLock<(Instant, crate::config::Limits)> = std::sync::OnceLock::new();

/// Says the run is archiving a month now (it may take `archive_deadline`).
pub(super) fn archiving() {
    ARCHIVING.store(true, Ordering::SeqCst);
}

/// The deadline that applies `elapsed` into the run: `None` while within it.
#[must_use]
fn overdue(elapsed: Duration, limits: &crate::config::Limits, archiving: bool) -> Option<Duration> {
    let limit = if archiving {
        limits.archive_deadline.max(limits.deadline)
    } else {
        limits.deadline
    };
    (elapsed >= limit).then_some(limit)
}

/// Starts the watchdog: past the deadline, `expire(limit)` runs on its
/// thread (it must end the process).
pub(super) fn watch(
    limits: crate::config::Limits,
    expire: impl FnOnce(Duration) + Send + 'static,
) -> std::io::Result<()> {
    let started = Instant::now();
    let _ = STARTED.set((started, limits));
    std::thread::Builder::new()
        .name("deadline".into())
        .spawn(move || loop {
            let archiving = ARCHIVING.load(Ordering::SeqCst);
            if let Some(limit) = overdue(started.elapsed(), &limits, archiving) {
                EXPIRED.store(true, Ordering::SeqCst);
                expire(limit);
                return;
            }
            std::thread::sleep(Duration::from_millis(500));
        })?;
    Ok(())
}

/// The time left before the deadline that applies now; `None` without a
/// watchdog (a dry run, or the cycle called on its own).
pub(super) fn remaining() -> Option<Duration> {
    let (started, limits) = STARTED.get()?;
    let limit = if ARCHIVING.load(Ordering::SeqCst) {
        limits.archive_deadline.max(limits.deadline)
    } else {
        limits.deadline
    };
    Some(limit.saturating_sub(started.elapsed()))
}

/// Whether less than half of the run's deadline is left: optional work
/// (the backfill) is left for a later run, never pushing the run past it.
#[must_use]
pub(super) fn half_gone(limits: &crate::config::Limits) -> bool {
    remaining().is_some_and(|left| left < limits.deadline / 2)
}

/// On the run's way out: once the deadline has passed, the watchdog owns
/// the end of the process (its record, its notification, its exit code).
/// The run, freed by the watchdog killing its children, must not exit under
/// it: that would cut the record short and leave the notification's child
/// running. So it waits, at most `bound`, for the watchdog to exit.
pub(super) fn yield_to_watchdog(bound: Duration) {
    if EXPIRED.load(Ordering::SeqCst) {
        std::thread::sleep(bound);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archive_gets_the_longer_deadline() {
        let limits = crate::config::Limits {
            deadline: Duration::from_secs(45 * 60),
            archive_deadline: Duration::from_secs(240 * 60),
            skip_alert_after: Duration::from_secs(3600),
        };
        let min = |m: u64| Duration::from_secs(m * 60);
        assert_eq!(overdue(min(44), &limits, false), None);
        assert_eq!(overdue(min(45), &limits, false), Some(min(45)));
        assert_eq!(overdue(min(45), &limits, true), None);
        assert_eq!(overdue(min(240), &limits, true), Some(min(240)));
        // An archive deadline set shorter than the run's never shortens it.
        let odd = crate::config::Limits {
            archive_deadline: min(10),
            ..limits
        };
        assert_eq!(overdue(min(20), &odd, true), None);
    }
}
