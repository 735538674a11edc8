//! Moving a planned Takeout content from holding into its day folder with
//! its XMP sidecar, durably, and the words a staged set's line says.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{DateTime, Datelike, Utc};

use crate::config::{Config, Takeout};
use crate::export::{layout, xmp};
use crate::ledger::StagedFile;
use crate::private_fs;
use crate::takeout::inbox::TakeoutSet;
use crate::takeout::ingest::{self, Holding};
use crate::takeout::plan::{self, SetPlan};
use crate::takeout::xmp_fields;
use crate::text::human_bytes;

/// What a set read gave, and whether it warns.
pub(super) fn summary(
    set: &TakeoutSet,
    p: &SetPlan,
    refused: &[(String, String)],
    bytes: u64,
) -> (String, bool) {
    let mut text = format!(
        "{}: staged {} new files ({}), {} already staged, {} duplicate copies",
        set.id,
        p.stage.len(),
        human_bytes(bytes),
        p.known,
        p.duplicates
    );
    let refused: Vec<String> = refused
        .iter()
        .map(|(part, r)| format!("{part}: {r}"))
        .collect();
    // What a person should look at (`coverage` lists every name), then
    // what is only said.
    let lists = [
        (
            true,
            "without JSON (dated by their own bytes or the archive)",
            &p.without_json,
        ),
        (
            true,
            "JSON unreadable (their media staged without)",
            &p.bad_json,
        ),
        (
            true,
            "JSON without their media in the set",
            &p.json_without_media,
        ),
        (true, "members refused (unsafe names or links)", &refused),
        (false, "in Google Photos' trash, left out", &p.trashed),
    ];
    let mut warn = false;
    for (warns, what, names) in lists {
        if let Some(first) = names.first() {
            warn |= warns;
            let label = if warns { "WARNING: " } else { "" };
            text.push_str(&format!("; {label}{} {what}, e.g. {first}", names.len()));
        }
    }
    (text, warn)
}

/// Moves one content into its day folder with its XMP sidecar (both
/// durable); the ledger rows to record. `None`: its holding file is gone,
/// and it is not in its place in staging either (a run killed after the
/// move leaves it there, taken over).
pub(super) fn stage_one(
    config: &Config,
    t: &Takeout,
    item: &plan::ToStage,
    held: &ingest::Held,
    holding: &Holding,
    taken: &mut HashSet<String>,
    now: DateTime<Utc>,
) -> Result<Option<Vec<StagedFile>>> {
    let d = item.taken;
    let day = format!(
        "{}/{:04}/{:02}/{:02}",
        layout::library_dir(&t.name),
        d.year(),
        d.month(),
        d.day()
    );
    let dir = private_fs::create_dirs_below(&config.staging_dir, Path::new(&day))
        .with_context(|| format!("creating {day} in staging"))?;
    let safe = layout::sanitize_name(&item.name);
    // A name is free unless the ledger has it (or its sidecar's), or a file
    // with other bytes lies there. The same bytes unrecorded are what a run
    // killed between the rename and the ledger left: taken over.
    let in_use = |name: &str| {
        let recorded = [name.to_owned(), format!("{name}.xmp")]
            .iter()
            .any(|n| taken.contains(&format!("{day}/{n}").to_lowercase()));
        recorded
            || fs::symlink_metadata(dir.join(name)).is_ok_and(|m| {
                !m.is_file()
                    || crate::export::copy::hash_file(&dir.join(name))
                        .ok()
                        .as_deref()
                        != Some(item.hash.as_str())
            })
    };
    let name = plan::unique_name(&safe, &item.hash, &in_use);
    let xmp_name = format!("{name}.xmp");
    let albums: Vec<&str> = item.albums.iter().map(String::as_str).collect();
    let fields = xmp_fields::fields(item.sidecar.as_ref(), d, &albums, &item.hash, &item.name);
    let xmp_text = xmp::write(&fields);
    let xmp_held = holding
        .hold_bytes(xmp_text.as_bytes())
        .context("writing the XMP sidecar")?;
    let media_path = dir.join(&name);
    if fs::symlink_metadata(&held.file).is_ok() {
        fs::rename(&held.file, &media_path)
            .with_context(|| format!("moving into {}", media_path.display()))?;
    } else if !fs::symlink_metadata(&media_path).is_ok_and(|m| m.is_file()) {
        // `unique_name` gave a free name or one with these very bytes.
        let _ = fs::remove_file(&xmp_held);
        return Ok(None);
    }
    let xmp_path = dir.join(&xmp_name);
    fs::rename(&xmp_held, &xmp_path)
        .with_context(|| format!("moving into {}", xmp_path.display()))?;
    fs::File::open(&dir)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    if config.staging_group_readable {
        for n in [&name, &xmp_name] {
            private_fs::share_with_group(&config.staging_dir, &Path::new(&day).join(n))?;
        }
    }
    let mut record = |role: &str, file: &str, path: &Path, hash: String, signature: String| {
        let meta = fs::symlink_metadata(path).with_context(|| format!("{}", path.display()))?;
        let rel = format!("{day}/{file}");
        taken.insert(rel.to_lowercase());
        anyhow::Ok(StagedFile {
            library: t.name.clone(),
            uuid: item.hash.clone(),
            role: role.to_owned(),
            path: rel,
            size: meta.len(),
            mtime_ns: crate::export::copy::unix_ns(meta.modified()?),
            hash,
            source_signature: signature,
            exported_at: now,
            archive: None,
        })
    };
    let media = record(
        "original",
        &name,
        &media_path,
        held.hash.clone(),
        format!("takeout:{}", held.hash),
    )?;
    let sidecar = record(
        "xmp",
        &xmp_name,
        &xmp_path,
        blake3::hash(xmp_text.as_bytes()).to_hex().to_string(),
        xmp_fields::fingerprint(&fields),
    )?;
    Ok(Some(vec![media, sidecar]))
}
