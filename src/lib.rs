//! photos-backup keeps Apple Photos libraries safe: it reads `Photos.sqlite`
//! directly, stages originals with their sidecars, mirrors them to an encrypted
//! remote volume and seals each month into a borg archive. The map of the
//! modules, the data flow of a run and the files it keeps are in
//! `docs/architecture.md`; `app` is where a command line becomes work.

pub mod app;
pub mod archive;
pub(crate) mod cli;
pub(crate) mod clock;
pub mod commands;
pub mod config;
pub(crate) mod error_text;
pub(crate) mod exit;
pub mod export;
pub mod failpoint;
pub mod host;
pub mod launchd;
pub mod ledger;
pub(crate) mod lock;
pub(crate) mod logfile;
pub mod notify;
pub mod photos;
pub mod platform;
pub mod power;
pub(crate) mod printable;
pub(crate) mod private_fs;
pub mod process;
pub mod remote;
pub(crate) mod report;
pub(crate) mod scratch;
pub mod secrets;
pub(crate) mod status;
pub(crate) mod terminate;
pub(crate) mod text;
pub mod threshold;
pub mod tools;

#[cfg(test)]
mod fake_runner;
