//! The seeded "realistic library" mix: a tiny deterministic PRNG
//! (`SplitMix64`, no dependency) and an iterator of `AssetSpec`s whose
//! proportions follow a typical iPhone library kept in iCloud. The same seed
//! always gives the same assets, so a benchmark or a failing test can be
//! rebuilt exactly.

use std::ops::RangeInclusive;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};

use super::{AssetSpec, Burst, DbText, Edit, Kind};

/// `SplitMix64` (Steele, Lea, Flood 2014): fast, tiny, good enough for test data.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift: unbiased enough for test data, no division.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A float in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// A version-4-shaped uppercase UUID, the way Photos writes them, from a seed.
#[must_use]
pub fn uuid_from(seed: u64) -> String {
    let mut rng = SplitMix64::new(seed);
    make_uuid(&mut rng)
}

fn make_uuid(rng: &mut SplitMix64) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    format!(
        "{:08X}-{:04X}-4{:03X}-{:04X}-{:012X}",
        a >> 32,
        (a >> 16) & 0xFFFF,
        a & 0x0FFF,
        0x8000 | ((b >> 48) & 0x3FFF),
        b & 0xFFFF_FFFF_FFFF
    )
}

const KEYWORDS: &[&str] = &[
    "beach",
    "birthday",
    "family",
    "friends",
    "holiday",
    "hiking",
    "snow",
    "sunset",
    "food",
    "cat",
    "dog",
    "garden",
    "wedding",
    "concert",
    "museum",
    "Café",
    // Decomposed (NFD), as Photos 5 stores some names.
    "Zu\u{308}rich",
    "São Paulo",
    "東京",
    "work",
];

const PERSONS: &[&str] = &[
    "Alice", "Bob", "Carol", "Dave", "Eve", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Zoë",
];

const ALBUMS: &[&str] = &[
    "Summer",
    "Family",
    "Trip to Italy",
    "Best of",
    "Kids",
    "Pets",
    "Screenshots to sort",
    "Wedding",
    "2019-10/11 Paris",
    "Val d'Ise\u{300}re",
];

const PLACES: &[(f64, f64)] = &[
    (48.858_37, 2.294_481),
    (40.689_247, -74.044_502),
    (35.658_58, 139.745_433),
    (-33.856_784, 151.215_297),
    (51.500_729, -0.124_625),
    (37.819_929, -122.478_255),
    (45.923_697, 6.869_433),
];

/// Offsets seen on travelling phones, seconds east.
const OFFSETS: &[i32] = &[
    -28_800, -25_200, -18_000, -14_400, 0, 3_600, 7_200, 19_800, 32_400, 36_000,
];

/// Endless realistic assets from one seed.
pub struct Generator {
    rng: SplitMix64,
    start: i64,
    /// Nothing happens after the range: no dates in the future of the data.
    end: i64,
    span: i64,
    counter: u64,
    /// Frames still to make for the burst in progress: (uuid, left, index).
    burst: Option<(String, u32, u32)>,
    last_created: i64,
}

impl Generator {
    pub fn new(seed: u64, years: RangeInclusive<i32>) -> Self {
        let first = *years.start();
        let last = (*years.end()).max(first);
        let start = year_start(first);
        let end = year_start(last + 1);
        Self {
            rng: SplitMix64::new(seed ^ 0x5EED_5EED_5EED_5EED),
            start,
            end,
            span: (end - start).max(1),
            counter: 0,
            burst: None,
            last_created: start,
        }
    }

    fn at(seconds: i64, millis: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap_or_default() + TimeDelta::milliseconds(millis)
    }

    /// The next frame of the burst in progress: its id and index.
    fn continue_burst(&mut self) -> Option<(String, u32)> {
        let (id, left, index) = self.burst.take()?;
        if left > 1 {
            self.burst = Some((id.clone(), left - 1, index + 1));
        }
        Some((id, index))
    }

    /// Burst membership: a frame of the burst in progress, or now and then
    /// the key frame of a new burst of 3 to 8 frames.
    fn burst(&mut self, frame: Option<(String, u32)>, movie: bool) -> Option<Burst> {
        let rng = &mut self.rng;
        match frame {
            Some((uuid, index)) => Some(Burst {
                uuid,
                pick: if index == 0 {
                    Burst::KEY | Burst::DEFAULT_PICK
                } else if rng.chance(0.2) {
                    Burst::SELECTED
                } else {
                    Burst::NOT_SELECTED
                },
            }),
            None if !movie && rng.chance(0.005) => {
                let uuid = make_uuid(rng);
                let frames = 3 + rng.below(6) as u32;
                self.burst = Some((uuid.clone(), frames - 1, 1));
                Some(Burst {
                    uuid,
                    pick: Burst::KEY | Burst::DEFAULT_PICK,
                })
            }
            None => None,
        }
    }

    /// Extension and import name: HEIC from 2017 on, a few PNG screenshots.
    fn file_kind(&mut self, movie: bool, year: i32) -> (&'static str, String) {
        let rng = &mut self.rng;
        let n = self.counter % 10_000;
        match (movie, rng.below(100)) {
            (true, 0..=9) => ("mp4", format!("IMG_{n:04}.MP4")),
            (true, _) => ("mov", format!("IMG_{n:04}.MOV")),
            (false, 0..=2) => ("png", format!("Screenshot {}.png", self.counter)),
            (false, 3..=72) if year >= 2017 => ("heic", format!("IMG_{n:04}.HEIC")),
            (false, _) => ("jpeg", format!("IMG_{n:04}.JPG")),
        }
    }

    /// Added (most within a day, some years later), edited, modified; never
    /// after the end of the range.
    fn dates(
        &mut self,
        created: DateTime<Utc>,
    ) -> (DateTime<Utc>, Option<Edit>, Option<DateTime<Utc>>) {
        let rng = &mut self.rng;
        let last = Self::at(self.end, 0) - TimeDelta::milliseconds(1);
        let delay = if rng.chance(0.9) {
            rng.below(86_400)
        } else {
            rng.below(3 * 365 * 86_400)
        };
        let added = (created
            + TimeDelta::seconds(delay as i64)
            + TimeDelta::milliseconds(rng.below(1000) as i64))
        .min(last);
        let edit = rng.chance(0.10).then(|| Edit {
            at: (added + TimeDelta::seconds(rng.below(365 * 86_400) as i64 + 1)).min(last),
            external: rng.chance(0.05),
        });
        let modified = match &edit {
            Some(e) => e.at,
            None => (added + TimeDelta::seconds(rng.below(30 * 86_400) as i64)).min(last),
        };
        (added, edit, Some(modified))
    }

    fn next_spec(&mut self) -> AssetSpec {
        self.counter += 1;
        let uuid = make_uuid(&mut self.rng);
        // Frames of a burst share their second of creation.
        let frame = self.continue_burst();
        if frame.is_none() {
            self.last_created = self.start + self.rng.below(self.span as u64) as i64;
        }
        let created = Self::at(self.last_created, self.rng.below(1000) as i64);
        let movie = frame.is_none() && self.rng.chance(0.05);
        let (extension, original_filename) = self.file_kind(movie, created.year());
        let (added, edit, modified) = self.dates(created);
        let burst = self.burst(frame, movie);
        let counter = self.counter;
        let rng = &mut self.rng;

        let still = !movie && burst.is_none();
        let mut persons = words(rng, 0.15, PERSONS, 3);
        if rng.chance(0.02) {
            persons.push(String::new());
        }
        AssetSpec {
            kind: if movie { Kind::Movie } else { Kind::Photo },
            extension: extension.to_owned(),
            original_filename: DbText::Text(original_filename),
            tz_offset: Some(*rng.pick(OFFSETS)),
            added,
            modified,
            title: rng
                .chance(0.05)
                .then(|| DbText::Text(format!("Moment {counter}"))),
            description: rng
                .chance(0.03)
                .then(|| DbText::Text(format!("A description of asset {counter}"))),
            keywords: words(rng, 0.2, KEYWORDS, 3),
            persons,
            unassigned_faces: u32::from(rng.chance(0.03)),
            albums: words(rng, 0.10, ALBUMS, 2),
            favorite: rng.chance(0.05),
            hidden: rng.chance(0.01),
            trashed: rng.chance(0.02),
            live: still && extension != "png" && rng.chance(0.15),
            raw_pair: still && extension == "jpeg" && rng.chance(0.055),
            edit,
            burst,
            cloud_only: rng.chance(0.30),
            original_adjustments: still && rng.chance(0.01),
            location: rng.chance(0.6).then(|| *rng.pick(PLACES)),
            width: if movie { 1920 } else { 4032 },
            height: if movie { 1080 } else { 3024 },
            ..AssetSpec::photo(&uuid, created)
        }
    }
}

/// With probability `p`, 1 to `max` distinct words from `vocabulary`.
fn words(rng: &mut SplitMix64, p: f64, vocabulary: &[&str], max: u64) -> Vec<String> {
    if !rng.chance(p) {
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::new();
    for _ in 0..=rng.below(max) {
        let w = (*rng.pick(vocabulary)).to_owned();
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

fn year_start(year: i32) -> i64 {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(0, |t| t.and_utc().timestamp())
}

impl Iterator for Generator {
    type Item = AssetSpec;

    fn next(&mut self) -> Option<AssetSpec> {
        Some(self.next_spec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_assets() {
        let a: Vec<AssetSpec> = Generator::new(7, 2010..=2020).take(50).collect();
        let b: Vec<AssetSpec> = Generator::new(7, 2010..=2020).take(50).collect();
        assert_eq!(a, b);
        let c: Vec<AssetSpec> = Generator::new(8, 2010..=2020).take(50).collect();
        assert_ne!(a, c);
    }

    fn year_end(year: i32) -> DateTime<Utc> {
        DateTime::from_timestamp(year_start(year + 1), 0).unwrap()
    }

    #[test]
    fn dates_stay_in_the_years_asked() {
        for spec in Generator::new(1, 2015..=2016).take(500) {
            let year = spec.created.format("%Y").to_string();
            assert!(year == "2015" || year == "2016", "{year}");
            assert!(spec.added >= spec.created);
            assert!(spec.modified.unwrap() < year_end(2016));
            assert!(spec.edit.as_ref().is_none_or(|e| e.at < year_end(2016)));
        }
    }

    #[test]
    fn uuids_look_like_photos_uuids() {
        let u = uuid_from(1);
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert_eq!(u, u.to_uppercase());
        assert_ne!(u, uuid_from(2));
    }

    #[test]
    fn bursts_have_one_key_frame_and_share_a_date() {
        let specs: Vec<AssetSpec> = Generator::new(3, 2020..=2020).take(20_000).collect();
        let bursts: Vec<&AssetSpec> = specs.iter().filter(|s| s.burst.is_some()).collect();
        assert!(!bursts.is_empty());
        let first = bursts[0].burst.as_ref().unwrap();
        let frames: Vec<&&AssetSpec> = bursts
            .iter()
            .filter(|s| s.burst.as_ref().unwrap().uuid == first.uuid)
            .collect();
        assert!(frames.len() >= 3);
        let keys = frames
            .iter()
            .filter(|s| s.burst.as_ref().unwrap().pick & Burst::KEY != 0)
            .count();
        assert_eq!(keys, 1);
    }
}
