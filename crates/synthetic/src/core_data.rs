//! Dates as Photos stores them: Core Data seconds (a float) since
//! 2001-01-01T00:00:00Z. The generator has its own copy of the two small
//! conversions so that it does not depend on the product it feeds; the
//! product's tests check that the product's reader
//! (`photos::time::from_core_data`) reads back every date written here.

use chrono::{DateTime, TimeZone, Utc};

/// 2001-01-01T00:00:00Z as a Unix timestamp.
const CORE_DATA_EPOCH: i64 = 978_307_200;

/// The float to store for `t`: the nearest one that a reader with
/// osxphotos' arithmetic (see `read`) reads back as `t`, a step or two away
/// from the plain quotient for some instants.
#[must_use]
pub fn to_core_data(t: DateTime<Utc>) -> f64 {
    let x = (t.timestamp_micros() - CORE_DATA_EPOCH * 1_000_000) as f64 / 1e6;
    let (mut up, mut down) = (x, x);
    for _ in 0..64 {
        if read(up) == Some(t) {
            return up;
        }
        if read(down) == Some(t) {
            return down;
        }
        up = up.next_up();
        down = down.next_down();
    }
    x
}

/// How osxphotos (`CPython`'s `datetime.fromtimestamp`) reads a stored
/// float: the Unix time is the float sum, its fraction times 1e6 rounded half
/// to even.
fn read(seconds: f64) -> Option<DateTime<Utc>> {
    let unix = seconds + CORE_DATA_EPOCH as f64;
    if !unix.is_finite() || unix.abs() > 1e14 {
        return None;
    }
    let whole = unix.trunc();
    let micros = ((unix - whole) * 1e6).round_ties_even();
    let (whole, micros) = if micros >= 1e6 {
        (whole + 1.0, micros - 1e6)
    } else if micros < 0.0 {
        (whole - 1.0, micros + 1e6)
    } else {
        (whole, micros)
    };
    Utc.timestamp_opt(whole as i64, micros as u32 * 1000)
        .single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_microsecond_of_a_stretch_reads_back_as_itself() {
        for us in 0..5000 {
            let t = Utc
                .timestamp_micros(1_609_459_209_144_000 + us * 7)
                .unwrap();
            assert_eq!(read(to_core_data(t)), Some(t), "{t}");
        }
        let epoch = Utc.timestamp_opt(CORE_DATA_EPOCH, 0).unwrap();
        assert_eq!(to_core_data(epoch).to_bits(), 0.0_f64.to_bits());
    }
}
