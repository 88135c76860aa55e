//! The Wilson score interval for a proportion (the method OHID uses; DOMAIN.md "Reporting
//! conventions"). Unlike the plain ±1.96·SE interval it stays inside 0–1 and works for a
//! count of 0 or of the whole base.

/// The normal quantile for a two-sided 95% interval.
pub const Z95: f64 = 1.96;

/// The 95% Wilson score interval `(low, high)` for `count` out of `base`, both 0–1; `None`
/// when the base is 0 (there is no proportion) or the count exceeds the base.
///
/// With O = count, n = base, q = 1 − O/n, z = 1.96:
/// low/high = (2O + z² ∓ z·√(z² + 4·O·q)) / (2(n + z²)).
pub fn wilson(count: u64, base: u64) -> Option<(f64, f64)> {
    if base == 0 || count > base {
        return None;
    }
    let o = count as f64;
    let n = base as f64;
    let q = 1.0 - o / n;
    let z2 = Z95 * Z95;
    let spread = Z95 * (z2 + 4.0 * o * q).sqrt();
    let denominator = 2.0 * (n + z2);
    let low = (2.0 * o + z2 - spread) / denominator;
    let high = (2.0 * o + z2 + spread) / denominator;
    // Rounding can put an end a hair outside 0–1 when O is 0 or n.
    Some((low.clamp(0.0, 1.0), high.clamp(0.0, 1.0)))
}

/// Whether two intervals overlap (touching counts as overlapping: no change is claimed).
pub fn overlap(a: (f64, f64), b: (f64, f64)) -> bool {
    a.0 <= b.1 && b.0 <= a.1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn four_places(x: f64) -> f64 {
        (x * 10_000.0).round() / 10_000.0
    }

    /// Newcombe, R. G. (1998), "Two-sided confidence intervals for the single proportion:
    /// comparison of seven methods", Statistics in Medicine 17, 857–872, Table II, method 3
    /// (Wilson score interval without continuity correction), its four worked examples.
    #[test]
    fn matches_newcombe_1998_table_ii() {
        for (count, base, low, high) in [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
        ] {
            let (l, h) = wilson(count, base).unwrap();
            assert_eq!(
                (four_places(l), four_places(h)),
                (low, high),
                "{count}/{base}"
            );
        }
    }

    #[test]
    fn all_of_the_base_mirrors_none_of_it() {
        // 20/20 is the mirror image of 0/20: 0.8389 to 1.
        let (l, h) = wilson(20, 20).unwrap();
        assert_eq!((four_places(l), h), (0.8389, 1.0));
        let (l0, h0) = wilson(0, 20).unwrap();
        assert_eq!(l0, 0.0);
        assert!((1.0 - h0 - l).abs() < 1e-12);
    }

    #[test]
    fn no_base_no_interval() {
        assert_eq!(wilson(0, 0), None);
        assert_eq!(wilson(3, 2), None);
    }

    #[test]
    fn touching_intervals_overlap() {
        assert!(overlap((0.1, 0.3), (0.3, 0.5)));
        assert!(!overlap((0.1, 0.29), (0.3, 0.5)));
        assert!(!overlap((0.6, 0.8), (0.3, 0.5)));
    }
}
