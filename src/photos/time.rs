//! Core Data timestamps: seconds (a float) since 2001-01-01T00:00:00Z, the
//! way Photos stores every date. Converted once here, rounded to the
//! microsecond, so the rest of the program deals in `chrono` types.

use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};

/// 2001-01-01T00:00:00Z as a Unix timestamp.
pub const CORE_DATA_EPOCH: i64 = 978_307_200;

/// A Core Data timestamp as UTC, or `None` when out of chrono's range.
#[must_use]
pub fn from_core_data(seconds: f64) -> Option<DateTime<Utc>> {
    if !seconds.is_finite() {
        return None;
    }
    let micros = (seconds * 1e6).round_ties_even();
    if micros.abs() > 1e17 {
        return None;
    }
    let micros = micros as i64 + CORE_DATA_EPOCH * 1_000_000;
    Utc.timestamp_micros(micros).single()
}

/// The inverse of `from_core_data`, for queries and the synthetic library.
#[must_use]
pub fn to_core_data(t: DateTime<Utc>) -> f64 {
    (t.timestamp_micros() - CORE_DATA_EPOCH * 1_000_000) as f64 / 1e6
}

/// A time in a fixed UTC offset (seconds east), falling back to UTC when the
/// offset is out of range (a corrupt row must not stop the listing).
#[must_use]
pub fn with_offset(t: DateTime<Utc>, offset_seconds: i32) -> DateTime<FixedOffset> {
    let zone = FixedOffset::east_opt(offset_seconds).unwrap_or(Utc.fix());
    t.with_timezone(&zone)
}

/// ISO 8601 the way Python's `isoformat()` writes it (microseconds only when
/// not zero), so listings compare with osxphotos' output as text.
#[must_use]
pub fn iso(t: &DateTime<FixedOffset>) -> String {
    use chrono::{Datelike, Timelike};
    // By hand rather than `format()`: listings print hundreds of thousands.
    let offset = t.offset().local_minus_utc();
    let (sign, offset) = if offset < 0 {
        ('-', -offset)
    } else {
        ('+', offset)
    };
    let mut s = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    let micros = t.timestamp_subsec_micros();
    if micros != 0 {
        s.push_str(&format!(".{:06}", micros % 1_000_000));
    }
    s.push_str(&format!(
        "{sign}{:02}:{:02}",
        offset / 3600,
        offset / 60 % 60
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_and_round_trip() {
        let t = from_core_data(0.0).unwrap();
        assert_eq!(t.timestamp(), CORE_DATA_EPOCH);
        let t = from_core_data(650_000_000.123_456).unwrap();
        assert!((to_core_data(t) - 650_000_000.123_456).abs() < 1e-9);
    }

    #[test]
    fn iso_matches_python_isoformat() {
        let t = from_core_data(650_000_000.5).unwrap();
        assert_eq!(
            iso(&with_offset(t, -14_400)),
            "2021-08-06T23:33:20.500000-04:00"
        );
        let whole = from_core_data(650_000_000.0).unwrap();
        assert_eq!(iso(&with_offset(whole, 0)), "2021-08-07T03:33:20+00:00");
    }

    #[test]
    fn absurd_values_are_none_not_panics() {
        assert!(from_core_data(f64::NAN).is_none());
        assert!(from_core_data(1e300).is_none());
        assert!(from_core_data(-1e300).is_none());
        // A bad offset falls back to UTC instead of failing.
        let t = from_core_data(0.0).unwrap();
        assert_eq!(with_offset(t, 999_999).offset().local_minus_utc(), 0);
    }
}
