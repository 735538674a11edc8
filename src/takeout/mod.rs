//! Google Takeout archives as a source (issue 19), in progress: finding
//! Takeout parts in an inbox folder (`inbox`), and reading the members of a
//! part streaming, every member path checked first (`archive`,
//! `member_path`). Nothing here is wired into `run` yet; matching media with
//! their JSON, staging and the ledger of processed parts come next.

pub mod archive;
pub mod inbox;
pub mod member_path;
mod zip_walk;
