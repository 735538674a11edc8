//! A library by year as a bar chart for the terminal: people look before
//! they read. One row per year, its bar split into the assets in verified
//! archives, staged, pending and not backed up, the bars scaled to the
//! largest year, then the year's count; a legend under it. It fits 80
//! columns. Block glyphs on a UTF-8 terminal, plain ASCII elsewhere (a log
//! file, a pipe, another locale): the caller says which ([`Glyphs`]).
//! Pure.

use super::render::grouped;
use super::YearCount;
use crate::printable::printable;

/// Cells of the longest bar: with `  YYYY `, a space and a count of up to
/// 11 characters (`123,456,789`) a row is 70 columns.
const WIDTH: usize = 50;

/// How the four groups are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Glyphs {
    /// `█ ▓ ▒ ░`: a terminal whose locale is UTF-8.
    Blocks,
    /// `# = ~ .`: anywhere else.
    Ascii,
}

impl Glyphs {
    /// Blocks on a terminal whose locale (the first of `LC_ALL`,
    /// `LC_CTYPE`, `LANG` that is set and not empty, as the C library
    /// reads them) says UTF-8; ASCII otherwise.
    #[must_use]
    pub(crate) fn choose(terminal: bool, locale: Option<&str>) -> Self {
        let utf8 = locale.is_some_and(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("utf-8") || l.contains("utf8")
        });
        if terminal && utf8 {
            Glyphs::Blocks
        } else {
            Glyphs::Ascii
        }
    }

    /// The glyphs of archived, staged, pending, not backed up.
    fn of(self) -> [char; 4] {
        match self {
            Glyphs::Blocks => ['█', '▓', '▒', '░'],
            Glyphs::Ascii => ['#', '=', '~', '.'],
        }
    }
}

/// The chart of `library`: a title, a row per year, the legend.
#[must_use]
pub(crate) fn chart(library: &str, years: &[YearCount], glyphs: Glyphs) -> Vec<String> {
    let name = printable(library);
    let largest = years.iter().map(YearCount::total).max().unwrap_or(0);
    if largest == 0 {
        return vec![format!("{name} by year: no assets")];
    }
    let g = glyphs.of();
    let mut lines = vec![format!("{name} by year:")];
    for y in years {
        let cells = cells([y.archived, y.staged, y.pending, y.not_backed_up], largest);
        let mut bar = String::new();
        for (glyph, n) in g.iter().zip(cells) {
            bar.extend(std::iter::repeat_n(*glyph, n));
        }
        let pad = WIDTH - cells.iter().sum::<usize>();
        bar.extend(std::iter::repeat_n(' ', pad));
        lines.push(format!("  {:>4} {bar} {:>11}", y.year, grouped(y.total())));
    }
    lines.push(format!(
        "  {} in verified archives  {} staged  {} pending  {} not backed up",
        g[0], g[1], g[2], g[3]
    ));
    lines
}

/// The cells of each group of a year whose groups count `counts`, the
/// largest year counting `largest` (at least the sum): the bar is its
/// share of [`WIDTH`], each group its share of the bar (rounded by the
/// largest remainders), and every group that has an asset gets a cell, so
/// a single photo not backed up shows even beside 100,000 archived ones
/// (the cell taken from the largest group). Never more than `WIDTH`.
#[must_use]
fn cells(counts: [u64; 4], largest: u64) -> [usize; 4] {
    let total: u64 = counts.iter().sum();
    let mut out = [0usize; 4];
    if total == 0 {
        return out;
    }
    let present = counts.iter().filter(|n| **n > 0).count();
    let scaled = (u128::from(total) * WIDTH as u128 + u128::from(largest) / 2)
        / u128::from(largest.max(total));
    let bar = (scaled as usize).clamp(present, WIDTH);
    for (cell, n) in out.iter_mut().zip(counts) {
        if n > 0 {
            *cell = ((u128::from(n) * bar as u128 / u128::from(total)) as usize).max(1);
        }
    }
    // What a group is owed beyond its cells, in units of 1/total of a cell.
    let owed = |i: usize, cells: &[usize; 4]| {
        i128::from(counts[i]) * bar as i128 - cells[i] as i128 * i128::from(total)
    };
    while out.iter().sum::<usize>() < bar {
        let i = (0..4)
            .filter(|i| counts[*i] > 0)
            .max_by_key(|i| (owed(*i, &out), std::cmp::Reverse(*i)))
            .unwrap_or(0);
        out[i] += 1;
    }
    while out.iter().sum::<usize>() > bar {
        let i = (0..4)
            .max_by_key(|i| (out[*i], std::cmp::Reverse(*i)))
            .unwrap_or(0);
        out[i] -= 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn year(year: i32, archived: u64, staged: u64, pending: u64, not_backed_up: u64) -> YearCount {
        YearCount {
            year,
            archived,
            staged,
            pending,
            not_backed_up,
        }
    }

    /// A library photographed since 2009, archived, the back catalogue of
    /// 2014 still to do, this year's photos staged and a few pending.
    fn years() -> Vec<YearCount> {
        vec![
            year(2009, 412, 0, 0, 0),
            year(2012, 2_874, 0, 0, 0),
            year(2014, 1_030, 0, 0, 2_210),
            year(2019, 9_845, 0, 3, 0),
            year(2025, 11_702, 0, 0, 0),
            year(2026, 7_301, 1_920, 14, 37),
        ]
    }

    #[test]
    fn a_library_over_years() {
        let lines = chart("anna", &years(), Glyphs::Blocks);
        assert!(lines.iter().all(|l| l.chars().count() <= 80), "{lines:#?}");
        insta::assert_snapshot!(lines.join("\n"));
    }

    #[test]
    fn a_library_over_years_in_ascii() {
        let lines = chart("anna", &years(), Glyphs::Ascii);
        assert!(lines.iter().all(|l| l.is_ascii() && l.len() <= 80));
        insta::assert_snapshot!(lines.join("\n"));
    }

    #[test]
    fn an_empty_library() {
        insta::assert_snapshot!(chart("anna", &[], Glyphs::Ascii).join("\n"));
    }

    #[test]
    fn counts_too_small_to_draw_still_get_a_cell() {
        let lines = chart(
            "ben\u{1b}[31m",
            &[year(2003, 1, 0, 1, 1), year(2024, 100_000, 0, 0, 0)],
            Glyphs::Ascii,
        );
        insta::assert_snapshot!(lines.join("\n"));
        assert!(lines[1].starts_with("  2003 #~. "), "{lines:#?}");
    }

    #[test]
    fn the_cells_add_up_to_the_share_and_never_overflow() {
        assert_eq!(cells([100, 0, 0, 0], 100), [WIDTH, 0, 0, 0]);
        assert_eq!(cells([50, 0, 0, 0], 100), [25, 0, 0, 0]);
        assert_eq!(cells([97, 1, 1, 1], 100), [47, 1, 1, 1]);
        assert_eq!(cells([1, 1, 1, 1], 1_000_000), [1, 1, 1, 1]);
        assert_eq!(cells([0, 0, 0, 0], 10), [0, 0, 0, 0]);
        assert_eq!(cells([1, 0, 0, 0], 1_000_000), [1, 0, 0, 0]);
        assert_eq!(cells([25, 25, 25, 25], 100), [13, 13, 12, 12]);
        assert_eq!(cells([u64::MAX / 4; 4], u64::MAX), [13, 13, 12, 12]);
        assert_eq!(cells([2, 1, 0, 0], 3), [33, 17, 0, 0]);
    }

    #[test]
    fn glyphs_are_blocks_only_on_a_utf8_terminal() {
        assert_eq!(Glyphs::choose(true, Some("en_US.UTF-8")), Glyphs::Blocks);
        assert_eq!(Glyphs::choose(true, Some("de_DE.utf8")), Glyphs::Blocks);
        assert_eq!(Glyphs::choose(false, Some("en_US.UTF-8")), Glyphs::Ascii);
        assert_eq!(Glyphs::choose(true, Some("C")), Glyphs::Ascii);
        assert_eq!(Glyphs::choose(true, None), Glyphs::Ascii);
    }
}
