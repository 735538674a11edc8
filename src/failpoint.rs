//! Named points where a test can stop a run to kill it. When
//! `PHOTOS_BACKUP_PAUSE_AT` names the point being reached, the process says
//! so on standard error (`paused at NAME`) and waits forever; the test then
//! sends a real SIGKILL. Kill tests can so hit every step boundary of the
//! rollover exactly, instead of hoping a timer lands there. Unset (always,
//! outside tests), a point costs one environment lookup.

/// The environment variable that names the point to pause at.
pub const VAR: &str = "PHOTOS_BACKUP_PAUSE_AT";

/// Pauses here forever if `VAR` names `point`.
pub fn pause(point: &str) {
    if std::env::var_os(VAR).is_some_and(|v| v == point) {
        eprintln!("paused at {point}");
        loop {
            std::thread::sleep(std::time::Duration::from_secs(3600));
        }
    }
}
