//! Writes a `SyntheticLibrary` to disk: the database in one fast transaction
//! (journal off, prepared statements, indexes built after the rows), then the
//! last assets and the small lookup tables in WAL mode, left uncheckpointed
//! in `Photos.sqlite-wal` the way a live library keeps its recent changes.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;
use std::time::Instant;

use rusqlite::config::DbConfig;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, Statement, ToSql};

use super::core_data::to_core_data;
use super::files::{self, FileWriter, Part, Uti};
use super::flavor::Model;
use super::random::SplitMix64;
use super::{AssetSpec, Burst, DbText, Kind, SyntheticLibrary, Written};

/// `ZKIND` of `ZGENERICALBUM` rows.
const KIND_USER_ALBUM: i64 = 2;
const KIND_ROOT_FOLDER: i64 = 3999;
const KIND_PROJECTS_FOLDER: i64 = 3998;
/// `ZSAVEDASSETTYPE`.
const SAVED_IMPORTED: i64 = 3;
const SAVED_REFERENCED: i64 = 10;
/// `ZPLAYBACKSTYLE`.
const PLAYBACK_IMAGE: i64 = 1;
const PLAYBACK_LIVE: i64 = 3;
const PLAYBACK_VIDEO: i64 = 4;
/// `Z_FOK` spacing Core Data uses for ordered relationships.
const FOK_STEP: i64 = 1024;

pub(super) fn sql_err(e: rusqlite::Error) -> io::Error {
    io::Error::other(e)
}

impl ToSql for DbText {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Self::Text(s) => ValueRef::Text(s.as_bytes()),
            // Bound as TEXT without a UTF-8 check: what a damaged database holds.
            Self::RawText(b) => ValueRef::Text(b),
            Self::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// A prepared INSERT naming the wanted columns the table has; values for
/// columns it lacks (the other flavor's name) are skipped. One statement
/// serves both flavors.
struct Inserter<'c> {
    stmt: Statement<'c>,
    keep: Vec<bool>,
}

impl<'c> Inserter<'c> {
    fn new(
        conn: &'c Connection,
        table: &str,
        has: &dyn Fn(&str) -> bool,
        wanted: &[&str],
    ) -> io::Result<Self> {
        let keep: Vec<bool> = wanted.iter().map(|c| has(c)).collect();
        let cols: Vec<&str> = wanted
            .iter()
            .zip(&keep)
            .filter_map(|(c, k)| k.then_some(*c))
            .collect();
        let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            cols.join(", "),
            marks.join(", ")
        );
        Ok(Self {
            stmt: conn.prepare(&sql).map_err(sql_err)?,
            keep,
        })
    }

    fn insert(&mut self, values: &[&dyn ToSql]) -> io::Result<()> {
        assert_eq!(values.len(), self.keep.len(), "one value per wanted column");
        let mut i = 1;
        for (v, keep) in values.iter().zip(&self.keep) {
            if *keep {
                self.stmt.raw_bind_parameter(i, *v).map_err(sql_err)?;
                i += 1;
            }
        }
        self.stmt.raw_execute().map_err(sql_err)?;
        Ok(())
    }
}

/// Rows that many assets share, written once at the end.
#[derive(Default)]
struct Lookups {
    keywords: HashMap<String, i64>,
    /// `(pk, name or None for an unnamed person, faces)`.
    persons: Vec<(i64, Option<String>, i64)>,
    person_pk: HashMap<String, i64>,
    /// `(pk, title, assets)`.
    albums: Vec<(i64, String, i64)>,
    album_pk: HashMap<String, i64>,
    utis: HashMap<&'static str, (i64, Uti)>,
    referenced: bool,
}

/// Running primary keys.
#[derive(Default)]
struct Keys {
    asset: i64,
    resource: i64,
    description: i64,
    adjustment: i64,
    face: i64,
    bookmark: i64,
}

struct Builder<'c> {
    model: &'c Model,
    asset: Inserter<'c>,
    attributes: Inserter<'c>,
    description: Inserter<'c>,
    adjustment: Inserter<'c>,
    resource: Inserter<'c>,
    face: Inserter<'c>,
    bookmark: Inserter<'c>,
    keyword_join: Inserter<'c>,
    album_join: Inserter<'c>,
    files: Option<FileWriter>,
    default_size: Option<u64>,
    lookups: Lookups,
    keys: Keys,
    resources: usize,
}

/// Special albums every library has; user albums start after them.
const FIRST_USER_ALBUM: i64 = 3;
const ROOT_FOLDER_PK: i64 = 2;

impl<'c> Builder<'c> {
    fn new(
        conn: &'c Connection,
        model: &'c Model,
        lib: &SyntheticLibrary,
        root: &Path,
    ) -> io::Result<Self> {
        let prep = |name: &str, wanted: &[&str]| {
            let t = model.table(name);
            Inserter::new(conn, name, &|c| t.has(c), wanted)
        };
        let asset_table = model.asset_table();
        let (kt, kl, kr) = model.keywords_join();
        let (at, al, ar, afok) = model.albums_join();
        let any = |_: &str| true;
        Ok(Self {
            model,
            asset: Inserter::new(
                conn,
                asset_table.name,
                &|c| asset_table.has(c),
                ASSET_COLUMNS,
            )?,
            attributes: prep("ZADDITIONALASSETATTRIBUTES", ATTRIBUTE_COLUMNS)?,
            description: prep(
                "ZASSETDESCRIPTION",
                &[
                    "Z_PK",
                    "Z_ENT",
                    "Z_OPT",
                    "ZASSETATTRIBUTES",
                    "ZLONGDESCRIPTION",
                ],
            )?,
            adjustment: prep("ZUNMANAGEDADJUSTMENT", ADJUSTMENT_COLUMNS)?,
            resource: prep("ZINTERNALRESOURCE", RESOURCE_COLUMNS)?,
            face: prep("ZDETECTEDFACE", FACE_COLUMNS)?,
            bookmark: prep(
                "ZFILESYSTEMBOOKMARK",
                &[
                    "Z_PK",
                    "Z_ENT",
                    "Z_OPT",
                    "ZRESOURCE",
                    "ZPATHRELATIVETOVOLUME",
                ],
            )?,
            keyword_join: Inserter::new(conn, &kt, &any, &[&kl, &kr])?,
            album_join: Inserter::new(conn, &at, &any, &[&al, &ar, &afok])?,
            files: lib.write_files.then(|| FileWriter::new(root)),
            default_size: lib.file_size,
            lookups: Lookups::default(),
            keys: Keys::default(),
            resources: 0,
        })
    }

    fn add(&mut self, spec: &AssetSpec) -> io::Result<()> {
        self.keys.asset += 1;
        let pk = self.keys.asset;
        let m = self.model;
        let parts = files::parts(spec, m.flavor.model_version(), self.default_size);
        let original_len = parts[0].len as i64;
        let fingerprint = fingerprint(&spec.uuid);

        let description = match &spec.description {
            Some(text) => {
                self.keys.description += 1;
                let d = self.keys.description;
                self.description
                    .insert(&[&d, &m.ent("AssetDescription"), &1, &pk, text])?;
                Some(d)
            }
            None => None,
        };
        let adjustment = match &spec.edit {
            Some(edit) => {
                self.keys.adjustment += 1;
                let a = self.keys.adjustment;
                let format = if edit.external {
                    "com.apple.Photos.externalEdit"
                } else {
                    "com.apple.photo"
                };
                let version = if edit.external { "1" } else { "1.4" };
                let uuid = super::uuid_from(files::fnv1a(spec.uuid.as_bytes()) ^ 0xAD);
                self.adjustment.insert(&[
                    &a,
                    &m.ent("UnmanagedAdjustment"),
                    &1,
                    &pk,
                    &to_core_data(edit.at),
                    &format,
                    &version,
                    &"com.apple.Photos",
                    &0,
                    &0,
                    &uuid,
                ])?;
                Some(a)
            }
            None => None,
        };

        let tz_name = spec
            .tz_name
            .clone()
            .or_else(|| spec.tz_offset.map(gmt_name));
        self.attributes.insert(&[
            &pk,
            &m.ent("AdditionalAssetAttributes"),
            &1,
            &pk,
            &m.asset_row_ent(),
            &spec.original_filename,
            &spec.tz_offset,
            &spec.tz_offset,
            &tz_name,
            &spec.title,
            &description,
            &adjustment,
            &original_len,
            &spec.width,
            &spec.height,
            &1,
            &fingerprint,
            &fingerprint,
            &0,
            &5,
        ])?;

        self.insert_asset_row(spec, pk)?;
        self.insert_resources(spec, pk, &parts, &fingerprint)?;
        self.write_files(spec, &parts)?;
        self.insert_keywords(spec, pk)?;
        self.insert_faces(spec, pk)?;
        self.insert_albums(spec, pk)?;
        Ok(())
    }

    fn insert_asset_row(&mut self, spec: &AssetSpec, pk: i64) -> io::Result<()> {
        let m = self.model;
        let movie = spec.kind == Kind::Movie;
        let live = spec.live && !movie;
        let uti = files::uti_for_extension(&spec.extension);
        // Photos 5 names the current version: a JPEG render for any edited photo.
        let current_uti = if m.photos5() && spec.edit.is_some() && !movie {
            files::JPEG.identifier
        } else {
            uti.identifier
        };
        let pick = spec.burst.as_ref().map_or(0, |b| b.pick);
        let hidden_frame =
            spec.burst.is_some() && pick != 0 && pick & (Burst::SELECTED | Burst::KEY) == 0;
        let (lat, lon) = spec.location.unwrap_or((-180.0, -180.0));
        let created = to_core_data(spec.created);
        let trashed_at = spec
            .trashed
            .then(|| to_core_data(spec.modified.unwrap_or(spec.added)));
        let edited = i64::from(spec.edit.is_some());
        self.asset.insert(&[
            &pk,
            &m.asset_row_ent(),
            &1,
            &spec.uuid,
            &spec.filename(),
            &spec.directory(),
            &i64::from(movie),
            &if live { 2 } else { 0 },
            &if movie {
                PLAYBACK_VIDEO
            } else if live {
                PLAYBACK_LIVE
            } else {
                PLAYBACK_IMAGE
            },
            &if spec.referenced.is_some() {
                SAVED_REFERENCED
            } else {
                SAVED_IMPORTED
            },
            &if hidden_frame { 2 } else { 0 },
            &i64::from(spec.cloud_only),
            &1,
            &created,
            &to_core_data(spec.added),
            &spec.modified.map(to_core_data),
            &spec.edit.as_ref().map(|e| to_core_data(e.at)),
            &edited,
            &edited,
            &spec.favorite,
            &spec.hidden,
            &spec.trashed,
            &trashed_at,
            &current_uti,
            &spec.width,
            &spec.height,
            &1,
            &lat,
            &lon,
            &spec.burst.as_ref().map(|b| b.uuid.as_str()),
            &pick,
            &i64::from(spec.burst.is_some()),
            &pk,
            &0,
            &0,
            &0,
            &0,
            &if movie { 10.0 } else { 0.0 },
            &created,
            &(pk - 1),
            &spec.shared_album.as_ref().map(|_| to_core_data(spec.added)),
        ])
    }

    fn insert_resources(
        &mut self,
        spec: &AssetSpec,
        pk: i64,
        parts: &[Part],
        fingerprint: &str,
    ) -> io::Result<()> {
        let m = self.model;
        for part in parts {
            self.keys.resource += 1;
            let r = self.keys.resource;
            let next_uti = self.lookups.utis.len() as i64 + 1;
            let uti_pk = self
                .lookups
                .utis
                .entry(part.uti.identifier)
                .or_insert((next_uti, part.uti))
                .0;
            let referenced = part.is_original && spec.referenced.is_some();
            let (bookmark, volume) = if referenced {
                self.keys.bookmark += 1;
                self.lookups.referenced = true;
                let path = format!(
                    "{}/{}",
                    spec.directory().trim_start_matches('/'),
                    spec.filename()
                );
                self.bookmark.insert(&[
                    &self.keys.bookmark,
                    &m.ent("FileSystemBookmark"),
                    &1,
                    &r,
                    &path,
                ])?;
                (Some(self.keys.bookmark), Some(1))
            } else {
                (None, None)
            };
            let fp = (part.is_original && m.photos5()).then_some(fingerprint);
            self.resource.insert(&[
                &r,
                &m.ent("InternalResource"),
                &1,
                &pk,
                &m.asset_row_ent(),
                &part.resource_type,
                &part.subtype,
                &0,
                &if part.local { 1 } else { -1 },
                &i64::from(!part.local),
                &0,
                &0,
                &part.version,
                &part.recipe,
                &uti_pk,
                &part.uti.compact,
                &(part.len as i64),
                &fp,
                &0,
                &0,
                &spec.width,
                &spec.height,
                &bookmark,
                &volume,
                &0,
            ])?;
            self.resources += 1;
        }
        Ok(())
    }

    fn write_files(&mut self, spec: &AssetSpec, parts: &[Part]) -> io::Result<()> {
        let Some(w) = &mut self.files else {
            return Ok(());
        };
        for part in parts {
            if let Some(path) = &part.path {
                w.write(path, &spec.uuid, part.role, part.len)?;
            }
        }
        if let Some(plist) = files::adjustments_path(spec) {
            w.write(
                &plist,
                &spec.uuid,
                "adjustments",
                files::content_len(&spec.uuid, "adjustments", None),
            )?;
        }
        Ok(())
    }

    fn insert_keywords(&mut self, spec: &AssetSpec, pk: i64) -> io::Result<()> {
        let mut seen: Vec<i64> = Vec::with_capacity(spec.keywords.len());
        for k in &spec.keywords {
            let next = self.lookups.keywords.len() as i64 + 1;
            let kpk = *self.lookups.keywords.entry(k.clone()).or_insert(next);
            if !seen.contains(&kpk) {
                seen.push(kpk);
                self.keyword_join.insert(&[&pk, &kpk])?;
            }
        }
        Ok(())
    }

    fn insert_faces(&mut self, spec: &AssetSpec, pk: i64) -> io::Result<()> {
        let m = self.model;
        let faces = spec
            .persons
            .iter()
            .map(Some)
            .chain((0..spec.unassigned_faces).map(|_| None));
        for (i, person) in faces.enumerate() {
            let person_pk = person.map(|name| self.person(name));
            self.keys.face += 1;
            let f = self.keys.face;
            let uuid = super::uuid_from(files::fnv1a(spec.uuid.as_bytes()) ^ f as u64);
            let x = 0.2 + 0.15 * (i % 5) as f64;
            self.face.insert(&[
                &f,
                &m.ent("DetectedFace"),
                &1,
                &pk,
                &m.asset_row_ent(),
                &person_pk,
                &pk,
                &person_pk,
                &uuid,
                &0,
                &1,
                &0,
                &0,
                &x,
                &0.4,
                &0.1,
                &spec.width,
                &spec.height,
            ])?;
        }
        Ok(())
    }

    /// The pk of the person named `name` (`""`: a new unnamed person).
    fn person(&mut self, name: &str) -> i64 {
        let next = self.lookups.persons.len() as i64 + 1;
        if name.is_empty() {
            self.lookups.persons.push((next, None, 1));
            return next;
        }
        let pk = *self
            .lookups
            .person_pk
            .entry(name.to_owned())
            .or_insert(next);
        if pk == next {
            self.lookups.persons.push((next, Some(name.to_owned()), 0));
        }
        self.lookups.persons[(pk - 1) as usize].2 += 1;
        pk
    }

    fn insert_albums(&mut self, spec: &AssetSpec, pk: i64) -> io::Result<()> {
        let mut seen: Vec<i64> = Vec::with_capacity(spec.albums.len());
        for title in &spec.albums {
            let next = FIRST_USER_ALBUM + self.lookups.albums.len() as i64;
            let apk = *self.lookups.album_pk.entry(title.clone()).or_insert(next);
            if apk == next {
                self.lookups.albums.push((next, title.clone(), 0));
            }
            if seen.contains(&apk) {
                continue;
            }
            seen.push(apk);
            let entry = &mut self.lookups.albums[(apk - FIRST_USER_ALBUM) as usize];
            entry.2 += 1;
            let fok = entry.2 * FOK_STEP;
            self.album_join.insert(&[&apk, &pk, &fok])?;
        }
        Ok(())
    }

    /// Writes the shared rows and the Core Data bookkeeping.
    fn finish(self, conn: &Connection) -> io::Result<(usize, FileWriter)> {
        let (m, lookups) = (self.model, &self.lookups);
        write_keywords(conn, m, &lookups.keywords)?;
        write_persons(conn, m, &lookups.persons)?;
        write_albums(conn, m, &lookups.albums)?;
        write_utis_and_volume(conn, m, lookups)?;
        write_bookkeeping(conn, m, &self.keys, lookups)?;
        let files = self.files.unwrap_or_else(|| FileWriter::new(Path::new("")));
        Ok((self.resources, files))
    }
}

/// An `Inserter` for one of the model's tables.
fn inserter<'c>(
    conn: &'c Connection,
    m: &Model,
    name: &str,
    wanted: &[&str],
) -> io::Result<Inserter<'c>> {
    let t = m.table(name);
    Inserter::new(conn, name, &|c| t.has(c), wanted)
}

fn write_keywords(conn: &Connection, m: &Model, keywords: &HashMap<String, i64>) -> io::Result<()> {
    let mut keyword = inserter(
        conn,
        m,
        "ZKEYWORD",
        &["Z_PK", "Z_ENT", "Z_OPT", "ZTITLE", "ZUUID"],
    )?;
    let mut sorted: Vec<(&String, &i64)> = keywords.iter().collect();
    sorted.sort_by_key(|(_, pk)| **pk);
    for (title, pk) in sorted {
        let uuid = super::uuid_from(files::fnv1a(title.as_bytes()));
        keyword.insert(&[pk, &m.ent("Keyword"), &1, title, &uuid])?;
    }
    Ok(())
}

fn write_persons(
    conn: &Connection,
    m: &Model,
    persons: &[(i64, Option<String>, i64)],
) -> io::Result<()> {
    let mut person = inserter(conn, m, "ZPERSON", PERSON_COLUMNS)?;
    for (pk, name, faces) in persons {
        let uuid = super::uuid_from(0x9E_4507 ^ *pk as u64);
        person.insert(&[pk, &m.ent("Person"), &1, name, name, &uuid, faces, &1, &0])?;
    }
    Ok(())
}

/// The projects and root folders every library has, then the user albums.
fn write_albums(conn: &Connection, m: &Model, albums: &[(i64, String, i64)]) -> io::Result<()> {
    let mut album = inserter(conn, m, "ZGENERICALBUM", ALBUM_COLUMNS)?;
    let folder = m.ent("Folder");
    let specials = [
        (
            1,
            folder,
            KIND_PROJECTS_FOLDER,
            None::<&str>,
            None::<i64>,
            0,
        ),
        (ROOT_FOLDER_PK, folder, KIND_ROOT_FOLDER, None, None, 0),
    ];
    let user = albums.iter().map(|(pk, title, n)| {
        let parent = Some(ROOT_FOLDER_PK);
        (
            *pk,
            m.ent("Album"),
            KIND_USER_ALBUM,
            Some(title.as_str()),
            parent,
            *n,
        )
    });
    for (pk, ent, kind, title, parent, count) in specials.into_iter().chain(user) {
        let uuid = super::uuid_from(0xA1_B000 ^ pk as u64);
        album.insert(&[
            &pk, &ent, &1, &kind, &title, &uuid, &0, &parent, &count, &count, &0,
        ])?;
    }
    Ok(())
}

/// `ZUNIFORMTYPEIDENTIFIER` (Photos 5) and the volume of referenced files.
fn write_utis_and_volume(conn: &Connection, m: &Model, lookups: &Lookups) -> io::Result<()> {
    if m.photos5() {
        let mut uti = inserter(conn, m, "ZUNIFORMTYPEIDENTIFIER", UTI_COLUMNS)?;
        for (pk, u) in lookups.utis.values() {
            let ent = m.ent("UniformTypeIdentifier");
            uti.insert(&[pk, &ent, &1, &u.image, &u.movie, &u.raw, &u.identifier])?;
        }
    }
    if lookups.referenced {
        let mut volume = inserter(conn, m, "ZFILESYSTEMVOLUME", VOLUME_COLUMNS)?;
        let uuid = super::uuid_from(0x0F_0100);
        let ent = m.ent("FileSystemVolume");
        volume.insert(&[&1, &ent, &1, &"Macintosh HD", &uuid, &uuid])?;
    }
    Ok(())
}

/// `Z_PRIMARYKEY` with each root entity's highest key, and `Z_METADATA`.
fn write_bookkeeping(
    conn: &Connection,
    m: &Model,
    keys: &Keys,
    lookups: &Lookups,
) -> io::Result<()> {
    let utis = if m.photos5() { lookups.utis.len() } else { 0 };
    let maxima: HashMap<&str, i64> = [
        ("AdditionalAssetAttributes", keys.asset),
        ("GenericAsset", keys.asset),
        ("Asset", keys.asset),
        ("AssetDescription", keys.description),
        ("UnmanagedAdjustment", keys.adjustment),
        ("InternalResource", keys.resource),
        ("DetectedFace", keys.face),
        ("FileSystemBookmark", keys.bookmark),
        ("FileSystemVolume", i64::from(lookups.referenced)),
        ("Keyword", lookups.keywords.len() as i64),
        ("Person", lookups.persons.len() as i64),
        (
            "GenericAlbum",
            FIRST_USER_ALBUM - 1 + lookups.albums.len() as i64,
        ),
        ("UniformTypeIdentifier", utis as i64),
    ]
    .into_iter()
    .collect();
    let mut pk = inserter(
        conn,
        m,
        "Z_PRIMARYKEY",
        &["Z_ENT", "Z_NAME", "Z_SUPER", "Z_MAX"],
    )?;
    for (ent, name, sup) in &m.entities {
        // Core Data counts on the root entity; sub-entities keep 0.
        let max = if *sup == 0 {
            maxima.get(name.as_str()).copied().unwrap_or(0)
        } else {
            0
        };
        pk.insert(&[ent, name, sup, &max])?;
    }
    let mut meta = inserter(conn, m, "Z_METADATA", &["Z_VERSION", "Z_UUID", "Z_PLIST"])?;
    let library_uuid = super::uuid_from(0x11B_0000 ^ keys.asset as u64);
    meta.insert(&[&1, &library_uuid, &metadata_plist(m)?])
}

fn metadata_plist(m: &Model) -> io::Result<Vec<u8>> {
    let mut dict = plist::Dictionary::new();
    dict.insert(
        "PLModelVersion".into(),
        plist::Value::Integer(m.flavor.model_version().into()),
    );
    dict.insert("NSStoreType".into(), "SQLite".into());
    dict.insert("_NSAutoVacuumLevel".into(), "2".into());
    dict.insert(
        "NSStoreModelVersionHashesVersion".into(),
        plist::Value::Integer(3.into()),
    );
    dict.insert(
        "PLLegacyMigrationState".into(),
        plist::Value::Integer(2.into()),
    );
    let framework: i64 = if m.photos5() { 977 } else { 1522 };
    dict.insert(
        "NSPersistenceFrameworkVersion".into(),
        plist::Value::Integer(framework.into()),
    );
    let mut out = Vec::new();
    plist::Value::Dictionary(dict)
        .to_writer_binary(&mut out)
        .map_err(io::Error::other)?;
    Ok(out)
}

/// `GMT+0200`, the way Photos names a fixed offset.
fn gmt_name(offset: i32) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    format!("GMT{sign}{:02}{:02}", a / 3600, (a % 3600) / 60)
}

/// A stable 28-character fingerprint in the alphabet Photos uses.
fn fingerprint(uuid: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = SplitMix64::new(files::fnv1a(uuid.as_bytes()));
    (0..28)
        .map(|_| char::from(ALPHABET[rng.below(64) as usize]))
        .collect()
}

const ASSET_COLUMNS: &[&str] = &[
    "Z_PK",
    "Z_ENT",
    "Z_OPT",
    "ZUUID",
    "ZFILENAME",
    "ZDIRECTORY",
    "ZKIND",
    "ZKINDSUBTYPE",
    "ZPLAYBACKSTYLE",
    "ZSAVEDASSETTYPE",
    "ZVISIBILITYSTATE",
    "ZCLOUDLOCALSTATE",
    "ZCOMPLETE",
    "ZDATECREATED",
    "ZADDEDDATE",
    "ZMODIFICATIONDATE",
    "ZADJUSTMENTTIMESTAMP",
    "ZHASADJUSTMENTS",
    "ZADJUSTMENTSSTATE",
    "ZFAVORITE",
    "ZHIDDEN",
    "ZTRASHEDSTATE",
    "ZTRASHEDDATE",
    "ZUNIFORMTYPEIDENTIFIER",
    "ZWIDTH",
    "ZHEIGHT",
    "ZORIENTATION",
    "ZLATITUDE",
    "ZLONGITUDE",
    "ZAVALANCHEUUID",
    "ZAVALANCHEPICKTYPE",
    "ZAVALANCHEKIND",
    "ZADDITIONALATTRIBUTES",
    "ZDEPTHSTATES",
    "ZDEPTHTYPE",
    "ZCUSTOMRENDEREDVALUE",
    "ZHDRTYPE",
    "ZDURATION",
    "ZSORTTOKEN",
    "ZTHUMBNAILINDEX",
    "ZCLOUDBATCHPUBLISHDATE",
];

const ATTRIBUTE_COLUMNS: &[&str] = &[
    "Z_PK",
    "Z_ENT",
    "Z_OPT",
    "ZASSET",
    "Z34_ASSET",
    "ZORIGINALFILENAME",
    "ZTIMEZONEOFFSET",
    "ZINFERREDTIMEZONEOFFSET",
    "ZTIMEZONENAME",
    "ZTITLE",
    "ZASSETDESCRIPTION",
    "ZUNMANAGEDADJUSTMENT",
    "ZORIGINALFILESIZE",
    "ZORIGINALWIDTH",
    "ZORIGINALHEIGHT",
    "ZORIGINALORIENTATION",
    "ZMASTERFINGERPRINT",
    "ZORIGINALSTABLEHASH",
    "ZCAMERACAPTUREDEVICE",
    "ZIMPORTEDBY",
];

const ADJUSTMENT_COLUMNS: &[&str] = &[
    "Z_PK",
    "Z_ENT",
    "Z_OPT",
    "ZASSETATTRIBUTES",
    "ZADJUSTMENTTIMESTAMP",
    "ZADJUSTMENTFORMATIDENTIFIER",
    "ZADJUSTMENTFORMATVERSION",
    "ZEDITORLOCALIZEDNAME",
    "ZADJUSTMENTBASEIMAGEFORMAT",
    "ZADJUSTMENTRENDERTYPES",
    "ZUUID",
];

const RESOURCE_COLUMNS: &[&str] = &[
    "Z_PK",
    "Z_ENT",
    "Z_OPT",
    "ZASSET",
    "Z34_ASSET",
    "ZRESOURCETYPE",
    "ZDATASTORESUBTYPE",
    "ZDATASTORECLASSID",
    "ZLOCALAVAILABILITY",
    "ZREMOTEAVAILABILITY",
    "ZLOCALAVAILABILITYTARGET",
    "ZREMOTEAVAILABILITYTARGET",
    "ZVERSION",
    "ZRECIPEID",
    "ZUNIFORMTYPEIDENTIFIER",
    "ZCOMPACTUTI",
    "ZDATALENGTH",
    "ZFINGERPRINT",
    "ZTRASHEDSTATE",
    "ZCLOUDLOCALSTATE",
    "ZUNORIENTEDWIDTH",
    "ZUNORIENTEDHEIGHT",
    "ZFILESYSTEMBOOKMARK",
    "ZFILESYSTEMVOLUME",
    "ZPTPTRASHEDSTATE",
];

const FACE_COLUMNS: &[&str] = &[
    "Z_PK",
    "Z_ENT",
    "Z_OPT",
    "ZASSET",
    "Z34_ASSET",
    "ZPERSON",
    "ZASSETFORFACE",
    "ZPERSONFORFACE",
    "ZUUID",
    "ZHIDDEN",
    "ZASSETVISIBLE",
    "ZMANUAL",
    "ZISINTRASH",
    "ZCENTERX",
    "ZCENTERY",
    "ZSIZE",
    "ZSOURCEWIDTH",
    "ZSOURCEHEIGHT",
];

const PERSON_COLUMNS: &[&str] = &[
    "Z_PK",
    "Z_ENT",
    "Z_OPT",
    "ZFULLNAME",
    "ZDISPLAYNAME",
    "ZPERSONUUID",
    "ZFACECOUNT",
    "ZVERIFIEDTYPE",
    "ZTYPE",
];

const UTI_COLUMNS: &[&str] = &[
    "Z_PK",
    "Z_ENT",
    "Z_OPT",
    "ZCONFORMSTOIMAGE",
    "ZCONFORMSTOMOVIE",
    "ZCONFORMSTORAWIMAGE",
    "ZIDENTIFIER",
];

const VOLUME_COLUMNS: &[&str] = &[
    "Z_PK",
    "Z_ENT",
    "Z_OPT",
    "ZNAME",
    "ZUUID",
    "ZVOLUMEUUIDSTRING",
];

const ALBUM_COLUMNS: &[&str] = &[
    "Z_PK",
    "Z_ENT",
    "Z_OPT",
    "ZKIND",
    "ZTITLE",
    "ZUUID",
    "ZTRASHEDSTATE",
    "ZPARENTFOLDER",
    "ZCACHEDCOUNT",
    "ZCACHEDPHOTOSCOUNT",
    "ZCACHEDVIDEOSCOUNT",
];

/// Runs the whole write; see the module comment for the order.
pub(super) fn write(lib: &SyntheticLibrary, root: &Path) -> io::Result<Written> {
    let started = Instant::now();
    let model = Model::new(lib.flavor);
    let db_dir = root.join("database");
    let db_path = db_dir.join("Photos.sqlite");
    if db_path.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{} already holds a Photos database", root.display()),
        ));
    }
    fs::create_dir_all(&db_dir)?;
    fs::create_dir_all(root.join("originals"))?;
    fs::create_dir_all(root.join("resources").join("renders"))?;

    let conn = Connection::open(&db_path).map_err(sql_err)?;
    conn.execute_batch(
        "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = OFF; \
         PRAGMA synchronous = OFF; PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY; PRAGMA threads = 4;",
    )
    .map_err(sql_err)?;
    create_tables(&conn, &model)?;
    if lib.realistic_size {
        super::realistic::create(&conn)?;
    }
    let filled: [(&str, &[&str]); 2] = [
        (model.asset_table().name, ASSET_COLUMNS),
        ("ZADDITIONALASSETATTRIBUTES", ATTRIBUTE_COLUMNS),
    ];

    let total = lib.len();
    let tail = if lib.wal {
        lib.wal_tail.unwrap_or((total / 10).min(1000)).min(total)
    } else {
        0
    };
    let mut builder = Builder::new(&conn, &model, lib, root)?;
    let mut specs = lib.specs();
    conn.execute_batch("BEGIN").map_err(sql_err)?;
    for spec in specs.by_ref().take(total - tail) {
        builder.add(&spec)?;
    }
    if lib.realistic_size {
        super::realistic::fill(&conn, &model, 0, &filled)?;
    }
    conn.execute_batch("COMMIT").map_err(sql_err)?;
    create_indexes(&conn, &model)?;
    if lib.realistic_size {
        super::realistic::create_indexes(&conn)?;
    }

    if lib.wal {
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;")
            .map_err(sql_err)?;
    }
    conn.execute_batch("BEGIN").map_err(sql_err)?;
    for spec in specs {
        builder.add(&spec)?;
    }
    if lib.realistic_size && tail > 0 {
        super::realistic::fill(&conn, &model, (total - tail) as i64, &filled)?;
    }
    let (resources, files) = builder.finish(&conn)?;
    conn.execute_batch("COMMIT").map_err(sql_err)?;
    if lib.wal {
        // Leave the WAL as Photos leaves it while running: not checkpointed.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(sql_err)?;
    }
    conn.close().map_err(|(_, e)| sql_err(e))?;

    let size = |p: &Path| fs::metadata(p).map_or(0, |m| m.len());
    Ok(Written {
        assets: total,
        resources,
        files: files.files,
        file_bytes: files.bytes,
        db_bytes: size(&db_path),
        wal_bytes: size(&db_dir.join("Photos.sqlite-wal")),
        elapsed: started.elapsed(),
    })
}

fn create_tables(conn: &Connection, model: &Model) -> io::Result<()> {
    let mut sql: Vec<String> = super::ddl::CORE_DATA_TABLES
        .iter()
        .chain(model.tables)
        .map(super::ddl::TableDef::create_sql)
        .collect();
    sql.extend(model.join_sql().0);
    conn.execute_batch(&(sql.join(";\n") + ";"))
        .map_err(sql_err)
}

fn create_indexes(conn: &Connection, model: &Model) -> io::Result<()> {
    let mut sql: Vec<String> = model.indexes.iter().map(|s| (*s).to_owned()).collect();
    sql.extend(model.join_sql().1);
    conn.execute_batch(&(sql.join(";\n") + ";"))
        .map_err(sql_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmt_names() {
        assert_eq!(gmt_name(-14_400), "GMT-0400");
        assert_eq!(gmt_name(19_800), "GMT+0530");
        assert_eq!(gmt_name(0), "GMT+0000");
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        assert_eq!(fingerprint("A"), fingerprint("A"));
        assert_ne!(fingerprint("A"), fingerprint("B"));
        assert_eq!(fingerprint("A").len(), 28);
    }
}
