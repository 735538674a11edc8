//! Core Data timestamps: seconds (a float) since 2001-01-01T00:00:00Z, the
//! way Photos stores every date. Converted once here, rounded to the
//! microsecond exactly as the peer reader osxphotos rounds them (Python's
//! `datetime.fromtimestamp(seconds + 978307200.0)`), so the rest of the
//! program deals in `chrono` types and the dates written into XMP and
//! folder names are the ones osxphotos shows, to the microsecond.
//!
//! The UTC offset of a photo's date follows osxphotos too: the zone named in
//! `ZTIMEZONENAME` when it is an IANA zone this machine knows (its offset at
//! that instant, so a 1970 photo in `America/Chicago` is `-06:00` even when
//! Photos stored the summer offset), else `ZTIMEZONEOFFSET`.

use chrono::{DateTime, FixedOffset, Offset, TimeZone, Utc};

/// 2001-01-01T00:00:00Z as a Unix timestamp.
const CORE_DATA_EPOCH: i64 = 978_307_200;

/// A Core Data timestamp as UTC, or `None` when out of chrono's range.
///
/// The arithmetic is `CPython`'s (`_PyTime_DoubleToDenominator`): the Unix
/// time is the float sum `seconds + 978307200.0`, split into whole and
/// fractional seconds, and the fraction times 1e6 rounded half to even.
/// Rounding `seconds * 1e6` instead differs in the last digit for some
/// values (`...09.144278` where osxphotos says `...09.144279`).
#[must_use]
pub(super) fn from_core_data(seconds: f64) -> Option<DateTime<Utc>> {
    let unix = seconds + CORE_DATA_EPOCH as f64;
    // Beyond about year 3 million the sum has no microseconds left and chrono
    // (and Python) cannot represent it anyway.
    if !unix.is_finite() || unix.abs() > 1e14 {
        return None;
    }
    let mut whole = unix.trunc();
    let mut micros = ((unix - whole) * 1e6).round_ties_even();
    if micros >= 1e6 {
        micros -= 1e6;
        whole += 1.0;
    } else if micros < 0.0 {
        micros += 1e6;
        whole -= 1.0;
    }
    Utc.timestamp_opt(whole as i64, micros as u32 * 1000)
        .single()
}

/// The UTC offset (seconds east) of a photo's date, the way osxphotos
/// decides it: the zone `name` (`ZTIMEZONENAME`) when it names an IANA zone
/// of this machine's database (`/usr/share/zoneinfo`, as Python's
/// `zoneinfo` reads it), at that instant; else `stored` (`ZTIMEZONEOFFSET`,
/// 0 when NULL). Names such as `GMT-0400`, which Photos writes for a fixed
/// offset, are no IANA zone and fall back to the stored offset. The name is
/// untrusted text: it is only looked up in the database's own list of
/// names, never joined to a path.
#[must_use]
pub(super) fn offset_for(t: DateTime<Utc>, name: Option<&str>, stored: Option<i32>) -> i32 {
    let zoned = name
        .filter(|n| !n.is_empty() && n.len() <= 64)
        .and_then(|n| {
            let tz = jiff::tz::db().get(n).ok()?;
            let at = jiff::Timestamp::from_microsecond(t.timestamp_micros()).ok()?;
            Some(tz.to_offset(at).seconds())
        });
    zoned.unwrap_or_else(|| stored.unwrap_or(0))
}

/// The inverse of `from_core_data`, for queries (the synthetic library of
/// the tests has its own copy, checked against this one below):
/// the nearest float that reads back as `t` (a step or two away from the
/// plain quotient for some instants, since reading adds the epoch first).
#[must_use]
pub(super) fn to_core_data(t: DateTime<Utc>) -> f64 {
    let x = (t.timestamp_micros() - CORE_DATA_EPOCH * 1_000_000) as f64 / 1e6;
    let (mut up, mut down) = (x, x);
    for _ in 0..64 {
        if from_core_data(up) == Some(t) {
            return up;
        }
        if from_core_data(down) == Some(t) {
            return down;
        }
        up = up.next_up();
        down = down.next_down();
    }
    x
}

/// A time in a fixed UTC offset (seconds east), falling back to UTC when the
/// offset is out of range (a corrupt row must not stop the listing).
#[must_use]
pub(super) fn with_offset(t: DateTime<Utc>, offset_seconds: i32) -> DateTime<FixedOffset> {
    let zone = FixedOffset::east_opt(offset_seconds).unwrap_or(Utc.fix());
    t.with_timezone(&zone)
}

/// ISO 8601 the way Python's `isoformat()` writes it (microseconds only when
/// not zero), so listings compare with osxphotos' output as text.
#[must_use]
pub(super) fn iso(t: &DateTime<FixedOffset>) -> String {
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
        // Every microsecond of a stretch reads back as itself.
        for us in 0..5000 {
            let t = Utc
                .timestamp_micros(1_609_459_209_144_000 + us * 7)
                .unwrap();
            assert_eq!(from_core_data(to_core_data(t)), Some(t));
        }
    }

    /// The synthetic libraries of the tests write dates with the generator's
    /// own copy of `to_core_data`: it must write what this reader reads.
    #[test]
    fn the_generator_writes_what_the_reader_reads() {
        for us in 0..5000 {
            let t = Utc
                .timestamp_micros(1_609_459_209_144_000 + us * 7)
                .unwrap();
            assert_eq!(from_core_data(synthetic::to_core_data(t)), Some(t));
            assert_eq!(
                synthetic::to_core_data(t).to_bits(),
                to_core_data(t).to_bits()
            );
        }
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
    fn rounding_matches_python_fromtimestamp() {
        // (stored value, what Python 3 prints for
        // `datetime.fromtimestamp(x + 978307200.0, timezone.utc).isoformat()`).
        // The first four are values where rounding `x * 1e6` is off by one.
        let cases = [
            (631_152_009.144_278_4, "2021-01-01T00:00:09.144279+00:00"),
            (631_152_009.144_279_5, "2021-01-01T00:00:09.144279+00:00"),
            (631_152_009.144_288_4, "2021-01-01T00:00:09.144289+00:00"),
            (631_152_009.144_290_6, "2021-01-01T00:00:09.144290+00:00"),
            (577_057_224.86, "2019-04-15T21:40:24.860000+00:00"),
            (630_214_421.766_684, "2020-12-21T03:33:41.766684+00:00"),
            (-978_307_200.25, "1969-12-31T23:59:59.750000+00:00"),
            (0.000_000_5, "2001-01-01T00:00:00+00:00"),
            (123_456_789.000_001_5, "2004-11-29T21:33:09.000001+00:00"),
        ];
        for (x, python) in cases {
            let t = from_core_data(x).unwrap();
            assert_eq!(iso(&with_offset(t, 0)), python, "{x}");
        }
    }

    #[test]
    fn the_zone_name_decides_the_offset_when_it_is_an_iana_zone() {
        let epoch = DateTime::<Utc>::UNIX_EPOCH;
        // Photos stored the summer offset (-05:00) but the zone, at the
        // epoch, was on standard time: osxphotos says -06:00.
        assert_eq!(
            offset_for(epoch, Some("America/Chicago"), Some(-18_000)),
            -21_600
        );
        let winter = from_core_data(600_000_000.0).unwrap(); // 2020-01-05
        assert_eq!(offset_for(winter, Some("America/Chicago"), None), -21_600);
        let summer = from_core_data(615_000_000.0).unwrap(); // 2020-06-27
        assert_eq!(offset_for(summer, Some("America/Chicago"), None), -18_000);
        // Fixed-offset names, unknown or hostile names fall back to the stored offset.
        for name in [
            "GMT-0400",
            "Nowhere/Else",
            "../../etc/passwd",
            "",
            "/etc/localtime",
        ] {
            assert_eq!(
                offset_for(epoch, Some(name), Some(-14_400)),
                -14_400,
                "{name}"
            );
        }
        assert_eq!(offset_for(epoch, None, Some(3600)), 3600);
        assert_eq!(offset_for(epoch, None, None), 0);
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
