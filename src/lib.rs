//! photos-backup keeps Apple Photos libraries safe: it reads `Photos.sqlite`
//! directly, stages originals with their sidecars, mirrors them to an encrypted
//! remote volume and seals each month into a borg archive. The map of the
//! modules, the data flow of a run and the files it keeps are in
//! `docs/architecture.md`; `app` is where a command line becomes work.

pub mod app;
pub mod archive;
mod backfill;
mod cli;
mod clock;
pub mod commands;
pub mod config;
mod coverage;
mod drill;
mod error_text;
mod exit;
pub mod export;
pub mod failpoint;
pub mod host;
pub mod launchd;
pub mod ledger;
mod lock;
mod logfile;
pub mod notify;
pub mod photos;
pub mod platform;
pub mod power;
mod printable;
mod private_fs;
pub mod process;
pub mod remote;
mod report;
mod scratch;
pub mod secrets;
mod status;
pub mod takeout;
mod terminate;
mod text;
pub mod threshold;
pub mod tools;

#[cfg(test)]
mod fake_runner;
