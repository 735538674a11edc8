//! Past instants shown where the user is. A status shows a July run and a
//! December run side by side; each must be converted with the offset it
//! had (summer time, then winter time), not with today's offset applied to
//! every date. [`Zone`] gives the offset an instant had: the system's time
//! zone (`chrono::Local`, which follows `TZ` and the clock changes of the
//! system's time zone database) in the product, a fixed offset or a named
//! zone in tests.

use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};

/// A time zone: the offset from UTC each instant had in it.
pub(crate) trait Zone {
    /// The offset `t` had in this zone.
    fn offset_at(&self, t: DateTime<Utc>) -> FixedOffset;

    /// `t` on this zone's clock, with the offset it had.
    fn local(&self, t: DateTime<Utc>) -> DateTime<FixedOffset> {
        t.with_timezone(&self.offset_at(t))
    }
}

/// The system's time zone, clock changes included.
impl Zone for chrono::Local {
    fn offset_at(&self, t: DateTime<Utc>) -> FixedOffset {
        self.offset_from_utc_datetime(&t.naive_utc()).fix()
    }
}

/// A zone without clock changes (UTC, `+01:00`).
impl Zone for FixedOffset {
    fn offset_at(&self, _: DateTime<Utc>) -> FixedOffset {
        *self
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A zone of the IANA database by name (`Europe/Berlin`), for tests
    /// that must not depend on the machine's own zone.
    pub(crate) struct Named(jiff::tz::TimeZone);

    impl Named {
        pub(crate) fn of(name: &str) -> Self {
            Self(jiff::tz::db().get(name).unwrap())
        }
    }

    impl Zone for Named {
        fn offset_at(&self, t: DateTime<Utc>) -> FixedOffset {
            let at = jiff::Timestamp::from_second(t.timestamp()).unwrap();
            FixedOffset::east_opt(self.0.to_offset(at).seconds()).unwrap()
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn each_instant_gets_the_offset_it_had() {
        let berlin = Named::of("Europe/Berlin");
        assert_eq!(
            berlin.local(utc("2026-07-14T06:30:00Z")).to_rfc3339(),
            "2026-07-14T08:30:00+02:00"
        );
        assert_eq!(
            berlin.local(utc("2026-12-06T06:30:00Z")).to_rfc3339(),
            "2026-12-06T07:30:00+01:00"
        );
        let chicago = Named::of("America/Chicago");
        assert_eq!(
            chicago.local(utc("2026-07-14T06:30:00Z")).to_rfc3339(),
            "2026-07-14T01:30:00-05:00"
        );
        let plus_one = FixedOffset::east_opt(3600).unwrap();
        assert_eq!(
            plus_one.local(utc("2026-07-14T06:30:00Z")).to_rfc3339(),
            "2026-07-14T07:30:00+01:00"
        );
    }
}
