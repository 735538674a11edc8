//! The export engine: which files of which assets to stage (`plan`, pure),
//! where they go and under which name (`layout`, pure), the XMP sidecar
//! (`xmp`, pure), durable copies (`copy`) and fetching originals that are only
//! in iCloud (`download`).

pub mod copy;
pub mod download;
pub mod layout;
pub mod xmp;
