//! Which JSON belongs to which media file, over the member paths of a whole
//! Takeout set (every part together, since Google puts a photo and its JSON
//! in different parts: immich-go `docs/google-takeout.md`, issue 380). Pure:
//! names in, a typed answer out, nothing read. The naming rules are in
//! `names`; this file applies them per folder and settles conflicts the
//! same way every time.
//!
//! The answer has every member in exactly one place: a media file is in a
//! pair or without JSON; a JSON is in a pair, an album's metadata, one of
//! Takeout's own files, without media, or a second copy of a JSON name in
//! its folder (`Ambiguity::SameJson`). A JSON that fits several media
//! files by their own names goes to one (the best rule, then the first by
//! folder, name and part) and the case is listed; edited copies and the
//! video halves of Live and motion photos share their original's JSON.

use std::collections::HashMap;

use super::names::{self, Naming};

/// One member of one part: `path` as it is in the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The part's position in its set (`-001` is 0).
    pub part: usize,
    pub path: String,
}

/// Why a media file got its JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    /// By its own name.
    Own(Naming),
    /// By its own name in another case (`IMG_7.JPG` with `img_7.jpg.json`),
    /// when no JSON has the exact name; an exact claim on the same JSON wins.
    OwnAnyCase(Naming),
    /// An edited copy (`-edited`, `-bearbeitet`, ...), by its original's name.
    Edited(Naming),
    /// The video half of a Live or motion photo, through its photo's JSON.
    LivePartner,
}

/// A media file and its JSON (indices into the members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pair {
    pub media: usize,
    pub json: usize,
    pub rule: Rule,
}

/// A conflict and how it was settled.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ambiguity {
    /// One JSON name twice in one folder (the same file in two parts, or NFC
    /// and NFD spellings): the first by part, then path is used.
    SameJson { used: usize, others: Vec<usize> },
    /// Several JSON names fit one media file (`NAME.json` and
    /// `NAME.supplemental-metadata.json`): the first by rule order is used;
    /// the others, claimed by nothing else, are also without media.
    SeveralJson {
        media: usize,
        used: usize,
        others: Vec<usize>,
    },
    /// Several media files fit one JSON by their own names (two long names
    /// cut to the same 46 units): the best rule wins, on a tie the first by
    /// folder, name, part; the others are without JSON.
    SharedJson {
        json: usize,
        winner: usize,
        others: Vec<usize>,
    },
}

/// Every member sorted into what it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matching {
    /// By media index.
    pub pairs: Vec<Pair>,
    pub media_without_json: Vec<usize>,
    pub json_without_media: Vec<usize>,
    /// Album metadata files (`metadata.json`, `Metadaten.json`, ...).
    pub album_files: Vec<usize>,
    /// Takeout's own JSON files (`print-subscriptions.json`, ...).
    pub takeout_files: Vec<usize>,
    pub ambiguities: Vec<Ambiguity>,
}

/// A media file's claim on a JSON.
struct Claim {
    json: usize,
    rule: Rule,
}

/// The members by kind, with the JSON by folder and name.
struct Index<'m> {
    members: &'m [Member],
    /// Folder → JSON key → JSON members, first by part then path.
    jsons: HashMap<String, HashMap<String, Vec<usize>>>,
    /// Folder → lowercase JSON key → the first of them, for names that
    /// differ only in case.
    folded: HashMap<String, HashMap<String, usize>>,
    /// Media members by folder, name, part.
    media: Vec<usize>,
}

impl<'m> Index<'m> {
    /// Sorts `members` into `out`'s album and Takeout files, the JSON and
    /// the media; the same JSON name twice in a folder is listed.
    fn new(members: &'m [Member], out: &mut Matching) -> Self {
        let mut jsons: HashMap<String, HashMap<String, Vec<usize>>> = HashMap::new();
        let mut media: Vec<usize> = Vec::new();
        for (i, m) in members.iter().enumerate() {
            if m.path.ends_with('/') {
                continue;
            }
            let name = names::file_name(&m.path);
            match names::json_key(name) {
                Some(_) if names::is_album_metadata(name) => out.album_files.push(i),
                Some(_) if names::is_takeout_file(name) => out.takeout_files.push(i),
                Some(key) => jsons
                    .entry(names::nfc(names::folder(&m.path)))
                    .or_default()
                    .entry(key)
                    .or_default()
                    .push(i),
                None => media.push(i),
            }
        }
        for list in jsons.values_mut().flat_map(HashMap::values_mut) {
            list.sort_by(|&a, &b| {
                (members[a].part, &members[a].path, a).cmp(&(members[b].part, &members[b].path, b))
            });
            if let [used, others @ ..] = list.as_slice() {
                if !others.is_empty() {
                    out.ambiguities.push(Ambiguity::SameJson {
                        used: *used,
                        others: others.to_vec(),
                    });
                }
            }
        }
        media.sort_by_cached_key(|&i| order(members, i));
        let mut folded: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (folder, keys) in &jsons {
            let mut keys: Vec<(&String, usize)> =
                keys.iter().map(|(key, list)| (key, list[0])).collect();
            keys.sort_unstable();
            let lower = folded.entry(folder.clone()).or_default();
            for (key, json) in keys {
                lower.entry(key.to_lowercase()).or_insert(json);
            }
        }
        Self {
            members,
            jsons,
            folded,
            media,
        }
    }

    /// The JSON that fit a media file named `name` in `folder`, best first;
    /// only when none has the exact name, those that differ in case (other
    /// importers fold case: the "rekindle" Takeout plan, "Filename lookups
    /// casefold").
    /// Whether the names found differ in case is the second value.
    fn lookup(&self, folder: &str, name: &str) -> (Vec<(usize, Naming)>, bool) {
        let (Some(exact), Some(any_case)) = (self.jsons.get(folder), self.folded.get(folder))
        else {
            return (Vec::new(), false);
        };
        let candidates = names::sidecar_names(name);
        let found: Vec<(usize, Naming)> = candidates
            .iter()
            .filter_map(|(key, naming)| Some((exact.get(key)?[0], *naming)))
            .collect();
        if !found.is_empty() {
            return (found, false);
        }
        let found = candidates
            .iter()
            .filter_map(|(key, naming)| Some((*any_case.get(&key.to_lowercase())?, *naming)))
            .collect();
        (found, true)
    }

    /// Each media file's claim by its own name, else (an edited copy) by
    /// its original's; several JSON for one file are listed.
    fn claims(&self, out: &mut Matching) -> HashMap<usize, Claim> {
        let mut claims = HashMap::new();
        for &i in &self.media {
            let path = &self.members[i].path;
            let folder = names::nfc(names::folder(path));
            let name = names::file_name(path);
            let (own, any_case) = self.lookup(&folder, name);
            let rule = if any_case {
                Rule::OwnAnyCase
            } else {
                Rule::Own
            };
            let mut found: Vec<(usize, Rule)> = own
                .into_iter()
                .map(|(json, naming)| (json, rule(naming)))
                .collect();
            if found.is_empty() {
                if let Some(original) = names::unedited(name) {
                    found = self
                        .lookup(&folder, &original)
                        .0
                        .into_iter()
                        .map(|(json, naming)| (json, Rule::Edited(naming)))
                        .collect();
                }
            }
            if let [(json, rule), rest @ ..] = found.as_slice() {
                let mut others: Vec<usize> = rest.iter().map(|(j, _)| *j).collect();
                others.retain(|j| j != json);
                others.sort_unstable();
                others.dedup();
                if !others.is_empty() {
                    out.ambiguities.push(Ambiguity::SeveralJson {
                        media: i,
                        used: *json,
                        others,
                    });
                }
                claims.insert(
                    i,
                    Claim {
                        json: *json,
                        rule: *rule,
                    },
                );
            }
        }
        claims
    }

    /// A JSON several media files claim by their own names goes to one: the
    /// best rule, on a tie the first in order. The same path in two parts
    /// is one file twice, not a conflict.
    fn settle_shared(&self, claims: &mut HashMap<usize, Claim>, out: &mut Matching) {
        let mut by_json: HashMap<usize, Vec<usize>> = HashMap::new();
        for &i in &self.media {
            if let Some(Claim {
                json,
                rule: Rule::Own(_) | Rule::OwnAnyCase(_),
            }) = claims.get(&i)
            {
                by_json.entry(*json).or_default().push(i);
            }
        }
        let mut by_json: Vec<(usize, Vec<usize>)> = by_json.into_iter().collect();
        by_json.sort_unstable();
        for (json, claimants) in by_json {
            let Some(winner) = claimants.iter().copied().min_by_key(|i| claims[i].rule) else {
                continue;
            };
            let others: Vec<usize> = claimants
                .into_iter()
                .filter(|&i| self.members[i].path != self.members[winner].path)
                .collect();
            if !others.is_empty() {
                for i in &others {
                    claims.remove(i);
                }
                out.ambiguities.push(Ambiguity::SharedJson {
                    json,
                    winner,
                    others,
                });
            }
        }
    }

    /// The video half of a Live or motion photo without a JSON of its own
    /// shares its photo's: `NAME.MP` or `NAME.MP~2` beside `NAME.MP.jpg`,
    /// `NAME.MOV` beside `NAME.HEIC`, `NAME.MP4` beside `NAME.jpg`. With
    /// several photos of that stem, the first in order.
    fn live_partners(&self, claims: &mut HashMap<usize, Claim>) {
        let mut photos: HashMap<(String, String), usize> = HashMap::new();
        for &i in &self.media {
            let path = &self.members[i].path;
            if names::is_video(path) || !claims.contains_key(&i) {
                continue;
            }
            let (stem, _) = names::split_extension(names::file_name(path));
            let folder = names::nfc(names::folder(path));
            // A Pixel's `X.MP.jpg` goes with `X.MP` and with `X.MP4`.
            let bare = stem
                .len()
                .checked_sub(3)
                .filter(|&i| i > 0 && stem.get(i..).is_some_and(|e| e.eq_ignore_ascii_case(".MP")))
                .map(|i| &stem[..i]);
            for key in std::iter::once(stem).chain(bare) {
                photos.entry((folder.clone(), names::nfc(key))).or_insert(i);
            }
        }
        for &i in &self.media {
            let path = &self.members[i].path;
            if claims.contains_key(&i) || !names::is_video(path) {
                continue;
            }
            let folder = names::nfc(names::folder(path));
            let name = names::nfc(names::file_name(path));
            let (stem, _) = names::split_extension(&name);
            let photo = [name.as_str(), stem]
                .iter()
                .find_map(|s| photos.get(&(folder.clone(), (*s).to_owned())));
            if let Some(photo) = photo {
                let json = claims[photo].json;
                claims.insert(
                    i,
                    Claim {
                        json,
                        rule: Rule::LivePartner,
                    },
                );
            }
        }
    }
}

/// The order conflicts are settled in: folder, name (NFC), part, index.
fn order(members: &[Member], i: usize) -> (String, String, usize, usize) {
    let path = &members[i].path;
    (
        names::nfc(names::folder(path)),
        names::nfc(names::file_name(path)),
        members[i].part,
        i,
    )
}

/// Matches every media file of `members` with its JSON (see the module).
#[must_use]
pub fn match_members(members: &[Member]) -> Matching {
    let mut out = Matching::default();
    let index = Index::new(members, &mut out);
    let mut claims = index.claims(&mut out);
    index.settle_shared(&mut claims, &mut out);
    index.live_partners(&mut claims);

    let mut used = vec![false; members.len()];
    for &i in &index.media {
        match claims.get(&i) {
            Some(claim) => {
                used[claim.json] = true;
                out.pairs.push(Pair {
                    media: i,
                    json: claim.json,
                    rule: claim.rule,
                });
            }
            None => out.media_without_json.push(i),
        }
    }
    let mut unused: Vec<usize> = index
        .jsons
        .values()
        .flat_map(HashMap::values)
        .filter_map(|list| list.first())
        .copied()
        .filter(|&j| !used[j])
        .collect();
    unused.sort_by_cached_key(|&j| order(members, j));
    out.json_without_media = unused;
    out.ambiguities.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GP: &str = "Takeout/Google Photos";

    fn members(list: &[(usize, &str)]) -> Vec<Member> {
        list.iter()
            .map(|&(part, path)| Member {
                part,
                path: path.to_owned(),
            })
            .collect()
    }

    /// The pairs by path, for readable assertions.
    fn pairs(m: &[Member], out: &Matching) -> Vec<(String, String, Rule)> {
        let mut v: Vec<_> = out
            .pairs
            .iter()
            .map(|p| (m[p.media].path.clone(), m[p.json].path.clone(), p.rule))
            .collect();
        v.sort();
        v
    }

    fn paths(m: &[Member], list: &[usize]) -> Vec<String> {
        list.iter().map(|&i| m[i].path.clone()).collect()
    }

    /// Every member is in exactly one list (JSON left out as a duplicate
    /// name are in `SameJson`).
    fn assert_accounted(m: &[Member], out: &Matching) {
        let mut seen = vec![0; m.len()];
        let mut jsons_used = std::collections::HashSet::new();
        for p in &out.pairs {
            seen[p.media] += 1;
            jsons_used.insert(p.json);
        }
        for &j in &jsons_used {
            seen[j] += 1;
        }
        for list in [
            &out.media_without_json,
            &out.json_without_media,
            &out.album_files,
            &out.takeout_files,
        ] {
            for &i in list {
                seen[i] += 1;
            }
        }
        for a in &out.ambiguities {
            if let Ambiguity::SameJson { others, .. } = a {
                for &i in others {
                    seen[i] += 1;
                }
            }
        }
        for (i, count) in seen.iter().enumerate() {
            let directory = m[i].path.ends_with('/');
            assert_eq!(*count, usize::from(!directory), "{}", m[i].path);
        }
    }

    /// Names from immich-go's docs and matcher test, ente issue 4953,
    /// `GooglePhotosTakeoutHelper` `_noExtension`.
    #[test]
    fn a_year_folder_with_every_naming() {
        let m = members(&[
            (0, "Takeout/Google Photos/Photos from 2023/"),
            (0, &format!("{GP}/Photos from 2023/IMG_3479.JPG")),
            (0, &format!("{GP}/Photos from 2023/IMG_3479(1).JPG")),
            (0, &format!("{GP}/Photos from 2023/IMG_3479.JPG.json")),
            (0, &format!("{GP}/Photos from 2023/IMG_3479.JPG(1).json")),
            (
                0,
                &format!("{GP}/Photos from 2023/PXL_20211013_220651983.jpg"),
            ),
            (
                0,
                &format!(
                    "{GP}/Photos from 2023/PXL_20211013_220651983.jpg.supplemental-metada.json"
                ),
            ),
            (
                0,
                &format!("{GP}/Photos from 2023/05yqt21kruxwwlhhgrwrdyb6chhwszi9bqmzu16w0 2.jpg"),
            ),
            (
                0,
                &format!(
                    "{GP}/Photos from 2023/05yqt21kruxwwlhhgrwrdyb6chhwszi9bqmzu16w0 2.jp.json"
                ),
            ),
            (0, &format!("{GP}/Photos from 2023/20030616.jpg")),
            (0, &format!("{GP}/Photos from 2023/20030616.json")),
            (0, &format!("{GP}/Photos from 2023/lonely.jpg")),
            (0, &format!("{GP}/Photos from 2023/gone.jpg.json")),
        ]);
        let out = match_members(&m);
        assert_accounted(&m, &out);
        let y = |n: &str| format!("{GP}/Photos from 2023/{n}");
        assert_eq!(
            pairs(&m, &out),
            vec![
                (
                    y("05yqt21kruxwwlhhgrwrdyb6chhwszi9bqmzu16w0 2.jpg"),
                    y("05yqt21kruxwwlhhgrwrdyb6chhwszi9bqmzu16w0 2.jp.json"),
                    Rule::Own(Naming::Cut)
                ),
                (
                    y("20030616.jpg"),
                    y("20030616.json"),
                    Rule::Own(Naming::WithoutExtension)
                ),
                (
                    y("IMG_3479(1).JPG"),
                    y("IMG_3479.JPG(1).json"),
                    Rule::Own(Naming::Plain)
                ),
                (
                    y("IMG_3479.JPG"),
                    y("IMG_3479.JPG.json"),
                    Rule::Own(Naming::Plain)
                ),
                (
                    y("PXL_20211013_220651983.jpg"),
                    y("PXL_20211013_220651983.jpg.supplemental-metada.json"),
                    Rule::Own(Naming::Cut)
                ),
            ]
        );
        assert_eq!(paths(&m, &out.media_without_json), vec![y("lonely.jpg")]);
        assert_eq!(paths(&m, &out.json_without_media), vec![y("gone.jpg.json")]);
        assert!(out.ambiguities.is_empty(), "{:?}", out.ambiguities);
    }

    #[test]
    fn edited_copies_share_the_original_json() {
        // immich-go docs/google-takeout.md: two images, one JSON.
        let f = |n: &str| format!("{GP}/Photos from 2022/{n}");
        let m = members(&[
            (0, &f("PXL_20220405_090123740.PORTRAIT.jpg")),
            (0, &f("PXL_20220405_090123740.PORTRAIT-modifié.jpg")),
            (1, &f("PXL_20220405_090123740.PORTRAIT.jpg.json")),
            (0, &f("IMG_1-bearbeitet.jpg")),
            (0, &f("IMG_1.jpg.supplemental-metadata.json")),
            // An edited copy with a JSON of its own keeps it.
            (0, &f("odd-edited.jpg")),
            (0, &f("odd-edited.jpg.json")),
            (0, &f("odd.jpg.json")),
        ]);
        let out = match_members(&m);
        assert_accounted(&m, &out);
        assert_eq!(
            pairs(&m, &out),
            vec![
                (
                    f("IMG_1-bearbeitet.jpg"),
                    f("IMG_1.jpg.supplemental-metadata.json"),
                    Rule::Edited(Naming::Supplemental)
                ),
                (
                    f("PXL_20220405_090123740.PORTRAIT-modifié.jpg"),
                    f("PXL_20220405_090123740.PORTRAIT.jpg.json"),
                    Rule::Edited(Naming::Plain)
                ),
                (
                    f("PXL_20220405_090123740.PORTRAIT.jpg"),
                    f("PXL_20220405_090123740.PORTRAIT.jpg.json"),
                    Rule::Own(Naming::Plain)
                ),
                (
                    f("odd-edited.jpg"),
                    f("odd-edited.jpg.json"),
                    Rule::Own(Naming::Plain)
                ),
            ]
        );
        assert_eq!(paths(&m, &out.json_without_media), vec![f("odd.jpg.json")]);
    }

    #[test]
    fn live_and_motion_photos_share_one_json() {
        // immich-go testgp_livephoto_test.go ("motion picture").
        let f = |n: &str| format!("{GP}/motion/{n}");
        let m = members(&[
            (0, &f("PXL_20210102_221126856.MP~2.jpg.json")),
            (0, &f("PXL_20210102_221126856.MP~2")),
            (0, &f("PXL_20210102_221126856.MP~2.jpg")),
            (0, &f("PXL_20210102_221126856.MP.jpg.json")),
            (0, &f("PXL_20210102_221126856.MP.jpg")),
            (1, &f("PXL_20210102_221126856.MP")),
            (0, &f("20231227_152817.jpg.json")),
            (0, &f("20231227_152817.jpg")),
            (2, &f("20231227_152817.MP4")),
            // The synthetic Takeout's motion photo: `X.MP.jpg` and `X.MP4`.
            (0, &f("PXL_20170101_120000028.MP.jpg.json")),
            (0, &f("PXL_20170101_120000028.MP.jpg")),
            (0, &f("PXL_20170101_120000028.MP4")),
            (0, &f("IMG_0001.HEIC")),
            (0, &f("IMG_0001.HEIC.supplemental-metadata.json")),
            (0, &f("IMG_0001.MOV")),
            // A video with its own JSON stays itself.
            (0, &f("nomotion.MP4")),
            (0, &f("nomotion.MP4.json")),
            // A video whose photo has no JSON has none.
            (0, &f("bare.jpg")),
            (0, &f("bare.mov")),
        ]);
        let out = match_members(&m);
        assert_accounted(&m, &out);
        let shared: Vec<(String, String)> = pairs(&m, &out)
            .into_iter()
            .filter(|(_, _, rule)| *rule == Rule::LivePartner)
            .map(|(media, json, _)| (media, json))
            .collect();
        assert_eq!(
            shared,
            vec![
                (f("20231227_152817.MP4"), f("20231227_152817.jpg.json")),
                (
                    f("IMG_0001.MOV"),
                    f("IMG_0001.HEIC.supplemental-metadata.json")
                ),
                (
                    f("PXL_20170101_120000028.MP4"),
                    f("PXL_20170101_120000028.MP.jpg.json")
                ),
                (
                    f("PXL_20210102_221126856.MP"),
                    f("PXL_20210102_221126856.MP.jpg.json")
                ),
                (
                    f("PXL_20210102_221126856.MP~2"),
                    f("PXL_20210102_221126856.MP~2.jpg.json")
                ),
            ]
        );
        let nomotion = out
            .pairs
            .iter()
            .find(|p| m[p.media].path == f("nomotion.MP4"))
            .unwrap();
        assert_eq!(m[nomotion.json].path, f("nomotion.MP4.json"));
        assert_eq!(
            paths(&m, &out.media_without_json),
            vec![f("bare.jpg"), f("bare.mov")]
        );
    }

    #[test]
    fn albums_parts_and_duplicates() {
        // immich-go issue 380: a photo in "1 anno fa", a year folder and an
        // album, its JSON in other parts than the photo.
        let year = |n: &str| format!("Takeout/Google Foto/Photos from 2022/{n}");
        let album = |n: &str| format!("Takeout/Google Foto/Amsterdam 2022/{n}");
        let ago = |n: &str| format!("Takeout/Google Foto/1 anno fa/{n}");
        let m = members(&[
            (0, &ago("130917ad28385b5a-photo.jpg")),
            (0, &ago("130917ad28385b5a-photo.jpg.json")),
            (2, &year("130917ad28385b5a-photo.jpg.json")),
            (3, &year("130917ad28385b5a-photo.jpg")),
            (8, &album("130917ad28385b5a-photo.jpg.json")),
            (8, &album("130917ad28385b5a-photo.jpg")),
            (8, &album("metadati.json")),
            (8, &ago("130917ad28385b5a-photo.jpg.json")),
            (9, &ago("130917ad28385b5a-photo.jpg")),
            (9, "Takeout/Google Foto/print-subscriptions.json"),
            (9, "Takeout/archive_browser.html"),
        ]);
        let out = match_members(&m);
        assert_accounted(&m, &out);
        let got = pairs(&m, &out);
        assert_eq!(got.len(), 4, "{got:?}");
        for (media, json, rule) in &got {
            assert_eq!(format!("{media}.json"), *json);
            assert_eq!(*rule, Rule::Own(Naming::Plain));
        }
        // The JSON twice in "1 anno fa" (parts 1 and 9): the first part's.
        assert_eq!(
            out.ambiguities,
            vec![Ambiguity::SameJson {
                used: 1,
                others: vec![7]
            }]
        );
        // The same photo twice at one path is one file: both take the JSON.
        assert!(out.pairs.iter().filter(|p| p.json == 1).count() == 2);
        assert_eq!(paths(&m, &out.album_files), vec![album("metadati.json")]);
        assert_eq!(
            paths(&m, &out.takeout_files),
            vec!["Takeout/Google Foto/print-subscriptions.json".to_owned()]
        );
        // Everything that is not JSON is media: nothing is dropped unseen.
        assert_eq!(
            paths(&m, &out.media_without_json),
            vec!["Takeout/archive_browser.html".to_owned()]
        );
    }

    /// Our own rule (no public source settles these): the best rule, then
    /// the first by folder, name, part; never the order members arrive in
    /// (the "rekindle" Takeout plan: "Never let dictionary insertion order
    /// resolve a collision").
    #[test]
    fn conflicts_are_settled_the_same_way_every_time() {
        let f = |n: &str| format!("{GP}/Photos from 2020/{n}");
        let stem = "x".repeat(44);
        let m = members(&[
            // Both spellings of one sidecar: the plain one is used.
            (0, &f("IMG_9.jpg.supplemental-metadata.json")),
            (0, &f("IMG_9.jpg.json")),
            (0, &f("IMG_9.jpg")),
            // Two long names cut to the same JSON: the exact name wins over
            // the cut one.
            (0, &f(&format!("{stem}.j.json"))),
            (0, &f(&format!("{stem}.jpg"))),
            (0, &f(&format!("{stem}.j"))),
            // Two names cut the same way: the first by name wins.
            (0, &f(&format!("{stem}ab.png"))),
            (0, &f(&format!("{stem}ab.gif"))),
            (0, &f(&format!("{stem}ab.json"))),
        ]);
        let out = match_members(&m);
        assert_accounted(&m, &out);
        assert_eq!(
            out.ambiguities,
            vec![
                Ambiguity::SeveralJson {
                    media: 2,
                    used: 1,
                    others: vec![0]
                },
                Ambiguity::SharedJson {
                    json: 3,
                    winner: 5,
                    others: vec![4]
                },
                Ambiguity::SharedJson {
                    json: 8,
                    winner: 7,
                    others: vec![6]
                },
            ]
        );
        // The spelling not used is listed as without media too.
        assert_eq!(
            paths(&m, &out.json_without_media),
            vec![f("IMG_9.jpg.supplemental-metadata.json")]
        );
        assert_eq!(
            paths(&m, &out.media_without_json),
            vec![f(&format!("{stem}.jpg")), f(&format!("{stem}ab.png"))]
        );
        // The order of the members does not change the answer.
        let mut reversed = m.clone();
        reversed.reverse();
        let again = match_members(&reversed);
        assert_eq!(pairs(&reversed, &again), pairs(&m, &out));
        assert_eq!(again.ambiguities.len(), 3);
    }

    /// `GooglePhotosTakeoutHelper` pull request 247 (macOS NFD names); the
    /// "rekindle" Takeout plan ("Filename lookups casefold").
    #[test]
    fn nfd_folders_and_case() {
        // An extracted Takeout copied on macOS: NFD names; JSON from a zip: NFC.
        let m = members(&[
            (0, "Takeout/Google Photos/Cafe\u{301}/Cre\u{300}me.jpg"),
            (1, "Takeout/Google Photos/Caf\u{e9}/Cr\u{e8}me.jpg.json"),
            // Only the case differs: taken when nothing matches exactly.
            (0, "Takeout/Google Photos/Caf\u{e9}/IMG_7.JPG"),
            (0, "Takeout/Google Photos/Caf\u{e9}/img_7.jpg.json"),
            (0, "Takeout/Google Photos/Caf\u{e9}/IMG_8.jpg"),
            (0, "Takeout/Google Photos/Caf\u{e9}/IMG_8.jpg.json"),
            (0, "Takeout/Google Photos/Caf\u{e9}/img_8.jpg.json"),
        ]);
        let out = match_members(&m);
        assert_accounted(&m, &out);
        let by_media: HashMap<usize, usize> = out.pairs.iter().map(|p| (p.media, p.json)).collect();
        assert_eq!(by_media.get(&0), Some(&1));
        assert_eq!(by_media.get(&2), Some(&3));
        assert_eq!(by_media.get(&4), Some(&5));
        assert_eq!(out.json_without_media, vec![6]);
        assert_eq!(
            out.pairs.iter().find(|p| p.media == 2).map(|p| p.rule),
            Some(Rule::OwnAnyCase(Naming::Plain))
        );
    }

    #[test]
    fn the_exact_case_wins_over_another_case() {
        let f = |n: &str| format!("{GP}/Photos from 2021/{n}");
        // `IMG_7.JPG` sorts first, but `img_7.jpg` has the exact name.
        let m = members(&[
            (0, &f("IMG_7.JPG")),
            (0, &f("img_7.jpg")),
            (0, &f("img_7.jpg.json")),
        ]);
        let out = match_members(&m);
        assert_accounted(&m, &out);
        assert_eq!(
            pairs(&m, &out),
            vec![(
                f("img_7.jpg"),
                f("img_7.jpg.json"),
                Rule::Own(Naming::Plain)
            )]
        );
        assert_eq!(
            out.ambiguities,
            vec![Ambiguity::SharedJson {
                json: 2,
                winner: 1,
                others: vec![0]
            }]
        );
    }
}
