//! A whole Takeout set's member list, generated the way Google names
//! things (issue 19), matched through the library's public API: every
//! media file must find exactly the JSON it was generated with, across
//! parts, year and album folders, duplicate counters, both sidecar
//! spellings and their cuts, long media names, NFD names, edited copies
//! and the video halves of Live photos; and nothing may find a JSON it was
//! not generated with. Names follow the rules converter projects observed
//! (immich-go `docs/google-takeout.md` and matcher tests,
//! `GooglePhotosTakeoutHelper` pull request 449, ente pull request 4956);
//! the generator restates them independently of `takeout::names`.

use std::collections::{BTreeMap, HashMap};

use photos_backup::takeout::names::Naming;
use photos_backup::takeout::sidecar_match::{match_members, Member, Rule};
use unicode_normalization::UnicodeNormalization;

/// xorshift: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `s` cut to `limit` UTF-16 units, never through a character.
fn cut(s: &str, limit: usize) -> String {
    let mut units = 0;
    s.chars()
        .take_while(|c| {
            units += c.len_utf16();
            units <= limit
        })
        .collect()
}

fn counter(n: Option<u32>) -> String {
    n.map_or(String::new(), |n| format!("({n})"))
}

/// The exported media name: stem cut to 47 units, counter, extension.
fn media_name(stem: &str, extension: &str, n: Option<u32>) -> String {
    format!("{}{}{extension}", cut(stem, 47), counter(n))
}

/// The JSON name: the original name (maybe with the supplemental infix)
/// cut to 46 units, the counter, `.json`.
fn json_name(original: &str, supplemental: bool, n: Option<u32>) -> String {
    let whole = if supplemental {
        format!("{original}.supplemental-metadata")
    } else {
        original.to_owned()
    };
    format!("{}{}.json", cut(&whole, 46), counter(n))
}

/// What one generated set should match to.
#[derive(Default)]
struct Expected {
    members: Vec<Member>,
    /// How many parts the set has.
    parts: usize,
    /// Media path → (JSON path, whether shared through an edit or a video).
    pairs: BTreeMap<String, (String, Option<Rule>)>,
    without_json: Vec<String>,
}

impl Expected {
    /// A member in a random part.
    fn push(&mut self, rng: &mut Rng, path: String) {
        self.members.push(Member {
            part: rng.below(self.parts),
            path,
        });
    }
}

const FOLDERS: [&str; 4] = [
    "Photos from 2019",
    "Photos from 2020",
    "Urlaub am Meer",
    "Cafe\u{301}",
];

fn generate(seed: u64) -> Expected {
    let mut rng = Rng(seed);
    let mut out = Expected {
        parts: 1 + rng.below(5),
        ..Expected::default()
    };
    photos(&mut out, &mut rng);
    live_photos(&mut out, &mut rng, seed);
    for folder in &FOLDERS[2..] {
        out.push(
            &mut rng,
            format!("Takeout/Google Photos/{folder}/metadata.json"),
        );
    }
    // The order members arrive in is the parts' order, not the names'.
    for i in (1..out.members.len()).rev() {
        let j = rng.below(i + 1);
        out.members.swap(i, j);
    }
    out
}

/// Photos from a pool of names (so that one folder gets a name twice and
/// Google's counter), in a year folder and often an album, with a JSON of
/// either spelling or none, some with an edited copy, some spelled NFD.
fn photos(out: &mut Expected, rng: &mut Rng) {
    const TAILS: [&str; 10] = [
        "",
        "_BURST",
        " Kopie",
        "é",
        "写真",
        "😀",
        "_very_long_name_from_a_camera_app",
        "-x",
        ".PORTRAIT",
        "ß☺️",
    ];
    const EXTENSIONS: [&str; 5] = [".jpg", ".JPG", ".HEIC", ".png", ".jpeg"];
    let pool: Vec<(String, &str)> = (0..30)
        .map(|i| {
            let mut stem = format!("IMG_{i:04}");
            for _ in 0..rng.below(4) {
                stem.push_str(TAILS[rng.below(TAILS.len())]);
            }
            (stem, EXTENSIONS[rng.below(EXTENSIONS.len())])
        })
        .collect();
    // Names used per folder, for Google's duplicate counters.
    let mut used: HashMap<(&str, String), u32> = HashMap::new();
    for _ in 0..120 {
        let (stem, extension) = &pool[rng.below(pool.len())];
        let original = format!("{stem}{extension}");
        let mut homes = vec![FOLDERS[rng.below(2)]];
        if rng.below(3) == 0 {
            homes.push(FOLDERS[2 + rng.below(2)]);
        }
        let supplemental = rng.below(2) == 0;
        let with_json = rng.below(10) != 0;
        let edited = rng.below(6) == 0;
        for folder in homes {
            let times = used.entry((folder, original.clone())).or_insert(0);
            let n = (*times > 0).then_some(*times);
            *times += 1;
            let dir = format!("Takeout/Google Photos/{folder}");
            let mut media = media_name(stem, extension, n);
            if rng.below(5) == 0 {
                media = media.nfd().collect();
            }
            let media_path = format!("{dir}/{media}");
            out.push(rng, media_path.clone());
            if !with_json {
                out.without_json.push(media_path);
                continue;
            }
            let json = format!("{dir}/{}", json_name(&original, supplemental, n));
            out.push(rng, json.clone());
            out.pairs.insert(media_path, (json.clone(), None));
            if edited && n.is_none() && stem.chars().count() < 30 {
                let copy = format!(
                    "{dir}/{}",
                    media_name(&format!("{stem}-bearbeitet"), extension, None)
                );
                out.push(rng, copy.clone());
                out.pairs
                    .insert(copy, (json, Some(Rule::Edited(Naming::Plain))));
            }
        }
    }
}

/// Live photos with stems of their own: `NAME.HEIC` and `NAME.MOV`,
/// `NAME.MP.jpg` and `NAME.MP`, the JSON of the photo only.
fn live_photos(out: &mut Expected, rng: &mut Rng, seed: u64) {
    for i in 0..10 {
        let dir = format!("Takeout/Google Photos/{}", FOLDERS[rng.below(4)]);
        let (photo, video) = if i % 2 == 0 {
            (
                format!("LIVE_{seed}_{i}.HEIC"),
                format!("LIVE_{seed}_{i}.MOV"),
            )
        } else {
            (
                format!("PXL_{seed}_{i}.MP.jpg"),
                format!("PXL_{seed}_{i}.MP"),
            )
        };
        let json = format!("{dir}/{}", json_name(&photo, rng.below(2) == 0, None));
        for path in [
            format!("{dir}/{photo}"),
            format!("{dir}/{video}"),
            json.clone(),
        ] {
            out.push(rng, path);
        }
        out.pairs
            .insert(format!("{dir}/{photo}"), (json.clone(), None));
        out.pairs
            .insert(format!("{dir}/{video}"), (json, Some(Rule::LivePartner)));
    }
}

#[test]
fn every_generated_set_matches_exactly() {
    // How often each rule matched, over all sets: each must occur.
    let mut rules: BTreeMap<String, usize> = BTreeMap::new();
    for seed in 1..=40u64 {
        let set = generate(seed);
        let m = &set.members;
        let got = match_members(m);
        assert!(
            got.ambiguities.is_empty(),
            "seed {seed}: {:?}",
            got.ambiguities
        );
        let mut pairs = BTreeMap::new();
        for p in &got.pairs {
            let name = format!("{:?}", p.rule);
            *rules.entry(name).or_default() += 1;
            if m[p.json].path.ends_with(").json") {
                *rules.entry("counter".into()).or_default() += 1;
            }
            if m[p.media].path.nfc().collect::<String>() != m[p.media].path {
                *rules.entry("NFD".into()).or_default() += 1;
            }
            let shared = matches!(p.rule, Rule::Edited(_) | Rule::LivePartner).then_some(p.rule);
            pairs.insert(m[p.media].path.clone(), (m[p.json].path.clone(), shared));
        }
        // The edited rule's naming is whatever fit; compare only the kind.
        let kind = |(json, rule): &(String, Option<Rule>)| {
            (json.clone(), rule.map(|r| matches!(r, Rule::LivePartner)))
        };
        let want: BTreeMap<_, _> = set
            .pairs
            .iter()
            .map(|(k, v)| (k.clone(), kind(v)))
            .collect();
        let have: BTreeMap<_, _> = pairs.iter().map(|(k, v)| (k.clone(), kind(v))).collect();
        for (media, expected) in &want {
            assert_eq!(have.get(media), Some(expected), "seed {seed}: {media}");
        }
        assert_eq!(have.len(), want.len(), "seed {seed}: extra pairs");
        let mut without: Vec<String> = got
            .media_without_json
            .iter()
            .map(|&i| m[i].path.clone())
            .collect();
        let mut expected_without = set.without_json.clone();
        without.sort();
        expected_without.sort();
        assert_eq!(without, expected_without, "seed {seed}");
        assert!(got.json_without_media.is_empty(), "seed {seed}");
        assert_eq!(got.album_files.len(), 2, "seed {seed}");
    }
    for rule in [
        "Own(Plain)",
        "Own(Supplemental)",
        "Own(Cut)",
        "Edited(Plain)",
        "Edited(Supplemental)",
        "Edited(Cut)",
        "LivePartner",
        "counter",
        "NFD",
    ] {
        assert!(
            rules.get(rule).is_some_and(|&n| n > 0),
            "{rule} never occurred: {rules:?}"
        );
    }
}

const YEAR: &str = "Takeout/Google Fotos/Photos from 2021";
const ALBUM: &str = "Takeout/Google Fotos/Urlaub";

/// A photo in a year folder and an album (with its edited copy), the JSON
/// in other parts, the album's `Metadaten.json`: the members and the
/// contents of the JSON among them.
fn small_set() -> (Vec<Member>, HashMap<String, &'static str>) {
    let json = r#"{"title": "PXL_20210811_190258322.jpg", "description": "Am Strand",
        "photoTakenTime": {"timestamp": "1628708578", "formatted": "11.08.2021"},
        "creationTime": {"timestamp": "1628800000"},
        "geoData": {"latitude": 0.0, "longitude": 0.0},
        "geoDataExif": {"latitude": 54.1, "longitude": 7.9},
        "people": [{"name": "Carla"}], "favorited": true, "appSource": {"androidPackageName": "x"}}"#;
    let sidecar = "PXL_20210811_190258322.jpg.supplemental-metada.json";
    let contents: HashMap<String, &str> = [
        (format!("{YEAR}/{sidecar}"), json),
        (format!("{ALBUM}/{sidecar}"), json),
        (
            format!("{ALBUM}/Metadaten.json"),
            r#"{"title": "Urlaub an der See"}"#,
        ),
    ]
    .into_iter()
    .collect();
    let members = [
        (2, format!("{YEAR}/{sidecar}")),
        (0, format!("{ALBUM}/PXL_20210811_190258322.jpg")),
        (1, format!("{ALBUM}/Metadaten.json")),
        (0, format!("{YEAR}/PXL_20210811_190258322.jpg")),
        (1, format!("{ALBUM}/{sidecar}")),
        (1, format!("{ALBUM}/PXL_20210811_190258322-bearbeitet.jpg")),
    ]
    .into_iter()
    .map(|(part, path)| Member { part, path })
    .collect();
    (members, contents)
}

/// From member names and contents to the XMP of each photo: the pairing,
/// the JSON, the album title of the folder, the day in the configured zone.
#[test]
fn a_small_set_to_its_sidecars() {
    use photos_backup::export::xmp::write;
    use photos_backup::takeout::metadata::{parse_album, parse_sidecar, shown_at};
    use photos_backup::takeout::xmp_fields::{fields, fingerprint};

    let (m, contents) = small_set();
    let (year, album) = (YEAR, ALBUM);
    let matching = match_members(&m);
    assert_eq!(matching.pairs.len(), 3);
    let titles: HashMap<&str, String> = matching
        .album_files
        .iter()
        .map(|&i| {
            let path = m[i].path.as_str();
            let title = parse_album(path, contents[path].as_bytes())
                .unwrap()
                .title
                .unwrap();
            (path.rsplit_once('/').unwrap().0, title)
        })
        .collect();
    let berlin = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let mut sidecars = BTreeMap::new();
    let mut fingerprints = BTreeMap::new();
    for pair in &matching.pairs {
        let json_path = m[pair.json].path.as_str();
        let sidecar = parse_sidecar(json_path, contents[json_path].as_bytes()).unwrap();
        let taken = shown_at(sidecar.taken.unwrap(), None, &berlin);
        let media = m[pair.media].path.as_str();
        let (folder, name) = media.rsplit_once('/').unwrap();
        let albums: Vec<&str> = titles.get(folder).map(String::as_str).into_iter().collect();
        // A stand-in for the content hash: the same photo in two folders
        // has the same content, its edited copy another.
        let hash = format!("blake3:{name}");
        let f = fields(Some(&sidecar), taken, &albums, &hash, name);
        assert_eq!(fingerprint(&f), fingerprint(&f.clone()));
        sidecars.insert(media.to_owned(), write(&f));
        fingerprints.insert(media.to_owned(), fingerprint(&f));
    }
    for (media, xml) in &sidecars {
        assert!(
            xml.contains("<rdf:li xml:lang=\"x-default\">Am Strand</rdf:li>"),
            "{media}"
        );
        assert!(
            xml.contains("<photoshop:DateCreated>2021-08-11T21:02:58+02:00<"),
            "{media}"
        );
        // The JSON title (the name as uploaded) is the title too.
        let title = xml
            .split("<dc:title>")
            .nth(1)
            .and_then(|t| t.split("</dc:title>").next());
        assert!(
            title.is_some_and(|t| t.contains(">PXL_20210811_190258322.jpg</rdf:li>")),
            "{media}: {title:?}"
        );
        assert!(xml.contains("<exif:GPSLatitude>54,06.000000N<"), "{media}");
        assert!(xml.contains("<rdf:li>Carla</rdf:li>"), "{media}");
        assert!(xml.contains("<xmp:Rating>5<"), "{media}");
        assert!(
            xml.contains("<photosbackup:OriginalFilename>PXL_20210811_190258322.jpg<"),
            "{media}"
        );
        let in_album = media.starts_with(album);
        assert_eq!(
            xml.contains("<rdf:li>Urlaub an der See</rdf:li>"),
            in_album,
            "{media}"
        );
    }
    // Three sidecars: the album's copy, the year folder's (no album) and
    // the edited copy (its own content) all differ.
    let edited = &fingerprints[&format!("{album}/PXL_20210811_190258322-bearbeitet.jpg")];
    let original = &fingerprints[&format!("{album}/PXL_20210811_190258322.jpg")];
    let in_year = &fingerprints[&format!("{year}/PXL_20210811_190258322.jpg")];
    assert_ne!(edited, original);
    assert_ne!(in_year, original);
    assert_ne!(in_year, edited);
}
