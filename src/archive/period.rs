//! Which months an archive closes, and whether it may close them now: pure
//! rules over the threshold, the library's last archived month, today's date
//! and the originals still pending. The state decides, not the calendar
//! alone: a Mac that slept through a month end (or two) catches up on its
//! next run with one archive spanning the months it missed.

use chrono::{DateTime, Datelike, NaiveDate, Utc};

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl Month {
    #[must_use]
    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    #[must_use]
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    #[must_use]
    pub fn next(self) -> Self {
        if self.month == 12 {
            Self {
                year: self.year + 1,
                month: 1,
            }
        } else {
            Self {
                month: self.month + 1,
                ..self
            }
        }
    }

    #[must_use]
    fn previous(self) -> Self {
        if self.month == 1 {
            Self {
                year: self.year - 1,
                month: 12,
            }
        } else {
            Self {
                month: self.month - 1,
                ..self
            }
        }
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl std::str::FromStr for Month {
    type Err = String;

    /// `YYYY-MM`.
    fn from_str(s: &str) -> Result<Self, String> {
        NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
            .map(Self::of)
            .map_err(|_| format!("{s:?} is not a month YYYY-MM"))
    }
}

/// The months the next archive of a library closes: from the threshold's
/// month (or the month after the library's last archive, if later) to the
/// month before today's. `None` when the threshold is already in this month
/// (nothing closed) or the library is archived up to last month.
#[must_use]
pub(crate) fn due(
    threshold: NaiveDate,
    archived_through: Option<Month>,
    today: NaiveDate,
) -> Option<(Month, Month)> {
    let current = Month::of(today);
    if threshold >= current.first_day() {
        return None;
    }
    let first = match archived_through {
        Some(done) => Month::of(threshold).max(done.next()),
        None => Month::of(threshold),
    };
    let last = current.previous();
    (first <= last).then_some((first, last))
}

/// Whether a period may be archived now, given the library's pending assets
/// (uuid, first seen) as of `closed` (the instant the period ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// Archive; these assets of the period are still missing their
    /// originals and stay pending for the next period.
    Archive { missing: Vec<String> },
    /// Wait: originals still pending within their grace, the last of which
    /// ends at `until`.
    Hold {
        waiting: Vec<String>,
        until: DateTime<Utc>,
    },
}

/// Pending originals seen before the period closed hold it open for
/// `max_pending_days` after they were first seen; after that the archive is
/// made without them. Assets that became pending after the close belong to
/// the next period and change nothing.
#[must_use]
pub(crate) fn decide(
    pending: &[(String, DateTime<Utc>)],
    closed: DateTime<Utc>,
    now: DateTime<Utc>,
    max_pending_days: u32,
) -> Decision {
    let grace = chrono::Duration::days(i64::from(max_pending_days));
    let of_period = pending.iter().filter(|(_, seen)| *seen < closed);
    let (waiting, missing): (Vec<_>, Vec<_>) = of_period.partition(|(_, seen)| now < *seen + grace);
    match waiting.iter().map(|(_, seen)| *seen + grace).max() {
        Some(until) => Decision::Hold {
            waiting: waiting.into_iter().map(|(u, _)| u.clone()).collect(),
            until,
        },
        None => Decision::Archive {
            missing: missing.into_iter().map(|(u, _)| u.clone()).collect(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn m(y: i32, m: u32) -> Month {
        Month { year: y, month: m }
    }

    fn t(y: i32, mo: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, day, 12, 0, 0).unwrap()
    }

    #[test]
    fn months_step_across_years_and_round_trip_as_text() {
        assert_eq!(m(2025, 12).next(), m(2026, 1));
        assert_eq!(m(2026, 1).previous(), m(2025, 12));
        assert_eq!(m(2026, 3).to_string(), "2026-03");
        assert_eq!("2026-03".parse::<Month>(), Ok(m(2026, 3)));
        assert!("2026-13".parse::<Month>().is_err());
        assert_eq!(m(2024, 2).first_day(), d(2024, 2, 1));
    }

    #[test]
    fn nothing_is_due_within_the_threshold_month() {
        assert_eq!(due(d(2026, 11, 1), None, d(2026, 11, 30)), None);
        // A threshold in the future (clock moved back) closes nothing either.
        assert_eq!(due(d(2026, 12, 1), None, d(2026, 11, 5)), None);
    }

    #[test]
    fn the_first_run_after_a_month_end_closes_that_month() {
        assert_eq!(
            due(d(2026, 10, 1), None, d(2026, 11, 1)),
            Some((m(2026, 10), m(2026, 10)))
        );
        // A default threshold in mid-month closes from its month on.
        assert_eq!(
            due(d(2026, 9, 17), None, d(2026, 11, 1)),
            Some((m(2026, 9), m(2026, 10)))
        );
    }

    #[test]
    fn a_mac_asleep_across_two_month_ends_closes_a_span() {
        assert_eq!(
            due(d(2026, 10, 1), None, d(2026, 12, 3)),
            Some((m(2026, 10), m(2026, 11)))
        );
    }

    #[test]
    fn a_library_already_archived_starts_after_its_last_archive() {
        // Another library held the threshold back; this one archived October.
        assert_eq!(
            due(d(2026, 10, 1), Some(m(2026, 10)), d(2026, 11, 20)),
            None
        );
        assert_eq!(
            due(d(2026, 10, 1), Some(m(2026, 10)), d(2026, 12, 2)),
            Some((m(2026, 11), m(2026, 11)))
        );
    }

    #[test]
    fn pending_originals_hold_the_period_for_their_grace_then_are_listed() {
        let closed = t(2026, 11, 1);
        let pending = vec![
            ("old".to_owned(), t(2026, 10, 20)),
            ("older".to_owned(), t(2026, 10, 5)),
            ("next-period".to_owned(), t(2026, 11, 3)),
        ];
        assert_eq!(
            decide(&pending, closed, t(2026, 11, 2), 30),
            Decision::Hold {
                waiting: vec!["old".into(), "older".into()],
                until: t(2026, 11, 19),
            }
        );
        // "older" is past its grace but "old" still holds the period.
        assert!(matches!(
            decide(&pending, closed, t(2026, 11, 10), 30),
            Decision::Hold { waiting, .. } if waiting == ["old"]
        ));
        assert_eq!(
            decide(&pending, closed, t(2026, 11, 20), 30),
            Decision::Archive {
                missing: vec!["old".into(), "older".into()]
            }
        );
        assert_eq!(
            decide(&pending[2..], closed, t(2026, 11, 5), 30),
            Decision::Archive { missing: vec![] }
        );
    }
}
