//! The `photos-backup` binary: everything lives in the library crate so tests
//! can drive it; this file only hands the process's arguments to `app` and turns
//! the outcome into an exit code.

fn main() -> std::process::ExitCode {
    photos_backup::app::main()
}
