//! One file per subcommand. Each takes what it needs (parsed arguments, the
//! config, output streams) and returns `anyhow::Result`, so `app` decides
//! how an error is shown and which exit code it means.

pub mod archives;
pub mod assets;
pub mod doctor;
pub mod init_repo;
pub mod install;
pub mod locate;
pub mod restore;
pub mod run;
pub mod secret;
pub mod status;
