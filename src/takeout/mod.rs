//! Google Takeout archives as a second kind of source (issue 19), in
//! progress: finding Takeout parts in an inbox folder (`inbox`), reading
//! the members of a part streaming, every member path checked first
//! (`archive`, `member_path`), which JSON belongs to which media file
//! (`names`, `sidecar_match`), what the JSON says (`metadata`) and the XMP
//! sidecar made from it (`xmp_fields`). Nothing here is wired into `run`
//! yet: the `[[takeout]]` config, the ledger of processed parts, staging
//! and deduplication come next.

pub mod archive;
pub mod inbox;
pub mod member_path;
pub mod metadata;
pub mod names;
pub mod sidecar_match;
pub mod xmp_fields;
mod zip_walk;
