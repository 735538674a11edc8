//! Leaving cleanly when told to stop. launchd sends SIGTERM when the
//! LaunchAgent is unloaded or the user logs out (and SIGKILL a while later);
//! a terminal sends SIGINT or SIGHUP. A run then releases what it holds
//! outside itself, the mounts and its children, and exits with 128 + the
//! signal. The release is bounded: it runs on a thread of its own, and
//! after [`RELEASE_BOUND`] the process leaves anyway, saying what it left
//! behind (the release's own steps are bounded too; this is the last
//! guard, before launchd's SIGKILL). Everything else is already safe
//! against a kill: files are written under temp names and renamed, steps
//! are recorded after they are done, and the run lock is released by the
//! kernel.

use std::time::Duration;

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// How long the release may take: less than launchd's default exit
/// timeout (20 s) before its SIGKILL.
pub(crate) const RELEASE_BOUND: Duration = Duration::from_secs(15);

/// On the first SIGTERM, SIGINT or SIGHUP: says so on stderr, runs
/// `release` (on a thread of its own, while the run is stopped wherever it
/// is) for at most `bound`, reports what it says was left (`Err`), and
/// exits with 128 + the signal number.
pub(crate) fn on_signal(
    bound: Duration,
    release: impl FnOnce() -> Result<(), String> + Send + 'static,
) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                eprintln!("photos-backup: stopped by signal {signal}; releasing the mounts");
                match bounded(bound, release) {
                    Some(Ok(())) => {}
                    Some(Err(left)) => eprintln!("photos-backup: left behind: {left}"),
                    None => eprintln!(
                        "photos-backup: the release did not end within {} s; leaving anyway \
                         (the next run clears what is left)",
                        bound.as_secs()
                    ),
                }
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}

/// Runs `f` on a thread and waits for it at most `bound`: `None` when it
/// did not end in time (the thread is left behind).
pub(crate) fn bounded<T: Send + 'static>(
    bound: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(bound).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_that_hangs_is_left_behind_in_time() {
        let started = std::time::Instant::now();
        let hung = bounded(Duration::from_millis(200), || {
            std::thread::sleep(Duration::from_secs(3600));
        });
        assert_eq!(hung, None);
        assert!(started.elapsed() < Duration::from_secs(60));
        assert_eq!(bounded(Duration::from_secs(60), || 7), Some(7));
    }
}
