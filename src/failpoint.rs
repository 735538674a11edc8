//! Named points where a test can stop a run to kill it. When
//! `PHOTOS_BACKUP_PAUSE_AT` names the point being reached, the process says
//! so on standard error (`paused at NAME`) and waits forever; the test then
//! sends a real SIGKILL. Kill tests can so hit every step boundary of the
//! rollover exactly, instead of hoping a timer lands there.
//!
//! A hook that waits forever must never reach a user: the points exist only
//! in builds with debug assertions (what `cargo test` builds, and so what
//! the kill tests run) or with the `test-hooks` feature (to run the kill
//! tests against optimized code: `cargo test --release --features
//! test-hooks --test rollover_kill`). In a release build `pause` is empty
//! and the variable is ignored: `strings target/release/photos-backup`
//! shows neither `PHOTOS_BACKUP_PAUSE_AT` nor a point's name.

/// The environment variable that names the point to pause at.
pub const VAR: &str = "PHOTOS_BACKUP_PAUSE_AT";

/// Whether this build has the points at all.
const ENABLED: bool = cfg!(any(debug_assertions, feature = "test-hooks"));

/// Pauses here forever if `VAR` names `point` (and the build has the points).
pub(crate) fn pause(point: &str) {
    if ENABLED && std::env::var_os(VAR).is_some_and(|v| v == point) {
        eprintln!("paused at {point}");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}
