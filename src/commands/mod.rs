//! One file per subcommand. Each takes what it needs (parsed arguments, the
//! config, output streams) and returns `anyhow::Result`, so `app` decides
//! how an error is shown and which exit code it means.

pub(crate) mod archives;
pub(crate) mod assets;
pub(crate) mod completions;
pub(crate) mod config_cmd;
pub(crate) mod coverage;
pub mod doctor;
pub(crate) mod drill;
pub(crate) mod init_repo;
pub(crate) mod install;
pub(crate) mod locate;
pub(crate) mod man;
pub(crate) mod restore;
pub mod run;
pub(crate) mod secret;
pub(crate) mod status;
