//! Google Takeout archives as a second kind of source (issue 19): finding
//! Takeout parts and extracted folders in an inbox folder (`inbox`),
//! reading the members of a part streaming, every member path checked
//! first (`archive`, `member_path`), which JSON belongs to which media
//! file (`names`, `sidecar_match`), what the JSON says (`metadata`), when
//! the media file itself says it was taken (`camera_time`) and the XMP
//! sidecar made from it (`xmp_fields`), a part read member by member into
//! holding files named by content, across runs when it must be (`ingest`),
//! and what of a set to stage once every part is read (`plan`). The run
//! step that uses them is `commands::run::takeout`; `coverage` reports on
//! the sets.

pub mod archive;
pub mod camera_time;
pub mod inbox;
pub mod ingest;
pub mod member_path;
pub mod metadata;
pub mod names;
pub mod plan;
pub mod sidecar_match;
pub mod xmp_fields;
mod zip_walk;
