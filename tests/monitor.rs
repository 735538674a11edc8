//! Dead-man monitoring through the real binary and the real `curl`, against
//! a real HTTP server on 127.0.0.1 that records what it receives: a good
//! run pings `/start` then success, a failing one `/start` then `/fail`
//! with its summary and last log lines (capped), a skipped one nothing, or
//! `/log` with `on_skip = "log"`; a server that never answers makes the run
//! warn within the ping's bound and end as it would have. The URL (a secret
//! from `env:`) is in no argument of curl (a wrapper first on `PATH`
//! records them), no file the run leaves, and no output.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::setup::{Ran, Setup};
use common::timeline::one_photo;
use common::tools::{fake_tool, path_with, real_tool};

/// The secret part of the ping URL.
const TOKEN: &str = "tok3n5ecret7a1b2c3";

/// One request as the server read it.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    body: String,
}

/// A one-thread-per-connection HTTP server on 127.0.0.1 that records each
/// request, and answers `200 OK` or, when `answers` is false, never.
struct Server {
    port: u16,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Server {
    fn start(answers: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&got);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = Arc::clone(&kept);
                std::thread::spawn(move || serve(stream, &kept, answers));
            }
        });
        Self { port, got }
    }

    /// The ping URL: the token in its path.
    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/ping/{TOKEN}", self.port)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Method and path of each request, the token shown as `T`.
    fn requests(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| format!("{} {}", r.method, r.path.replace(TOKEN, "T")))
            .collect()
    }
}

fn serve(stream: TcpStream, got: &Mutex<Vec<Received>>, answers: bool) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let mut words = line.split_whitespace();
    let (method, path) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).unwrap();
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap();
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    got.lock().unwrap().push(Received {
        method: method.to_owned(),
        path: path.to_owned(),
        body: String::from_utf8(body).unwrap(),
    });
    if answers {
        let mut stream = stream;
        let _ = stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK");
    } else {
        // Holds the connection, says nothing.
        std::thread::sleep(Duration::from_secs(120));
    }
}

/// A `curl` first on `PATH` that appends its arguments to `curl.args` and
/// runs the real one (standard input passes through).
fn recording_curl(root: &Path) -> (PathBuf, String) {
    let bin = root.join("fakebin");
    let real = real_tool("curl", "curl");
    fake_tool(
        &bin,
        "curl",
        &format!(
            "printf '%s\\n' \"$@\" >> '{}/curl.args'\nexec '{}' \"$@\"",
            bin.display(),
            real.display()
        ),
    );
    let path = path_with(&bin);
    (bin.join("curl.args"), path)
}

/// `[monitor]` with the URL from `env:PB_TEST_MONITOR_URL`, and `more`.
fn monitor_section(more: &str) -> String {
    format!("\n[monitor]\nurl = \"env:PB_TEST_MONITOR_URL\"\n{more}\n")
}

/// A run (`args` after `run`) with the URL in its environment and the
/// recording curl first on `PATH`.
fn run(setup: &Setup, server: &Server, args: &[&str]) -> Ran {
    let (_, path) = recording_curl(setup.root());
    let url = server.url();
    setup.run_with(
        args,
        &[
            ("PB_TEST_MONITOR_URL", url.as_str()),
            ("PATH", path.as_str()),
        ],
    )
}

/// The token is in no file under `root` (curl's arguments, the log,
/// `status.json`, ...) and in none of `ran`'s output.
fn assert_token_nowhere(root: &Path, ran: &Ran) {
    assert!(
        !ran.out.contains(TOKEN) && !ran.err.contains(TOKEN),
        "{}\n{}",
        ran.out,
        ran.err
    );
    let mut files = 0;
    for entry in walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
    {
        if entry.file_type().is_file() {
            files += 1;
            let bytes = std::fs::read(entry.path()).unwrap();
            assert!(
                !bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()),
                "the ping URL is in {}",
                entry.path().display()
            );
        }
    }
    assert!(files > 3, "nothing was written under {}", root.display());
    let args = std::fs::read_to_string(root.join("fakebin/curl.args")).unwrap_or_default();
    assert!(args.contains("--config\n-\n"), "curl was not run: {args:?}");
}

#[test]
fn a_good_run_pings_start_then_success_and_the_url_stays_secret() {
    let server = Server::start(true);
    let tmp = tempfile::tempdir().unwrap();
    let (_lib, mut setup) = one_photo(tmp.path(), "Una");
    setup.push_extra(&monitor_section(""));

    let ran = run(&setup, &server, &[]);
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    assert_eq!(server.requests(), ["GET /ping/T/start", "POST /ping/T"]);
    let success = &server.received()[1].body;
    assert!(
        success.starts_with("photos-backup run ok in ") && !success.contains('\n'),
        "{success:?}"
    );
    assert!(!ran.out.contains("warning: [monitor]"), "{}", ran.out);
    assert_token_nowhere(setup.root(), &ran);

    // A dry run sends nothing.
    let dry = run(&setup, &server, &["--dry-run"]);
    assert_eq!(dry.code, 0, "{}\n{}", dry.out, dry.err);
    assert_eq!(server.received().len(), 2);

    // `config check` shows the reference, never the URL.
    let url = server.url();
    let check = Ran::from(
        setup
            .command(
                &["config", "check"],
                &[("PB_TEST_MONITOR_URL", url.as_str())],
            )
            .output()
            .unwrap(),
    );
    assert_eq!(check.code, 0, "{}", check.err);
    assert!(
        check.out.contains(
            "[monitor] url = env:PB_TEST_MONITOR_URL (a reference; not read), \
             style = healthchecks, on_skip = nothing, timeout_seconds = 10"
        ),
        "{}",
        check.out
    );
}

#[test]
fn a_failing_run_pings_fail_with_its_summary_and_last_log_lines_capped() {
    let server = Server::start(true);
    let tmp = tempfile::tempdir().unwrap();
    let (_lib, mut setup) = one_photo(tmp.path(), "Una");
    // Libraries that are gone, with long paths: more than the body may hold.
    let folder = "a-folder-with-a-rather-long-name-to-fill-the-log-".repeat(3);
    for i in 0..60 {
        let path = tmp
            .path()
            .join(format!("{folder}{i:02}/Gone.photoslibrary"));
        setup.add_library(&format!("gone-{i:02}"), &path);
    }
    setup.push_extra(&monitor_section(""));

    let ran = run(&setup, &server, &[]);
    assert_eq!(ran.code, 1, "{}\n{}", ran.out, ran.err);
    assert_eq!(
        server.requests(),
        ["GET /ping/T/start", "POST /ping/T/fail"]
    );
    let body = &server.received()[1].body;
    assert!(body.len() <= 10 * 1024, "{} bytes", body.len());
    assert!(body.len() > 8 * 1024, "{} bytes", body.len());
    assert!(
        body.starts_with("photos-backup run failed after "),
        "{body}"
    );
    assert!(body.contains("gone-00"), "{body}");
    let (_, log) = body
        .split_once("\n\nlast lines of the log:\n")
        .expect("the log's lines");
    // The newest lines, whole: the last library's among them, the first's not.
    assert!(log.contains("gone-59"), "{log}");
    assert!(!log.contains("gone-00:"), "{log}");
    let printed: Vec<&str> = ran.out.lines().collect();
    for line in log.lines() {
        assert!(
            printed.contains(&line),
            "{line:?} is not a line the run wrote"
        );
    }
    assert_token_nowhere(setup.root(), &ran);
}

#[test]
fn skipped_runs_send_nothing_or_a_log_ping() {
    let server = Server::start(true);
    let tmp = tempfile::tempdir().unwrap();
    let (_lib, mut setup) = one_photo(tmp.path(), "Una");
    // Off network: nothing listens on the server's port.
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let remote = format!(
        "\n[remote]\nhost = \"127.0.0.1\"\nport = {closed}\nuser = \"u\"\ndir = \"/c\"\n\
         cipher_mount = \"c\"\nplain_mount = \"p\"\npassword = \"env:PB_TEST_UNUSED\"\n\
         probe_timeout_seconds = 2\n"
    );
    setup.push_extra(&(remote.clone() + &monitor_section("")));
    let ran = run(&setup, &server, &[]);
    assert_eq!(ran.code, 75, "{}\n{}", ran.out, ran.err);
    assert!(ran.out.contains("skipped: off network"), "{}", ran.out);
    assert!(server.requests().is_empty(), "{:?}", server.requests());

    setup.set_extra(remote + &monitor_section("on_skip = \"log\""));
    let ran = run(&setup, &server, &[]);
    assert_eq!(ran.code, 75, "{}\n{}", ran.out, ran.err);
    assert_eq!(server.requests(), ["POST /ping/T/log"]);
    assert!(
        server.received()[0]
            .body
            .starts_with("skipped: off network"),
        "{:?}",
        server.received()
    );
    assert_token_nowhere(setup.root(), &ran);

    // Another run holds the lock: nothing, or a log ping.
    let (_lib, mut local) = one_photo(&tmp.path().join("local"), "Una");
    local.push_extra(&monitor_section(""));
    let url = server.url();
    let (_, path) = recording_curl(local.root());
    let env = [
        ("PB_TEST_MONITOR_URL", url.as_str()),
        ("PATH", path.as_str()),
    ];
    let mut first = local.spawn_with(&[
        env[0],
        env[1],
        (photos_backup::failpoint::VAR, "run-locked"),
    ]);
    local.wait_for_output(&mut first, "paused at run-locked", Duration::from_secs(60));
    let second = local.run_with(&[], &env);
    assert_eq!(second.code, 75, "{}\n{}", second.out, second.err);
    assert_eq!(server.received().len(), 1, "{:?}", server.requests());
    local.set_extra(monitor_section("on_skip = \"log\""));
    let third = local.run_with(&[], &env);
    assert_eq!(third.code, 75, "{}\n{}", third.out, third.err);
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(server.requests()[1..], ["POST /ping/T/log"]);
    assert!(
        server.received()[1]
            .body
            .starts_with("skipped: another run in progress"),
        "{:?}",
        server.received()
    );
}

#[test]
fn a_server_that_never_answers_makes_the_run_warn_within_the_bound() {
    let server = Server::start(false);
    let tmp = tempfile::tempdir().unwrap();
    let (_lib, mut setup) = one_photo(tmp.path(), "Una");
    setup.push_extra(&monitor_section("timeout_seconds = 2"));

    let started = Instant::now();
    let ran = run(&setup, &server, &[]);
    let took = started.elapsed();
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    // Two pings of at most 2 s each, and the run itself.
    assert!(took < Duration::from_secs(30), "{took:?}");
    for event in ["start", "success"] {
        assert!(
            ran.out
                .contains(&format!("warning: [monitor]: the {event} ping failed: ")),
            "{}",
            ran.out
        );
    }
    assert_eq!(server.requests(), ["GET /ping/T/start", "POST /ping/T"]);
    let status = std::fs::read_to_string(setup.state().join("status.json")).unwrap();
    assert!(status.contains("\"ok\""), "{status}");
    assert_token_nowhere(setup.root(), &ran);
}

#[test]
fn a_run_stopped_at_its_deadline_pings_its_failure() {
    let server = Server::start(true);
    let tmp = tempfile::tempdir().unwrap();
    let (_lib, mut setup) = one_photo(tmp.path(), "Una");
    setup.push_extra(&monitor_section(""));
    setup.push_extra("\n[run]\ndeadline_seconds = 3\narchive_deadline_seconds = 3\n");
    let url = server.url();
    let (_, path) = recording_curl(setup.root());
    let mut child = setup.spawn_with(&[
        ("PB_TEST_MONITOR_URL", url.as_str()),
        ("PATH", path.as_str()),
        (photos_backup::failpoint::VAR, "staging-batch-copied"),
    ]);
    let status = common::ends_within(&mut child, Duration::from_secs(60)).expect("the run ended");
    assert_eq!(status.code(), Some(1), "{}", setup.spawned_output());
    assert_eq!(
        server.requests(),
        ["GET /ping/T/start", "POST /ping/T/fail"],
        "{}",
        setup.spawned_output()
    );
    let body = &server.received()[1].body;
    assert!(
        body.starts_with(
            "photos-backup run failed: the run did not finish within its deadline of 3 s"
        ),
        "{body}"
    );
}

#[test]
fn uptime_kuma_gets_its_status_and_message_in_the_query() {
    let server = Server::start(true);
    let tmp = tempfile::tempdir().unwrap();
    let (_lib, mut setup) = one_photo(tmp.path(), "Una");
    setup.push_extra(&monitor_section("style = \"uptime-kuma\""));
    // The push URL as Kuma shows it: its query is replaced.
    let url = format!("{}?status=up&msg=OK&ping=", server.url());
    let (_, path) = recording_curl(setup.root());
    let ran = setup.run_with(
        &[],
        &[
            ("PB_TEST_MONITOR_URL", url.as_str()),
            ("PATH", path.as_str()),
        ],
    );
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    let requests = server.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    // curl encodes a blank as `+` or `%20`, by version.
    let decoded = requests[0].replace("%20", " ").replace('+', " ");
    assert!(
        decoded.starts_with("GET /ping/T?status=up&msg=photos-backup run ok in "),
        "{requests:?}"
    );
    assert!(requests[0].ends_with("&ping="), "{requests:?}");
    assert_token_nowhere(setup.root(), &ran);
}

#[test]
fn a_url_that_cannot_be_had_or_is_not_http_is_a_warning_never_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let (_lib, mut setup) = one_photo(tmp.path(), "Una");
    setup.push_extra(&monitor_section(""));
    let (_, path) = recording_curl(setup.root());

    let unset = setup.run_with(&[], &[("PATH", path.as_str())]);
    assert_eq!(unset.code, 0, "{}\n{}", unset.out, unset.err);
    assert!(
        unset.out.contains(
            "warning: [monitor] url: secret env:PB_TEST_MONITOR_URL: environment variable \
             PB_TEST_MONITOR_URL is not set"
        ),
        "{}",
        unset.out
    );

    let not_http = format!("ftp://127.0.0.1/{TOKEN}");
    let ran = setup.run_with(
        &[],
        &[
            ("PB_TEST_MONITOR_URL", not_http.as_str()),
            ("PATH", path.as_str()),
        ],
    );
    assert_eq!(ran.code, 0, "{}\n{}", ran.out, ran.err);
    assert!(
        ran.out
            .contains("warning: [monitor] url: the secret is not an http:// or https:// URL"),
        "{}",
        ran.out
    );
    assert!(
        !setup.root().join("fakebin/curl.args").exists(),
        "curl ran without a URL to ping"
    );
    assert!(!ran.out.contains(TOKEN) && !ran.err.contains(TOKEN));
    let log = std::fs::read_to_string(setup.state().join("logs/photos-backup.log")).unwrap();
    assert!(log.contains("warning: [monitor] url"), "{log}");
    assert!(!log.contains(TOKEN), "{log}");
}
