//! Google Takeout archives as a second kind of source (issue 19), in
//! progress: finding Takeout parts in an inbox folder (`inbox`), reading
//! the members of a part streaming, every member path checked first
//! (`archive`, `member_path`), which JSON belongs to which media file
//! (`names`, `sidecar_match`), what the JSON says (`metadata`), when the
//! media file itself says it was taken (`camera_time`) and the XMP
//! sidecar made from it (`xmp_fields`), a whole set read into holding
//! files (`ingest`) and what of it to stage (`plan`). The run step that
//! uses them is `commands::run::takeout`.

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
