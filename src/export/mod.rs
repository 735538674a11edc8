//! The export engine: which files of which assets to stage (`plan`, pure),
//! where they go and under which name (`layout`, pure), the XMP sidecar
//! (`xmp`, pure), durable copies (`copy`) into staging's folders opened
//! once per batch (`folders`), carrying a plan out (`stage`),
//! a run's walk over the selection a batch of assets at a time (`batches`),
//! fetching originals that are only in iCloud (`download`), where temp
//! files may be left (`temps`) and showing progress (`progress`).

pub mod batches;
pub mod copy;
pub mod download;
mod folders;
pub mod layout;
pub mod plan;
pub(crate) mod progress;
mod source;
pub mod stage;
pub(crate) mod temps;
mod versions;
pub mod xmp;
