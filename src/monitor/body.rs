//! What a failure ping says: the run's summary, then the last lines of its
//! log, capped in size (healthchecks.io keeps the first 100 kB of a body;
//! ours stays well under, so a slow link still sends it within the ping's
//! timeout). [`Tail`] keeps those last lines as the run writes them.

use std::collections::VecDeque;
use std::io::Write;

/// The most bytes of a ping's body.
pub(crate) const MAX_BODY: usize = 10 * 1024;

/// A writer that passes everything on and keeps the last `cap` bytes.
pub(crate) struct Tail<'w> {
    inner: &'w mut dyn Write,
    kept: VecDeque<u8>,
    cap: usize,
}

impl<'w> Tail<'w> {
    pub(crate) fn new(inner: &'w mut dyn Write, cap: usize) -> Self {
        Self {
            inner,
            kept: VecDeque::with_capacity(cap.min(1 << 16)),
            cap,
        }
    }

    /// The text kept, from its first whole line on.
    #[must_use]
    pub(crate) fn text(&self) -> String {
        let bytes: Vec<u8> = self.kept.iter().copied().collect();
        let full = self.kept.len() >= self.cap;
        let start = if full {
            bytes
                .iter()
                .position(|b| *b == b'\n')
                .map_or(0, |at| at + 1)
        } else {
            0
        };
        String::from_utf8_lossy(&bytes[start..]).into_owned()
    }
}

impl Write for Tail<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        let written = &buf[..n];
        let keep = &written[written.len().saturating_sub(self.cap)..];
        let over = (self.kept.len() + keep.len()).saturating_sub(self.cap);
        self.kept.drain(..over);
        self.kept.extend(keep);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The body of a failure ping: `summary`, then the last lines of `log`,
/// together at most `cap` bytes. The summary comes first and whole when it
/// fits in half the cap (else cut); the log gives up its oldest lines.
#[must_use]
pub(crate) fn failure(summary: &str, log: &str, cap: usize) -> String {
    let summary = summary.trim_end();
    let summary = if summary.len() <= cap / 2 {
        summary.to_owned()
    } else {
        format!("{} [...]", cut_end(summary, (cap / 2).saturating_sub(6)))
    };
    let heading = "\n\nlast lines of the log:\n";
    let room = cap.saturating_sub(summary.len() + heading.len());
    let log = log.trim_end();
    if log.is_empty() || room == 0 {
        return summary;
    }
    let tail = if log.len() <= room {
        log
    } else {
        let mut start = log.len() - room;
        while !log.is_char_boundary(start) {
            start += 1;
        }
        let cut = &log[start..];
        // From the first whole line (unless the last line alone is too long).
        cut.find('\n').map_or(cut, |at| &cut[at + 1..])
    };
    format!("{summary}{heading}{tail}")
}

/// `text` cut to at most `max` bytes at a character boundary.
fn cut_end(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_passes_everything_on_and_keeps_the_last_whole_lines() {
        let mut seen = Vec::new();
        let mut tail = Tail::new(&mut seen, 16);
        for i in 0..10 {
            writeln!(tail, "line {i}").unwrap();
        }
        assert_eq!(tail.text(), "line 8\nline 9\n");
        drop(tail);
        assert_eq!(seen.len(), 70);
        let mut seen = Vec::new();
        let mut tail = Tail::new(&mut seen, 100);
        write!(tail, "short").unwrap();
        assert_eq!(tail.text(), "short");
    }

    #[test]
    fn the_body_keeps_the_summary_and_the_newest_lines_within_the_cap() {
        let log = (0..2000).fold(String::new(), |mut log, i| {
            log.push_str(&format!("log line {i}\n"));
            log
        });
        let body = failure("ann: FAILED: disk full", &log, MAX_BODY);
        assert!(body.len() <= MAX_BODY, "{}", body.len());
        assert!(body.starts_with("ann: FAILED: disk full\n\nlast lines of the log:\n"));
        assert!(
            body.ends_with("log line 1999"),
            "{}",
            &body[body.len() - 40..]
        );
        assert!(!body.contains("log line 0\n"));
        // Whole lines only.
        let first = body.lines().nth(3).unwrap();
        assert!(first.starts_with("log line "), "{first}");
        // Small: everything; no log: the summary alone.
        assert_eq!(
            failure("bad", "a\nb\n", MAX_BODY),
            "bad\n\nlast lines of the log:\na\nb"
        );
        assert_eq!(failure("bad\n", "", MAX_BODY), "bad");
        // A huge summary is cut, never past the cap, at a character boundary.
        let huge = "é".repeat(MAX_BODY);
        let body = failure(&huge, &log, MAX_BODY);
        assert!(body.len() <= MAX_BODY);
        assert!(body.starts_with("éé"));
        let (head, _) = body.split_once("\n\n").unwrap();
        assert!(head.ends_with("é [...]"), "{}", &head[head.len() - 20..]);
    }
}
