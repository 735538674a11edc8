//! What a command found, as data: a status, what it is about, and the text
//! for people. `doctor` reports its checks this way and `run` its lines (one
//! per library, then the rollover's), so that whether a run failed, or has
//! something to warn about, is read from statuses and never from the words
//! of a line (a library may well be called `FAILED`). Text is put together
//! only at the edges: the terminal, the log, `status.json`, a notification.

/// How something came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    Warning,
    Failed,
}

impl Status {
    /// The word a doctor's line starts with.
    #[must_use]
    pub(crate) fn word(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Failed => "FAILED",
        }
    }
}

/// One line of a run's report: `SUBJECT: TEXT` for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub(crate) status: Status,
    /// What the line is about: a library's name, `rollover`, `borg check`...
    subject: String,
    /// What happened, for people (it says FAILED or WARNING where it should,
    /// but nothing reads that word back).
    pub(crate) text: String,
}

impl Line {
    #[must_use]
    fn new(status: Status, subject: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            status,
            subject: subject.into(),
            text: text.into(),
        }
    }

    #[must_use]
    pub(crate) fn ok(subject: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(Status::Ok, subject, text)
    }

    #[must_use]
    pub(crate) fn failed(subject: impl Into<String>, text: impl Into<String>) -> Self {
        Self::new(Status::Failed, subject, text)
    }
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.subject, self.text)
    }
}

/// The lines with the given status, rendered and joined with `; `: the
/// failures of a run for its notification and `status.json`.
#[must_use]
pub(crate) fn join(lines: &[Line], status: Status) -> String {
    lines
        .iter()
        .filter(|l| l.status == status)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_reads_subject_then_text_and_join_keeps_only_its_status() {
        let lines = [
            Line::failed("FAILED", "staged 1 files"),
            Line::ok("WARNING", "unchanged"),
            Line::failed("anna", "FAILED: no database"),
        ];
        assert_eq!(lines[0].to_string(), "FAILED: staged 1 files");
        assert_eq!(
            join(&lines, Status::Failed),
            "FAILED: staged 1 files; anna: FAILED: no database"
        );
        assert_eq!(join(&lines, Status::Ok), "WARNING: unchanged");
        assert_eq!(join(&lines, Status::Warning), "");
    }
}
