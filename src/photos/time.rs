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
/// not zero), so listings compare with osxphotos' output as text. Without
/// an allocation, for listings of hundreds of thousands of dates: the text
/// lives on the stack, written digit by digit (`format!` was a twentieth of
/// `assets --json`).
pub(super) struct Iso {
    buf: [u8; Self::MAX],
    len: usize,
}

impl Iso {
    /// `YYYY-MM-DDTHH:MM:SS.ffffff+HH:MM` with a year of up to 7 digits
    /// and a sign (chrono's range).
    const MAX: usize = 40;

    #[must_use]
    pub(super) fn of(t: &DateTime<FixedOffset>) -> Self {
        use chrono::Datelike;
        let local = t.naive_local();
        let offset = t.offset().local_minus_utc();
        let (sign, offset) = if offset < 0 {
            (b'-', -offset)
        } else {
            (b'+', offset)
        };
        let mut out = Self {
            buf: [0; Self::MAX],
            len: 0,
        };
        let year = local.year();
        if !(0..=9999).contains(&year) {
            // Out of Python's range (a damaged row): chrono's own padding,
            // as before, rather than four digits that would lie.
            let text = format!("{year:04}");
            return Self::slow(&text, &local, t, sign, offset);
        }
        out.digits(year as u32, 4);
        out.push(b'-');
        out.digits(local.month(), 2);
        out.push(b'-');
        out.digits(local.day(), 2);
        out.push(b'T');
        out.time_and_offset(&local, t, sign, offset);
        out
    }

    /// The rare year outside 0..=9999, with the rest as `of` writes it.
    fn slow(
        year: &str,
        local: &chrono::NaiveDateTime,
        t: &DateTime<FixedOffset>,
        sign: u8,
        offset: i32,
    ) -> Self {
        use chrono::Datelike;
        let date = format!("{year}-{:02}-{:02}T", local.month(), local.day());
        let mut out = Self {
            buf: [0; Self::MAX],
            len: 0,
        };
        for b in date.bytes() {
            out.push(b);
        }
        out.time_and_offset(local, t, sign, offset);
        out
    }

    fn time_and_offset(
        &mut self,
        local: &chrono::NaiveDateTime,
        t: &DateTime<FixedOffset>,
        sign: u8,
        offset: i32,
    ) {
        use chrono::Timelike;
        self.digits(local.hour(), 2);
        self.push(b':');
        self.digits(local.minute(), 2);
        self.push(b':');
        self.digits(local.second(), 2);
        let micros = t.timestamp_subsec_micros() % 1_000_000;
        if micros != 0 {
            self.push(b'.');
            self.digits(micros, 6);
        }
        self.push(sign);
        self.digits((offset / 3600) as u32, 2);
        self.push(b':');
        self.digits((offset / 60 % 60) as u32, 2);
    }

    fn push(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    /// `n` in `width` digits, zero-padded (wider numbers keep all digits).
    fn digits(&mut self, n: u32, width: usize) {
        let mut tmp = [b'0'; 10];
        let mut i = tmp.len();
        let mut n = n;
        while n > 0 || tmp.len() - i < width {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        for &b in &tmp[i..] {
            self.push(b);
        }
    }

    #[must_use]
    pub(super) fn as_str(&self) -> &str {
        // Only ASCII digits and punctuation were pushed.
        std::str::from_utf8(&self.buf[..self.len]).expect("ASCII")
    }
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
            Iso::of(&with_offset(t, -14_400)).as_str(),
            "2021-08-06T23:33:20.500000-04:00"
        );
        let whole = from_core_data(650_000_000.0).unwrap();
        assert_eq!(
            Iso::of(&with_offset(whole, 0)).as_str(),
            "2021-08-07T03:33:20+00:00"
        );
    }

    /// The digits by hand say what chrono's formatter says, over the whole
    /// range a damaged row can reach (years below 0 and above 9999 too).
    #[test]
    fn iso_by_hand_is_chrono_format() {
        // Whole minutes, as zones are (a stray second is cut, not rounded).
        let offsets = [
            -86_340, -50_400, -14_400, -60, 0, 60, 3_540, 19_800, 50_400, 86_340,
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for i in 0..20_000 {
            // xorshift: instants spread over chrono's range and near now.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let micros = if i % 2 == 0 {
                (x % 4_000_000_000_000_000) as i64 - 2_000_000_000_000_000
            } else {
                (x % 400_000_000_000_000_000) as i64 - 200_000_000_000_000_000
            };
            let micros = if i % 5 == 0 {
                micros / 1_000_000 * 1_000_000
            } else {
                micros
            };
            let Some(t) = DateTime::<Utc>::from_timestamp_micros(micros) else {
                continue;
            };
            let t = with_offset(t, offsets[i % offsets.len()]);
            let frac = if t.timestamp_subsec_micros() == 0 {
                ""
            } else {
                "%.6f"
            };
            let chrono = t.format(&format!("%Y-%m-%dT%H:%M:%S{frac}%:z")).to_string();
            let year = t.format("%Y").to_string();
            // chrono's %Y writes a sign on years beyond 9999; Python has none
            // there and the old `{:04}` wrote none: compare the rest.
            let rest = &chrono[year.len()..];
            let ours = Iso::of(&t);
            let ours = ours.as_str();
            assert!(ours.ends_with(rest), "{ours} vs {chrono}");
            assert_eq!(
                &ours[..ours.len() - rest.len()],
                format!("{:04}", chrono::Datelike::year(&t.naive_local())),
                "{chrono}"
            );
        }
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
            assert_eq!(Iso::of(&with_offset(t, 0)).as_str(), python, "{x}");
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
