//! photos-backup keeps Apple Photos libraries safe: it reads `Photos.sqlite`
//! directly, stages originals with their sidecars, mirrors them to an encrypted
//! remote volume and seals each month into a borg archive. The map of the
//! modules, the data flow of a run and the files it keeps are in
//! `docs/architecture.md`; `app` is where a command line becomes work.

pub mod app;
pub mod archive;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod error_text;
pub mod exit;
pub mod export;
pub mod failpoint;
pub mod launchd;
pub mod ledger;
pub mod lock;
pub mod logfile;
pub mod notify;
pub mod photos;
pub mod platform;
pub mod power;
pub mod printable;
pub mod private_fs;
pub mod process;
pub mod remote;
pub mod report;
pub mod scratch;
pub mod secrets;
pub mod status;
pub mod terminate;
pub mod text;
pub mod threshold;

#[cfg(test)]
mod fake_runner;
