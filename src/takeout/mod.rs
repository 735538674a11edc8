//! Google Takeout archives as a second kind of source (issue 19): which
//! JSON belongs to which media file (`names`, `sidecar_match`), what the
//! JSON says (`metadata`) and the XMP sidecar made from it (`xmp_fields`).
//! The parts, the streaming of members and the wiring into `run` are
//! elsewhere (this file is the merge point of both halves).

pub mod metadata;
pub mod names;
pub mod sidecar_match;
pub mod xmp_fields;
