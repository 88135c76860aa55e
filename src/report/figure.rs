//! Figures and the small-numbers rule: a raw tally becomes a [`Figure`] or [`Count`] with
//! its Wilson interval, its low-base flag and, in the public pack, the suppression our rule
//! asks for (DOMAIN.md "Reporting conventions").
//!
//! Our rule, public pack only:
//! - a count from 1 to `threshold − 1` is hidden (zero is shown, as NHS Digital does: it is
//!   the absence of anyone, and hiding it would hide most of every table);
//! - a figure whose base is below the threshold is hidden whole;
//! - a figure whose count, or whose base minus count, is small hides its count, fraction
//!   and interval (the fraction would give the small group away); the base stays;
//! - the excluded count (don't know, refused, not answered) is shown: it is not an answer
//!   to the measure, and it is always the group total minus the base, so hiding it would
//!   force hiding the base and with it the whole figure;
//! - in a table whose rows add up to a shown total, a single hidden cell takes the next
//!   smallest cell with it ([`hide_in_table`]), so it cannot be recovered by subtraction.

use serde::{Deserialize, Serialize};

use super::model::{Count, Figure};
use super::wilson::wilson;

/// A base under this is flagged "low base".
pub const LOW_BASE: u64 = 30;
/// Counts under this are hidden in the public pack.
pub const THRESHOLD: u64 = 5;

/// What a figure is made from, before any suppression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tally {
    pub count: u64,
    pub base: u64,
    pub excluded: u64,
}

impl Tally {
    /// Adds another tally's counts (of other responses) to this one.
    pub fn absorb(&mut self, other: Tally) {
        self.count += other.count;
        self.base += other.base;
        self.excluded += other.excluded;
    }

    pub fn new(count: u64, base: u64) -> Tally {
        Tally {
            count,
            base,
            excluded: 0,
        }
    }

    pub fn fraction(&self) -> Option<f64> {
        (self.base > 0).then(|| self.count as f64 / self.base as f64)
    }

    pub fn interval(&self) -> Option<(f64, f64)> {
        wilson(self.count, self.base)
    }
}

/// Whether and how small numbers are hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// The public pack: small numbers hidden. False for the internal view.
    pub public: bool,
    pub threshold: u64,
}

impl Rules {
    pub fn public() -> Rules {
        Rules {
            public: true,
            threshold: THRESHOLD,
        }
    }

    pub fn internal() -> Rules {
        Rules {
            public: false,
            threshold: THRESHOLD,
        }
    }

    /// Whether the public pack hides this count by itself (primary suppression).
    pub fn is_small(&self, n: u64) -> bool {
        self.public && n > 0 && n < self.threshold
    }

    pub fn count(&self, n: u64) -> Count {
        self.count_hidden(n, self.is_small(n))
    }

    /// A count, hidden when `hide` (already decided, e.g. by [`hide_in_table`]).
    pub fn count_hidden(&self, n: u64, hide: bool) -> Count {
        Count {
            value: (!hide).then_some(n),
            suppressed: hide,
        }
    }

    pub fn figure(&self, t: Tally) -> Figure {
        self.figure_hidden(t, false)
    }

    /// A figure hidden whole (its base is a hidden count) in the public pack.
    pub fn figure_whole_hidden(&self, t: Tally) -> Figure {
        let mut f = self.figure_hidden(t, true);
        if self.public {
            f.base = None;
            f.excluded = None;
        }
        f
    }

    /// A figure; `hide_count` hides its count, fraction and interval whatever their size
    /// (secondary suppression decided by the caller).
    pub fn figure_hidden(&self, t: Tally, hide_count: bool) -> Figure {
        let interval = t.interval();
        let mut f = Figure {
            count: Some(t.count),
            base: Some(t.base),
            excluded: Some(t.excluded),
            fraction: t.fraction(),
            low: interval.map(|i| i.0),
            high: interval.map(|i| i.1),
            low_base: t.base < LOW_BASE,
            suppressed: false,
        };
        if !self.public {
            return f;
        }
        let whole = self.is_small(t.base);
        if whole
            || hide_count
            || self.is_small(t.count)
            || self.is_small(t.base - t.count.min(t.base))
        {
            f.count = None;
            f.fraction = None;
            f.low = None;
            f.high = None;
            f.suppressed = true;
        }
        if whole {
            f.base = None;
        }
        f
    }
}

/// Which cells of a table whose rows add up to a shown total to hide: every small cell,
/// and when that leaves exactly one hidden, the smallest other non-zero cell too (the
/// smallest cell of any size when no other is non-zero), so no hidden cell is the total
/// minus the shown ones.
pub fn hide_in_table(values: &[u64], rules: &Rules) -> Vec<bool> {
    hide_in_table_sparing(values, rules, None)
}

/// Like [`hide_in_table`], but the second cell is taken from any cell other than `spare`
/// first (a zero cell too), and from `spare` only when there is no other: the residents'
/// count carries every indicator, so it is the last cell to hide.
pub fn hide_in_table_sparing(values: &[u64], rules: &Rules, spare: Option<usize>) -> Vec<bool> {
    let mut hidden: Vec<bool> = values.iter().map(|&v| rules.is_small(v)).collect();
    if hidden.iter().filter(|h| **h).count() == 1 {
        let pick = |nonzero: bool, avoid: Option<usize>| {
            values
                .iter()
                .enumerate()
                .filter(|(i, v)| !hidden[*i] && (!nonzero || **v > 0) && Some(*i) != avoid)
                .min_by_key(|(i, v)| (**v, *i))
                .map(|(i, _)| i)
        };
        let choice = pick(true, spare)
            .or_else(|| pick(false, spare))
            .or_else(|| pick(true, None))
            .or_else(|| pick(false, None));
        if let Some(i) = choice {
            hidden[i] = true;
        }
    }
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_shows_everything() {
        let f = Rules::internal().figure(Tally::new(2, 3));
        assert_eq!(
            (f.count, f.base, f.suppressed, f.low_base),
            (Some(2), Some(3), false, true)
        );
        assert!(f.fraction.is_some());
    }

    #[test]
    fn a_base_under_five_hides_the_whole_figure() {
        let f = Rules::public().figure(Tally::new(0, 4));
        assert_eq!(
            (f.count, f.base, f.fraction, f.suppressed),
            (None, None, None, true)
        );
    }

    #[test]
    fn small_counts_and_small_complements_hide_the_count_not_the_base() {
        let r = Rules::public();
        // 4 of 40: the count is small.
        let f = r.figure(Tally::new(4, 40));
        assert_eq!(
            (f.count, f.base, f.fraction, f.suppressed),
            (None, Some(40), None, true)
        );
        // 37 of 40: the 3 who did not are recoverable from the fraction.
        let f = r.figure(Tally::new(37, 40));
        assert_eq!((f.count, f.fraction, f.suppressed), (None, None, true));
        // 5 of 40 and 35 of 40 are shown; 0 of 40 and 40 of 40 too.
        for n in [5, 35, 0, 40] {
            let f = r.figure(Tally::new(n, 40));
            assert_eq!((f.count, f.suppressed), (Some(n), false), "{n}");
        }
        // 10 of 20 is shown, flagged low base.
        assert!(r.figure(Tally::new(10, 20)).low_base);
        assert!(!r.figure(Tally::new(10, 30)).low_base);
    }

    #[test]
    fn one_hidden_cell_takes_the_next_smallest_with_it() {
        let r = Rules::public();
        // 3 is small; 6 is the next smallest non-zero cell.
        assert_eq!(
            hide_in_table(&[20, 3, 0, 6, 9], &r),
            vec![false, true, false, true, false]
        );
        // Two small cells protect each other.
        assert_eq!(hide_in_table(&[20, 3, 2], &r), vec![false, true, true]);
        // Nothing small, nothing hidden; internal hides nothing.
        assert_eq!(hide_in_table(&[20, 5, 0], &r), vec![false; 3]);
        assert_eq!(
            hide_in_table(&[20, 3, 6], &Rules::internal()),
            vec![false; 3]
        );
        // A lone cell beside zeros takes a zero with it.
        assert_eq!(hide_in_table(&[0, 3], &r), vec![true, true]);
        // Sparing the first cell: 40 residents and 3 businesses hide the businesses and a
        // zero cell, so neither the 3 nor how it splits can be worked out; without another
        // cell the spared one goes.
        assert_eq!(
            hide_in_table_sparing(&[40, 3, 0, 0], &r, Some(0)),
            vec![false, true, true, false]
        );
        assert_eq!(
            hide_in_table_sparing(&[40, 3, 7], &r, Some(0)),
            vec![false, true, true]
        );
        assert_eq!(
            hide_in_table_sparing(&[40, 3], &r, Some(0)),
            vec![true, true]
        );
    }
}
