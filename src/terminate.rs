//! Leaving cleanly when told to stop. launchd sends SIGTERM when the
//! LaunchAgent is unloaded or the user logs out (and SIGKILL a while later);
//! a terminal sends SIGINT or SIGHUP. A run then releases what it holds
//! outside itself, the mounts, and exits with 128 + the signal. Everything
//! else is already safe against a kill: files are written under temp names
//! and renamed, steps are recorded after they are done, and the run lock is
//! released by the kernel.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// On the first SIGTERM, SIGINT or SIGHUP: says so on stderr, runs
/// `cleanup` (on a thread of its own, while the run is stopped wherever it
/// is) and exits with 128 + the signal number.
pub fn on_signal(cleanup: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                eprintln!("photos-backup: stopped by signal {signal}; releasing the mounts");
                cleanup();
                std::process::exit(128 + signal);
            }
        })?;
    Ok(())
}
