//! Time, passed in: nothing below `app` reads the wall clock, so tests can
//! run a simulated month (or three) with a `FixedClock` they move by hand.

use std::sync::Mutex;

use chrono::{DateTime, Datelike, Local, NaiveDate, NaiveTime, TimeZone, Utc};

pub trait Clock {
    fn now(&self) -> DateTime<Utc>;
}

/// The real time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A time that only moves when told to.
#[derive(Debug)]
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    #[must_use]
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *t += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Midnight at the start of `day` in the local time zone (the earlier one
/// when a clock change repeats it, the naive UTC one if it does not exist).
#[must_use]
pub fn local_midnight(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_time(NaiveTime::MIN);
    Local
        .from_local_datetime(&midnight)
        .earliest()
        .map_or_else(|| midnight.and_utc(), |t| t.to_utc())
}
/// The moments a run needs: now, today's date where the user is, and the
/// instant the current month began there (when the last period closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct When {
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
    pub month_began: DateTime<Utc>,
}

impl When {
    /// In the local time zone.
    #[must_use]
    pub fn at(now: DateTime<Utc>) -> Self {
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
    fn fixed_clock_moves_only_when_told() {
        let t = DateTime::parse_from_rfc3339("2026-01-31T23:59:00Z")
            .unwrap()
            .to_utc();
        let c = FixedClock::new(t);
        assert_eq!(c.now(), t);
        c.advance(chrono::Duration::minutes(5));
        assert_eq!(c.now(), t + chrono::Duration::minutes(5));
        c.set(t);
        assert_eq!(c.now(), t);
    }
}
