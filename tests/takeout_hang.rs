//! A Takeout inbox in a cloud folder that stops answering (issue 19), on a
//! real FUSE stack frozen (the SSHFS daemon stopped: it lives but never
//! answers, as a Google Drive folder not available offline can): listing
//! the inbox, fingerprinting a part and an extracted folder each end within
//! their bound with an error naming the inbox or the part and the bound,
//! where a plain listing would block the run until launchd kills it.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use common::remote::{daemon_of, kill, require_fusectl, TestServer};
use photos_backup::process::System;
use photos_backup::remote::mount::{self, MountEnv};
use photos_backup::takeout::archive::Format;
use photos_backup::takeout::inbox::{self, InboxError};
use synthetic::takeout::TakeoutSpec;

fn env() -> MountEnv {
    MountEnv {
        stat_timeout: Duration::from_secs(2),
        mount_timeout: Duration::from_secs(30),
        ..MountEnv::on(&photos_backup::host::Host::current())
    }
}

/// What a call gave and how long it took.
fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let t = f();
    (t, started.elapsed())
}

#[test]
fn a_frozen_cloud_inbox_is_reported_within_the_bound() {
    require_fusectl();
    let server = TestServer::start();
    let m = mount::ensure_mounted(&server.remote(), &server.password(), &System, &env())
        .unwrap_or_else(|e| panic!("mount failed: {e}"));
    let inbox = m.plain.join("inbox");
    fs::create_dir(&inbox).unwrap();
    let manifest = TakeoutSpec::new(3, 6).write(&inbox).unwrap();
    let part = manifest.parts[0].path.clone();
    let mut spec = TakeoutSpec::new(4, 6);
    spec.stamp = "20240901T080000Z".into();
    let folder = spec.write_extracted(&inbox).unwrap().parts[0].path.clone();
    // While the stack answers, all is read.
    let scan = inbox::scan(&inbox, inbox::BOUND).unwrap();
    assert_eq!(scan.sets.len(), 2, "{scan:?}");
    inbox::fingerprint(&part, Format::Zip, inbox::BOUND).unwrap();
    inbox::fingerprint(&folder, Format::Folder, inbox::BOUND).unwrap();

    let sshfs = daemon_of("sshfs", &m.cipher).expect("the sshfs daemon");
    kill(sshfs, "STOP");
    let bound = Duration::from_secs(2);
    let (listed, listing) = timed(|| inbox::scan(&inbox, bound));
    let (read, reading) = timed(|| inbox::fingerprint(&part, Format::Zip, bound));
    let (walked, walking) = timed(|| inbox::fingerprint(&folder, Format::Folder, bound));
    // Wakes what is still blocked in the stack (the threads left behind).
    let released = mount::release_now(&server.remote(), &System, &env());
    kill(sshfs, "CONT");
    kill(sshfs, "KILL");
    released.unwrap_or_else(|e| panic!("release failed: {e}"));
    eprintln!(
        "frozen inbox, bound 2 s: listing ended in {} ms, a part in {} ms, a folder in {} ms",
        listing.as_millis(),
        reading.as_millis(),
        walking.as_millis()
    );

    let names = |e: &InboxError, path: &Path| {
        let text = e.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains("within 2 s"), "{text}");
    };
    for (took, what) in [(listing, "listing"), (reading, "part"), (walking, "folder")] {
        assert!(
            took >= bound && took < bound * 5,
            "{what}: {} ms",
            took.as_millis()
        );
    }
    let e = listed.unwrap_err();
    assert!(matches!(e, InboxError::ListHung { .. }), "{e:?}");
    names(&e, &inbox);
    for (result, path) in [(read, &part), (walked, &folder)] {
        let e = result.unwrap_err();
        assert!(matches!(e, InboxError::PartHung { .. }), "{e:?}");
        names(&e, path);
    }
}
