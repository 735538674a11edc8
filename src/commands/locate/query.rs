//! What a user types to find photos again (`locate QUERY`, `restore QUERY`)
//! and which staged or archived files it means. One word does three jobs,
//! decided in this order, so the same word always means the same thing:
//!
//! 1. `YYYY-MM-DD` or `YYYY-MM`: the date folder of the staging layout
//!    (`LIBRARY/YYYY/MM/DD/NAME`, the photo's own date);
//! 2. a uuid, whole or a prefix of at least 8 characters, in any case: every
//!    file of that asset (a prefix that fits several assets is an error that
//!    names them);
//! 3. anything else: a part of the file name, ignoring case and Unicode
//!    normalization (`img_0001` finds `IMG_0001.JPG`, its `.xmp`, `.mov`...).
//!
//! A uuid prefix needs 8 characters because a shorter one made of digits
//! (`1234`) is far more likely a file name: with 100 000 assets, some uuid
//! starts with any 4 hex digits.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

/// The shortest uuid prefix taken as a uuid.
const MIN_UUID_PREFIX: usize = 8;

/// A query as typed, before it is held against the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Query {
    /// The date folder: a day, or a whole month (`day: None`).
    Date {
        year: i32,
        month: u32,
        day: Option<u32>,
    },
    /// A uuid (prefix) or a part of a file name; `resolve` decides.
    Text(String),
}

/// What a query selects, once the known uuids are taken into account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Matcher {
    Date {
        year: i32,
        month: u32,
        day: Option<u32>,
    },
    /// Every file of this asset (full uuid, as the ledger spells it).
    Uuid(String),
    /// File names holding this text (lowercased, decomposed).
    Name(String),
}

/// A query that cannot be answered as typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum QueryError {
    #[error("the query is empty: give a uuid, a file name or a date (YYYY-MM-DD or YYYY-MM)")]
    Empty,
    #[error("{0:?} looks like a date but is not one (YYYY-MM-DD or YYYY-MM)")]
    BadDate(String),
    #[error(
        "{query:?} is the start of the uuids of {} assets ({}{}): give more of it",
        count,
        shown.join(", "),
        if *count > shown.len() { ", ..." } else { "" }
    )]
    Ambiguous {
        query: String,
        count: usize,
        shown: Vec<String>,
    },
}

/// Parses what the user typed.
pub(crate) fn parse(text: &str) -> Result<Query, QueryError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(QueryError::Empty);
    }
    let shape: String = text
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    let bad = || QueryError::BadDate(text.to_owned());
    match shape.as_str() {
        "9999-99-99" => {
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad())?;
            Ok(Query::Date {
                year: chrono::Datelike::year(&date),
                month: chrono::Datelike::month(&date),
                day: Some(chrono::Datelike::day(&date)),
            })
        }
        "9999-99" => {
            let year = text[..4].parse().map_err(|_| bad())?;
            let month = text[5..].parse().map_err(|_| bad())?;
            if (1..=12).contains(&month) {
                Ok(Query::Date {
                    year,
                    month,
                    day: None,
                })
            } else {
                Err(bad())
            }
        }
        _ => Ok(Query::Text(text.to_owned())),
    }
}

/// Could `text` be (the start of) a uuid?
fn uuid_like(text: &str) -> bool {
    text.len() >= MIN_UUID_PREFIX && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

/// Decides what a query selects: a text that starts exactly one known uuid
/// (of at least `MIN_UUID_PREFIX` characters) is that asset, one that starts
/// several is an error, any other text is a part of a file name.
pub(crate) fn resolve<'a>(
    query: &Query,
    uuids: impl IntoIterator<Item = &'a str>,
) -> Result<Matcher, QueryError> {
    let text = match query {
        Query::Date { year, month, day } => {
            return Ok(Matcher::Date {
                year: *year,
                month: *month,
                day: *day,
            })
        }
        Query::Text(text) => text,
    };
    if uuid_like(text) {
        let fitting: BTreeSet<&str> = uuids
            .into_iter()
            .filter(|u| {
                u.get(..text.len())
                    .is_some_and(|start| start.eq_ignore_ascii_case(text))
            })
            .collect();
        match fitting.len() {
            0 => {}
            1 => {
                return Ok(Matcher::Uuid(
                    fitting.into_iter().next().unwrap_or_default().into(),
                ))
            }
            count => {
                return Err(QueryError::Ambiguous {
                    query: text.clone(),
                    count,
                    shown: fitting.into_iter().take(5).map(str::to_owned).collect(),
                })
            }
        }
    }
    Ok(Matcher::Name(fold(text)))
}

/// Text as a case- and normalization-insensitive comparison sees it.
fn fold(text: &str) -> String {
    text.chars().flat_map(char::to_lowercase).nfd().collect()
}

/// The date folder of a staging path `LIBRARY/YYYY/MM/DD/NAME`.
#[must_use]
fn folder_date(path: &str) -> Option<(i32, u32, u32)> {
    let mut parts = path.split('/');
    let _library = parts.next()?;
    let year = parts.next()?;
    let month = parts.next()?;
    let day = parts.next()?;
    parts.next()?;
    let number = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    Some((number(year, 4)? as i32, number(month, 2)?, number(day, 2)?))
}

/// The file name of a staging path.
#[must_use]
pub(super) fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

impl Matcher {
    /// Whether the file of asset `uuid` at staging path `path` is selected.
    #[must_use]
    pub(super) fn matches(&self, uuid: &str, path: &str) -> bool {
        match self {
            Matcher::Uuid(wanted) => wanted == uuid,
            Matcher::Name(part) => fold(file_name(path)).contains(part.as_str()),
            Matcher::Date { year, month, day } => folder_date(path)
                .is_some_and(|(y, m, d)| y == *year && m == *month && day.is_none_or(|w| w == d)),
        }
    }

    /// What the query selected, for messages (`uuid X`, `file names with X`).
    #[must_use]
    pub(super) fn describe(&self) -> String {
        match self {
            Matcher::Uuid(u) => format!("asset {u}"),
            Matcher::Name(part) => format!("file names holding {part:?}"),
            Matcher::Date {
                year,
                month,
                day: Some(day),
            } => format!("photos dated {year:04}-{month:02}-{day:02}"),
            Matcher::Date {
                year,
                month,
                day: None,
            } => format!("photos dated {year:04}-{month:02}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const U1: &str = "A0000000-0000-4000-8000-000000000001";
    const U2: &str = "A0000000-0000-4000-8000-000000000002";
    const U3: &str = "b1c2d3e4-0000-4000-8000-000000000003";

    fn matcher(text: &str) -> Result<Matcher, QueryError> {
        resolve(&parse(text)?, [U1, U2, U3])
    }

    #[test]
    fn dates_are_days_or_months_and_must_exist() {
        assert_eq!(
            parse("2026-09-10").unwrap(),
            Query::Date {
                year: 2026,
                month: 9,
                day: Some(10)
            }
        );
        assert_eq!(
            parse(" 2026-09 ").unwrap(),
            Query::Date {
                year: 2026,
                month: 9,
                day: None
            }
        );
        for bad in ["2026-02-30", "2026-13", "2026-00", "2026-13-01"] {
            assert_eq!(parse(bad), Err(QueryError::BadDate(bad.into())), "{bad}");
        }
        assert_eq!(parse("   "), Err(QueryError::Empty));
        assert_eq!(parse("2026"), Ok(Query::Text("2026".into())));
    }

    #[test]
    fn a_uuid_or_a_unique_prefix_selects_one_asset_in_any_case() {
        assert_eq!(matcher(U1).unwrap(), Matcher::Uuid(U1.into()));
        assert_eq!(
            matcher(&U1.to_lowercase()).unwrap(),
            Matcher::Uuid(U1.into())
        );
        assert_eq!(matcher("B1C2D3E4").unwrap(), Matcher::Uuid(U3.into()));
        let m = Matcher::Uuid(U3.into());
        assert!(m.matches(U3, "anna/2026/09/10/IMG_1.JPG"));
        assert!(!m.matches(U1, "anna/2026/09/10/IMG_1.JPG"));
    }

    #[test]
    fn a_prefix_of_several_uuids_is_an_error_naming_them() {
        let err = matcher("a0000000-0000").unwrap_err();
        assert_eq!(
            err,
            QueryError::Ambiguous {
                query: "a0000000-0000".into(),
                count: 2,
                shown: vec![U1.into(), U2.into()],
            }
        );
        let msg = err.to_string();
        assert!(msg.contains(U1) && msg.contains("give more"), "{msg}");
    }

    #[test]
    fn short_or_unknown_hex_is_a_file_name() {
        // Four digits are a file name even though a uuid starts with them.
        assert_eq!(matcher("b1c2").unwrap(), Matcher::Name("b1c2".into()));
        assert_eq!(
            matcher("deadbeef").unwrap(),
            Matcher::Name("deadbeef".into())
        );
    }

    #[test]
    fn names_match_a_part_of_the_file_name_ignoring_case_and_normalization() {
        let m = matcher("img_0001").unwrap();
        assert!(m.matches(U1, "anna/2026/09/10/IMG_0001.JPG"));
        assert!(m.matches(U1, "anna/2026/09/10/IMG_0001.JPG.xmp"));
        assert!(!m.matches(U1, "anna/2026/09/10/IMG_0002.JPG"));
        // Only the name, not the folders.
        assert!(!matcher("anna")
            .unwrap()
            .matches(U1, "anna/2026/09/10/x.jpg"));
        let cafe = matcher("Caf\u{e9}").unwrap();
        assert!(cafe.matches(U1, "anna/2026/09/10/CAFE\u{301} 1.JPG"));
    }

    #[test]
    fn dates_match_the_folder_of_the_file() {
        let day = matcher("2026-09-10").unwrap();
        let month = matcher("2026-09").unwrap();
        assert!(day.matches(U1, "anna/2026/09/10/IMG_1.JPG"));
        assert!(!day.matches(U1, "anna/2026/09/11/IMG_1.JPG"));
        assert!(month.matches(U1, "anna/2026/09/11/IMG_1.JPG"));
        assert!(!month.matches(U1, "anna/2026/10/01/IMG_1.JPG"));
        assert!(!month.matches(U1, "anna/2026/09/IMG_1.JPG"));
        assert_eq!(folder_date("anna/2019/05/01/x"), Some((2019, 5, 1)));
        assert_eq!(folder_date("anna/19/05/01/x"), None);
    }

    #[test]
    fn descriptions_say_what_was_looked_for() {
        assert_eq!(
            matcher("2026-09").unwrap().describe(),
            "photos dated 2026-09"
        );
        assert_eq!(
            matcher("IMG").unwrap().describe(),
            "file names holding \"img\""
        );
    }
}
