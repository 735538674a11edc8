//! The monthly archive: borg command lines, what borg's exit codes mean and
//! what its listings say (`borg`, pure), which months an archive closes and
//! when (`period`, pure), and the rollover that creates, verifies and purges
//! as a resumable sequence (`rollover`); `access` is what the other commands
//! need to reach the repository (the section, the program, the passphrase).

pub mod access;
pub mod borg;
pub mod period;
pub mod rollover;
pub mod upkeep;
