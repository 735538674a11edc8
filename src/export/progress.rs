//! Progress of a long copy (staging a library, mirroring it onto the
//! remote volume): a bar on a terminal (indicatif), plain log lines
//! otherwise (launchd's log file), so a copy of a whole library shows it
//! is alive without flooding the log. Each names its [`Step`] and counts
//! files and bytes, sizes in human units.

use std::io::Write;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::stage::{Progress, Step};
use crate::text::{human_bytes, plural};

/// A byte-based progress bar on stderr.
#[derive(Default)]
pub(crate) struct Bar(Option<(Step, ProgressBar)>);

impl Progress for Bar {
    /// Called again in the same step before `finish` (a run stages a batch
    /// of assets at a time), it adds to the bar's total.
    fn start(&mut self, step: Step, files: usize, bytes: u64) {
        if files == 0 {
            return;
        }
        match &self.0 {
            Some((current, bar)) if *current == step => {
                bar.inc_length(bytes);
                return;
            }
            // A step that ended in an error, without `finish`.
            Some(_) => self.finish(),
            None => {}
        }
        let bar = ProgressBar::new(bytes);
        if let Ok(style) = ProgressStyle::with_template(&format!(
            "{{spinner}} {} [{{bar:30}}] {{bytes}}/{{total_bytes}} {{bytes_per_sec}} eta {{eta}} {{msg}}",
            step.word()
        )) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        self.0 = Some((step, bar));
    }

    fn file_done(&mut self, bytes: u64) {
        if let Some((_, bar)) = &self.0 {
            bar.inc(bytes);
        }
    }

    fn finish(&mut self) {
        if let Some((_, bar)) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

/// How often [`Lines`] writes a line while a step goes on.
const EVERY: Duration = Duration::from_secs(30);

/// Files and bytes.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Count {
    files: usize,
    bytes: u64,
}

/// A line every [`EVERY`] while a step copies, and one at its end:
/// `mirror: 120/3400 files, 1.2 GB/8.5 GB`, `mirror: done, 3400 files (8.5 GB)`.
pub(crate) struct Lines<W: Write> {
    out: W,
    every: Duration,
    /// The `done` line only after a step said how far it was (a log that
    /// already has the run's own `staged N files` line).
    done_only_when_long: bool,
    /// The step going on, its totals and what is done.
    current: Option<(Step, Count, Count)>,
    last: Instant,
    /// Whether the step going on said how far it was.
    said: bool,
}

impl Lines<std::io::Stderr> {
    /// Lines on stderr, every [`EVERY`].
    #[must_use]
    pub(crate) fn to_stderr() -> Self {
        Self::new(std::io::stderr(), EVERY)
    }
}

impl<W: Write> Lines<W> {
    /// Lines to `out`, at most one per `every` while a step goes on.
    #[must_use]
    pub(crate) fn new(out: W, every: Duration) -> Self {
        Self {
            out,
            every,
            done_only_when_long: false,
            current: None,
            last: Instant::now(),
            said: false,
        }
    }

    /// The same, but a step short enough to say nothing on its way ends
    /// without its `done` line too.
    #[must_use]
    pub(crate) fn only_long_steps(mut self) -> Self {
        self.done_only_when_long = true;
        self
    }
}

impl<W: Write> Progress for Lines<W> {
    /// Called again in the same step before `finish` (a run stages a batch
    /// of assets at a time), it adds to the totals.
    fn start(&mut self, step: Step, files: usize, bytes: u64) {
        let (total, _) = match &mut self.current {
            Some((current, total, done)) if *current == step => (total, done),
            // None, or a step that ended in an error, without `finish`.
            current => {
                self.last = Instant::now();
                self.said = false;
                let fresh = current.insert((step, Count::default(), Count::default()));
                (&mut fresh.1, &mut fresh.2)
            }
        };
        total.files += files;
        total.bytes += bytes;
    }

    fn file_done(&mut self, bytes: u64) {
        let Some((step, total, done)) = &mut self.current else {
            return;
        };
        done.files += 1;
        done.bytes += bytes;
        if self.last.elapsed() >= self.every {
            self.last = Instant::now();
            self.said = true;
            // Best effort: a progress line that cannot be written stops nothing.
            let _ = writeln!(
                self.out,
                "{}: {}/{} file{}, {}/{}",
                step.word(),
                done.files,
                total.files,
                plural(total.files as u64),
                human_bytes(done.bytes),
                human_bytes(total.bytes)
            );
        }
    }

    fn finish(&mut self) {
        if let Some((step, total, done)) = self.current.take() {
            if total.files > 0 && (self.said || !self.done_only_when_long) {
                let _ = writeln!(
                    self.out,
                    "{}: done, {} file{} ({})",
                    step.word(),
                    done.files,
                    plural(done.files as u64),
                    human_bytes(done.bytes)
                );
            }
        }
    }
}

/// Two progress reports of one copy (the terminal's and the log's).
pub(crate) struct Both<'a>(
    pub(crate) &'a mut dyn Progress,
    pub(crate) &'a mut dyn Progress,
);

impl Progress for Both<'_> {
    fn start(&mut self, step: Step, files: usize, bytes: u64) {
        self.0.start(step, files, bytes);
        self.1.start(step, files, bytes);
    }

    fn file_done(&mut self, bytes: u64) {
        self.0.file_done(bytes);
        self.1.file_done(bytes);
    }

    fn finish(&mut self) {
        self.0.finish();
        self.1.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `lines` wrote, once done.
    fn text(out: &[u8]) -> String {
        String::from_utf8(out.to_vec()).unwrap()
    }

    #[test]
    fn lines_name_the_step_and_count_in_human_units() {
        let mut out = Vec::new();
        let mut lines = Lines::new(&mut out, Duration::ZERO);
        lines.start(Step::Staging, 2, 1_500_000);
        lines.start(Step::Staging, 1, 1_000_000);
        lines.file_done(1_000_000);
        lines.file_done(1_500_000);
        lines.finish();
        lines.start(Step::Mirror, 1, 2_500_000_000);
        lines.file_done(2_500_000_000);
        lines.finish();
        assert_eq!(
            text(&out),
            "staging: 1/3 files, 1.0 MB/2.5 MB\n\
             staging: 2/3 files, 2.5 MB/2.5 MB\n\
             staging: done, 2 files (2.5 MB)\n\
             mirror: 1/1 file, 2.5 GB/2.5 GB\n\
             mirror: done, 1 file (2.5 GB)\n"
        );
    }

    #[test]
    fn lines_are_throttled_and_nothing_to_copy_says_nothing() {
        let mut out = Vec::new();
        let mut lines = Lines::new(&mut out, Duration::from_secs(3600));
        lines.start(Step::Mirror, 0, 0);
        lines.finish();
        lines.start(Step::Mirror, 3, 300);
        for _ in 0..3 {
            lines.file_done(100);
        }
        lines.finish();
        assert_eq!(text(&out), "mirror: done, 3 files (300 B)\n");
    }

    #[test]
    fn a_step_that_failed_is_not_counted_in_the_next() {
        let mut out = Vec::new();
        let mut lines = Lines::new(&mut out, Duration::from_secs(3600));
        lines.start(Step::Staging, 5, 500);
        lines.file_done(100);
        // No `finish`: staging failed; the mirror starts afresh.
        lines.start(Step::Mirror, 2, 200);
        lines.file_done(100);
        lines.file_done(100);
        lines.finish();
        assert_eq!(text(&out), "mirror: done, 2 files (200 B)\n");
    }

    #[test]
    fn only_long_steps_end_with_a_done_line() {
        let (mut short, mut long) = (Vec::new(), Vec::new());
        {
            let mut quick = Lines::new(&mut short, Duration::from_secs(3600)).only_long_steps();
            let mut slow = Lines::new(&mut long, Duration::ZERO).only_long_steps();
            let mut both = Both(&mut quick, &mut slow);
            both.start(Step::Staging, 1, 10);
            both.file_done(10);
            both.finish();
        }
        assert_eq!(text(&short), "");
        assert_eq!(
            text(&long),
            "staging: 1/1 file, 10 B/10 B\nstaging: done, 1 file (10 B)\n"
        );
    }
}
