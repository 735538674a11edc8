//! Dead-man monitoring: a run pings a URL when it begins real work, when
//! it ends (well, or failed with its summary and last log lines), and, if
//! asked, when it is skipped, so a service elsewhere (healthchecks.io,
//! Uptime Kuma) alerts when the pings *stop*: the Mac died, the agent was
//! unloaded, nothing ran for days. That is the one failure a notification
//! on the Mac can never report.
//!
//! Pings go through the system's `curl` (through `process`, bounded by
//! curl's `--max-time` and the child's timeout): no HTTP or TLS stack in
//! the binary, the system's trust store and proxy settings. The URL is a
//! secret (it lets anyone mark the backup healthy): it comes from a secret
//! reference, reaches curl in its config on standard input, and whatever
//! curl prints is masked before it is shown. A ping that fails is a
//! warning, never a failed run.

mod body;
mod curl;
pub(crate) mod settings;

use std::path::PathBuf;
use std::time::Duration;

pub(crate) use body::{failure as failure_body, Tail, MAX_BODY};
pub(crate) use curl::Event;
pub use settings::{OnSkip, Settings};

use crate::process::{CommandLine, CommandRunner, ProcessError};

/// Longer than curl's own `--max-time`: curl ends first and says why.
const CHILD_GRACE: Duration = Duration::from_secs(5);

/// The most bytes of curl's output taken (it is told to print nothing but
/// an error line).
const MAX_OUTPUT: usize = 64 * 1024;

/// The monitor of a run: its settings, the URL (the secret, read once by
/// the caller) and curl. No `Debug`: nothing may print the URL.
#[derive(Clone)]
pub(crate) struct Monitor {
    settings: Settings,
    url: String,
    curl: PathBuf,
}

/// Why the monitor cannot be pinged. Never holds the URL.
#[derive(Debug, thiserror::Error)]
pub(crate) enum MonitorError {
    #[error(
        "[monitor] url: the secret is not an http:// or https:// URL without blanks or \
         control characters (it is not shown)"
    )]
    BadUrl,
    #[error("[monitor]: curl is needed to ping")]
    NoCurl(#[source] crate::tools::ToolError),
    #[error("[monitor]: the {event} ping")]
    Run {
        event: &'static str,
        #[source]
        source: ProcessError,
    },
    /// curl ran and failed; `detail` is masked.
    #[error("[monitor]: the {event} ping failed: {detail}")]
    Failed { event: &'static str, detail: String },
}

impl Monitor {
    /// The monitor `settings` describe at `url` (the secret they refer
    /// to), checked, with curl found in `tool_dirs`.
    pub(crate) fn open(
        settings: &Settings,
        url: &str,
        tool_dirs: &[PathBuf],
    ) -> Result<Self, MonitorError> {
        if !curl::url_ok(url) {
            return Err(MonitorError::BadUrl);
        }
        let curl = crate::tools::find("curl", None, tool_dirs).map_err(MonitorError::NoCurl)?;
        Ok(Self {
            settings: settings.clone(),
            url: url.to_owned(),
            curl,
        })
    }

    /// What a skipped run sends.
    #[must_use]
    pub(crate) fn on_skip(&self) -> OnSkip {
        self.settings.on_skip
    }

    /// Sends `event`, if the style has such a ping (`Ok(false)`: none).
    pub(crate) fn ping(
        &self,
        event: Event,
        runner: &dyn CommandRunner,
    ) -> Result<bool, MonitorError> {
        let Some(request) = curl::request(self.settings.style, event, &self.url) else {
            return Ok(false);
        };
        let max_seconds = self.settings.timeout.as_secs();
        // `--disable` first: no ~/.curlrc changes what is sent or printed.
        let cmd = CommandLine::new(&self.curl, ["--disable", "--config", "-"])
            .stdin(curl::config(&request, max_seconds))
            .max_stdout(MAX_OUTPUT);
        let name = event.name();
        let output = runner
            .run(&cmd, self.settings.timeout + CHILD_GRACE)
            .map_err(|source| MonitorError::Run {
                event: name,
                source,
            })?;
        if output.status.success() {
            return Ok(true);
        }
        let said = crate::process::failure_detail(&output);
        Err(MonitorError::Failed {
            event: name,
            detail: crate::printable::printable(&curl::mask(&said, &self.url)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::settings::Style;
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};

    /// Serves one request on 127.0.0.1 and sends back its request line and
    /// body; answers `200 OK`.
    fn serve_one() -> (String, std::sync::mpsc::Receiver<(String, Vec<u8>)>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/ping/abc123def456",
            listener.local_addr().unwrap()
        );
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                let lower = header.to_ascii_lowercase();
                if let Some(value) = lower.strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut stream = stream;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            tx.send((request_line.trim_end().to_owned(), body)).unwrap();
        });
        (url, rx)
    }

    #[test]
    fn real_curl_sends_a_hostile_body_byte_for_byte() {
        let (url, received) = serve_one();
        let settings = Settings {
            url: "env:UNUSED".into(),
            style: Style::Healthchecks,
            on_skip: OnSkip::Nothing,
            timeout: Duration::from_secs(10),
        };
        let dirs = crate::tools::search_dirs(std::env::var_os("PATH").as_deref());
        let monitor = Monitor::open(&settings, &url, &dirs).expect("curl is installed");
        let body = "@/etc/passwd\nsay \"hi\" \\ and \\n\ttab\r\nend é";
        assert!(monitor
            .ping(Event::Failure(body), &crate::process::System)
            .unwrap());
        let (line, got) = received
            .recv_timeout(Duration::from_secs(20))
            .expect("the request");
        assert_eq!(line, "POST /ping/abc123def456/fail HTTP/1.1");
        assert_eq!(String::from_utf8(got).unwrap(), body);
    }

    #[test]
    fn a_refused_connection_is_an_error_that_hides_the_url() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/ping/abc123def456");
        let settings = Settings {
            url: "env:UNUSED".into(),
            style: Style::Healthchecks,
            on_skip: OnSkip::Nothing,
            timeout: Duration::from_secs(5),
        };
        let dirs = crate::tools::search_dirs(std::env::var_os("PATH").as_deref());
        let monitor = Monitor::open(&settings, &url, &dirs).expect("curl is installed");
        let err = monitor
            .ping(Event::Start, &crate::process::System)
            .unwrap_err();
        let shown = crate::error_text::describe(&err);
        assert!(
            shown.starts_with("[monitor]: the start ping failed: "),
            "{shown}"
        );
        assert!(!shown.contains("abc123def456"), "{shown}");
        assert!(matches!(
            Monitor::open(&settings, "ftp://h/x", &dirs),
            Err(MonitorError::BadUrl)
        ));
    }
}
