//! What one ping asks of `curl`, as data: the request a style makes of an
//! event, and the text of the curl config that carries it on curl's
//! standard input (`curl --disable --config -`), so the URL, a secret,
//! never appears in curl's arguments (which any user of the Mac can list).
//! Also the masking of what curl prints, before anyone sees it. Pure.

use super::settings::Style;

/// One thing a run tells the monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event<'a> {
    /// The run begins real work (past the lock and the network gate).
    Start,
    /// The run ended well: its one-line summary.
    Success(&'a str),
    /// The run failed: its summary and last log lines (capped).
    Failure(&'a str),
    /// The run was skipped, and why (only with `on_skip = "log"`).
    Skipped(&'a str),
}

impl Event<'_> {
    /// The event's name in messages ("the start ping").
    #[must_use]
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Success(_) => "success",
            Self::Failure(_) => "failure",
            Self::Skipped(_) => "skip",
        }
    }
}

/// An HTTP request, before it becomes curl's config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) url: String,
    pub(crate) body: Body,
}

/// What goes with the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Body {
    /// A GET with nothing.
    None,
    /// A POST of this text (`text/plain`).
    Text(String),
    /// A GET whose query curl builds and URL-encodes from these pairs.
    Query(Vec<(&'static str, String)>),
}

/// The most characters of an Uptime Kuma message (it shows one line).
const KUMA_MESSAGE_CHARS: usize = 200;

/// The request `style` makes of `event` at the ping URL `url`; `None` when
/// the style has no such ping (Uptime Kuma has no start and no log).
#[must_use]
pub(crate) fn request(style: Style, event: Event, url: &str) -> Option<Request> {
    match style {
        Style::Healthchecks => {
            let (suffix, body) = match event {
                Event::Start => ("/start", Body::None),
                Event::Success(text) => ("", Body::Text(text.to_owned())),
                Event::Failure(text) => ("/fail", Body::Text(text.to_owned())),
                Event::Skipped(text) => ("/log", Body::Text(text.to_owned())),
            };
            Some(Request {
                url: with_path_suffix(url, suffix),
                body,
            })
        }
        Style::UptimeKuma => {
            let (status, text) = match event {
                Event::Success(text) => ("up", text),
                Event::Failure(text) => ("down", text),
                Event::Start | Event::Skipped(_) => return None,
            };
            // The push URL as Kuma shows it ends in `?status=up&msg=OK&ping=`:
            // its query is ours to write.
            let base = url.split_once('?').map_or(url, |(base, _)| base);
            let first_line = text.lines().next().unwrap_or("");
            let message: String = first_line.chars().take(KUMA_MESSAGE_CHARS).collect();
            Some(Request {
                url: base.to_owned(),
                body: Body::Query(vec![
                    ("status", status.to_owned()),
                    ("msg", message),
                    ("ping", String::new()),
                ]),
            })
        }
    }
}

/// `url` with `suffix` added to its path, before any query
/// (`https://h/p?x=1` + `/fail` → `https://h/p/fail?x=1`).
fn with_path_suffix(url: &str, suffix: &str) -> String {
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url, None),
    };
    let path = if suffix.is_empty() {
        path
    } else {
        path.trim_end_matches('/')
    };
    match query {
        Some(query) => format!("{path}{suffix}?{query}"),
        None => format!("{path}{suffix}"),
    }
}

/// Whether `url` may be pinged: `http://` or `https://`, something after
/// it, no blank and no control character (each would end or bend a line
/// of curl's config, or the request).
#[must_use]
pub(crate) fn url_ok(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty()) && !url.chars().any(|c| c.is_control() || c.is_whitespace())
}

/// `value` as a double-quoted string of curl's config format: `\` and `"`
/// escaped, newline, carriage return, tab and vertical tab as `\n`, `\r`,
/// `\t`, `\v` (curl's escapes); any other control character, which the
/// format cannot carry, becomes U+FFFD.
#[must_use]
pub(crate) fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The curl config for `request`: quiet but for errors, failing on an HTTP
/// error status, HTTP(S) only and no redirect followed, the reply thrown
/// away, within `max_seconds`. The URL must have passed [`url_ok`].
#[must_use]
pub(crate) fn config(request: &Request, max_seconds: u64) -> String {
    let mut lines = vec![
        format!("url = {}", quoted(&request.url)),
        "silent".to_owned(),
        "show-error".to_owned(),
        "fail".to_owned(),
        "proto = \"=http,https\"".to_owned(),
        "output = \"/dev/null\"".to_owned(),
        format!("max-time = {max_seconds}"),
    ];
    match &request.body {
        Body::None => {}
        Body::Text(text) => {
            lines.push("header = \"Content-Type: text/plain; charset=utf-8\"".to_owned());
            // `data-raw`: a body starting with `@` is text, not a file name.
            lines.push(format!("data-raw = {}", quoted(text)));
        }
        Body::Query(pairs) => {
            lines.push("get".to_owned());
            for (name, value) in pairs {
                lines.push(format!(
                    "data-urlencode = {}",
                    quoted(&format!("{name}={value}"))
                ));
            }
        }
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// `text` (something curl printed) with the URL's secret parts as `***`:
/// the URL whole, its path and query, and each path segment. The scheme and
/// host stay, so "could not resolve host" still says which.
#[must_use]
pub(crate) fn mask(text: &str, url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let tail = after_scheme
        .find(['/', '?'])
        .map_or("", |at| &after_scheme[at..]);
    let mut secrets: Vec<&str> = vec![url, tail];
    let path = tail.split_once('?').map_or(tail, |(path, _)| path);
    secrets.extend(path.split('/'));
    if let Some((_, query)) = tail.split_once('?') {
        secrets.push(query);
    }
    // Short pieces (`api`, `push`) are no secret, and would mask every word.
    secrets.retain(|s| s.len() >= 6);
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut masked = text.to_owned();
    for secret in secrets {
        masked = masked.replace(secret, "***");
    }
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    const HC: &str = "https://hc-ping.com/0b7e3f51-token";

    #[test]
    fn healthchecks_pings_start_success_fail_and_log() {
        let at = |event| request(Style::Healthchecks, event, HC).unwrap();
        assert_eq!(
            at(Event::Start),
            Request {
                url: format!("{HC}/start"),
                body: Body::None
            }
        );
        assert_eq!(at(Event::Success("ok")).url, HC);
        assert_eq!(at(Event::Success("ok")).body, Body::Text("ok".into()));
        assert_eq!(at(Event::Failure("bad")).url, format!("{HC}/fail"));
        assert_eq!(at(Event::Skipped("away")).url, format!("{HC}/log"));
        // A trailing slash or a query (a run id) stays where it belongs.
        let url = request(Style::Healthchecks, Event::Start, "https://h/p/?rid=1").unwrap();
        assert_eq!(url.url, "https://h/p/start?rid=1");
    }

    #[test]
    fn uptime_kuma_replaces_the_query_and_has_no_start_or_log() {
        let url = "https://kuma.lan/api/push/Tk3nAbCd?status=up&msg=OK&ping=";
        assert_eq!(request(Style::UptimeKuma, Event::Start, url), None);
        assert_eq!(request(Style::UptimeKuma, Event::Skipped("x"), url), None);
        let down = request(Style::UptimeKuma, Event::Failure("ann: failed\nlog"), url).unwrap();
        assert_eq!(down.url, "https://kuma.lan/api/push/Tk3nAbCd");
        assert_eq!(
            down.body,
            Body::Query(vec![
                ("status", "down".into()),
                ("msg", "ann: failed".into()),
                ("ping", String::new())
            ])
        );
    }

    #[test]
    fn quoting_escapes_what_curls_config_format_needs() {
        assert_eq!(quoted("plain"), "\"plain\"");
        assert_eq!(quoted(r#"a"b\c"#), r#""a\"b\\c""#);
        assert_eq!(quoted("1\n2\r3\t4\u{b}5"), r#""1\n2\r3\t4\v5""#);
        assert_eq!(quoted("esc\u{1b}[31m\0"), "\"esc\u{fffd}[31m\u{fffd}\"");
        // Every line of the config stays one line, whatever the body holds.
        let req = Request {
            url: HC.into(),
            body: Body::Text("line 1\nline \"2\"\\\n@file".into()),
        };
        let text = config(&req, 10);
        assert!(
            text.contains(r#"data-raw = "line 1\nline \"2\"\\\n@file""#),
            "{text}"
        );
        assert!(text.lines().all(|l| !l.is_empty()));
        assert!(text.starts_with(&format!("url = \"{HC}\"\n")));
        assert!(text.contains("max-time = 10\n"));
    }

    #[test]
    fn only_plain_http_urls_pass() {
        assert!(url_ok(HC));
        assert!(url_ok("HTTP://127.0.0.1:8080/x"));
        for bad in [
            "ftp://h/x",
            "https://",
            "hc-ping.com/x",
            "https://h/x\n",
            "https://h/x y",
            "https://h/\u{7f}",
            "file:///etc/passwd",
        ] {
            assert!(!url_ok(bad), "{bad:?}");
        }
    }

    #[test]
    fn masking_hides_the_path_query_and_segments_but_not_the_host() {
        let said = format!(
            "curl: (6) Could not resolve host: hc-ping.com for {HC}/fail; path /0b7e3f51-token"
        );
        let masked = mask(&said, HC);
        assert!(!masked.contains("0b7e3f51"), "{masked}");
        assert!(masked.contains("hc-ping.com"), "{masked}");
        let kuma = "https://kuma.lan/api/push/Tk3nAbCd?status=up";
        let masked = mask("GET /api/push/Tk3nAbCd?status=down failed", kuma);
        assert!(!masked.contains("Tk3nAbCd"), "{masked}");
    }
}
