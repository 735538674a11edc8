//! Progress of a long export: a bar on a terminal (indicatif), plain log
//! lines otherwise (launchd's log file), so an export of a whole library
//! shows it is alive without flooding the log.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::stage::Progress;

/// A byte-based progress bar on stderr.
#[derive(Default)]
pub(crate) struct Bar(Option<ProgressBar>);

impl Progress for Bar {
    /// Called again before `finish` (a run stages a batch of assets at a
    /// time), it adds to the bar's total.
    fn start(&mut self, files: usize, bytes: u64) {
        if files == 0 {
            return;
        }
        if let Some(bar) = &self.0 {
            bar.inc_length(bytes);
            return;
        }
        let bar = ProgressBar::new(bytes);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} staging [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta} {msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        self.0 = Some(bar);
    }

    fn file_done(&mut self, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(bytes);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
        }
    }
}

/// A line on stderr every 30 seconds while staging, and one at the end.
pub(crate) struct Lines {
    total: (usize, u64),
    done: (usize, u64),
    last: Instant,
}

impl Default for Lines {
    fn default() -> Self {
        Self {
            total: (0, 0),
            done: (0, 0),
            last: Instant::now(),
        }
    }
}

impl Progress for Lines {
    /// Called again before `finish` (a run stages a batch of assets at a
    /// time), it adds to the totals.
    fn start(&mut self, files: usize, bytes: u64) {
        if self.total == (0, 0) {
            self.last = Instant::now();
        }
        self.total.0 += files;
        self.total.1 += bytes;
    }

    fn file_done(&mut self, bytes: u64) {
        self.done.0 += 1;
        self.done.1 += bytes;
        if self.last.elapsed() >= Duration::from_secs(30) {
            self.last = Instant::now();
            eprintln!(
                "staging: {}/{} files, {}/{} bytes",
                self.done.0, self.total.0, self.done.1, self.total.1
            );
        }
    }

    fn finish(&mut self) {
        if self.total.0 > 0 {
            eprintln!(
                "staging: done, {} files, {} bytes",
                self.done.0, self.done.1
            );
        }
        self.total = (0, 0);
        self.done = (0, 0);
    }
}
