//! The monthly archive: borg command lines, what borg's exit codes mean and
//! what its listings say (`borg`, pure), which months an archive closes and
//! when (`period`, pure), and the rollover that creates, verifies and purges
//! as a resumable sequence (`rollover`), then retention and `borg check`
//! (`upkeep`); `access` is how every command reaches the repository (the
//! section, the program, the passphrase, running borg).

pub(crate) mod access;
pub mod borg;
pub mod period;
pub(crate) mod rollover;
pub(crate) mod upkeep;
