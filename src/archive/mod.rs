//! The monthly archive: borg command lines, what borg's exit codes mean and
//! what its listings say (`borg`, pure), and later the rollover that creates,
//! verifies and purges as a resumable sequence. Being written: see the issue
//! on the month rollover.

pub mod borg;
