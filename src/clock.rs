//! Time as a value: a run's "now" is read once, at the edge (`app`: the
//! system clock, or `$PHOTOS_BACKUP_NOW`), and passed down, so tests and
//! the demo live through month ends by setting it. Nothing below `app`
//! reads the wall clock itself; what must read the time again later (the
//! end of a run, for `status.json`) is handed the [`Clock`] `app` chose,
//! itself a plain value. The local calendar of an instant is here too.

use chrono::{DateTime, Datelike, Local, NaiveDate, NaiveTime, TimeZone, Utc};

/// Where the time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clock {
    /// The system clock.
    System,
    /// One instant that does not move (`$PHOTOS_BACKUP_NOW`).
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// The time now, by this clock.
    #[must_use]
    pub(crate) fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => at,
        }
    }
}

/// Midnight at the start of `day` in the local time zone (the earlier one
/// when a clock change repeats it, the naive UTC one if it does not exist).
#[must_use]
pub(crate) fn local_midnight(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    Local
        .from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| midnight.and_utc(), |t| t.to_utc())
}
/// The moments a run needs: now, today's date where the user is, and the
/// instant the current month began there (when the last period closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct When {
    pub(crate) now: DateTime<Utc>,
    pub(crate) today: NaiveDate,
    pub(crate) month_began: DateTime<Utc>,
}

impl When {
    /// In the local time zone.
    #[must_use]
    pub(crate) fn at(now: DateTime<Utc>) -> Self {
        let today = now.with_timezone(&Local).date_naive();
        let first = today.with_day0(0).unwrap_or(today);
        Self {
            now,
            today,
            month_began: local_midnight(first),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stays_and_the_system_clock_moves_on() {
        let t = DateTime::parse_from_rfc3339("2026-01-31T23:59:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(Clock::Fixed(t).now(), t);
        assert_eq!(Clock::Fixed(t).now(), t);
        let before = Utc::now();
        let now = Clock::System.now();
        assert!(before <= now && now <= Utc::now());
    }
}
