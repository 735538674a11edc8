//! The backfill of the back catalogue: the assets older than any threshold
//! that were never staged. After the normal cycle, each run takes the oldest
//! month of it not yet done (a part of it when it does not fit the staging
//! budget), stages it through the export machinery, archives it with the
//! rollover's steps into `PREFIX-LIBRARY-backfill-YYYY-MM[-N]`, verifies
//! and purges it. The decisions are pure (`decide`); the run's edge is
//! `commands::run::backfill`.

pub(crate) mod decide;
pub(crate) mod settings;
