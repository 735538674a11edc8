//! Time, passed in: nothing below `app` reads the wall clock, so tests can
//! run a simulated month (or three) with a `FixedClock` they move by hand.

use std::sync::Mutex;

use chrono::{DateTime, Utc};

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
