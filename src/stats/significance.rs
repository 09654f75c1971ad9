//! Two-sided significance of a 2x2 conversion table, picked the way the
//! product promises (PRODUCT.md §6): chi-square with Yates' correction when
//! every expected cell is at least 5, Fisher's exact test otherwise.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use super::hypergeom::Hypergeometric;

/// Which test produced a p-value; serialized as `chi2_yates` or
/// `fisher_exact` in `/results`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestUsed {
    /// Pearson's chi-square with Yates' continuity correction.
    Chi2Yates,
    /// Fisher's exact test, two-sided.
    FisherExact,
}

/// Two-sided p of a 2x2 table `[[conv_a, fail_a], [conv_b, fail_b]]`:
/// chi-square with Yates' correction (exactly `scipy.stats.chi2_contingency`'s
/// default: each cell moves toward its expected value by
/// `min(0.5, |O - E|)`) when every expected cell is >= 5, otherwise Fisher's
/// exact test (`scipy.stats.fisher_exact`, two-sided).
///
/// A table with an empty row or column has expected cells of 0, so it goes to
/// Fisher, which gives 1.0 for it.
pub fn two_by_two(table: [[u64; 2]; 2]) -> (f64, TestUsed) {
    if every_expected_cell_at_least_5(table) {
        (chi2_yates(table).1, TestUsed::Chi2Yates)
    } else {
        (fisher_exact(table), TestUsed::FisherExact)
    }
}

/// Expected cell `r_i * c_j / n >= 5`, decided in integers so that a cell of
/// exactly 5 is never lost to rounding.
fn every_expected_cell_at_least_5(table: [[u64; 2]; 2]) -> bool {
    let [[a, b], [c, d]] = table.map(|row| row.map(u128::from));
    let n = a + b + c + d;
    let smallest_row = (a + b).min(c + d);
    let smallest_col = (a + c).min(b + d);
    // An overflowing product is far above 5n, which fits easily.
    n > 0
        && smallest_row
            .checked_mul(smallest_col)
            .is_none_or(|product| product >= 5 * n)
}

/// Chi-square statistic with Yates' correction and its p-value (1 degree of
/// freedom), as `scipy.stats.chi2_contingency(table)` returns them.
///
/// Meant for tables whose expected cells are all positive; a table with an
/// empty row or column carries no evidence and gives `(0.0, 1.0)` instead of
/// dividing by zero.
pub fn chi2_yates(table: [[u64; 2]; 2]) -> (f64, f64) {
    let [[a, b], [c, d]] = table.map(|row| row.map(u128::from));
    let n = a + b + c + d;
    let margins = [a + b, c + d, a + c, b + d];
    if margins.contains(&0) {
        return (0.0, 1.0);
    }
    // In a 2x2 table |O - E| is the same in every cell: |ad - bc| / n. Working
    // with the integer |ad - bc| keeps the statistic exact up to the last
    // rounding, even when O and E agree to many digits in a 10^7 table.
    let cross = (a * d).abs_diff(b * c);
    // scipy shifts each cell by min(0.5, |O - E|), so a table that is within
    // half a count of independence gets a statistic of exactly 0.
    if 2 * cross <= n {
        return (0.0, 1.0);
    }
    let shifted = (2 * cross - n) as f64 / 2.0;
    // Sum over cells of 1/E is n^3 / margins, hence this closed form.
    let margins: f64 = margins.iter().map(|&m| m as f64).product();
    let statistic = n as f64 * shifted * shifted / margins;
    (statistic, chi2_sf(statistic, 1.0))
}

/// Upper tail of the chi-square distribution with `dof` degrees of freedom;
/// every caller passes `dof >= 1`, for which the distribution always exists.
pub(super) fn chi2_sf(statistic: f64, dof: f64) -> f64 {
    ChiSquared::new(dof).map_or(f64::NAN, |dist| dist.sf(statistic))
}

/// Fisher's exact test, two-sided, as `scipy.stats.fisher_exact(table)`:
/// the probability, under fixed margins, of every table no more likely than
/// the observed one.
///
/// "No more likely" allows a relative tolerance of 1 + 1e-7 (scipy 1.17 uses
/// 1 + 1e-14 on exactly rounded probabilities; ours are differences of
/// log-gamma terms, good to a few 1e-8 at 10^7 participants, so a table tied
/// with the observed one needs more room to be caught). Mirror-image ties are equal to the bit
/// anyway, see `Hypergeometric::ln_weight`. A table with an empty row or
/// column gives 1.0.
pub fn fisher_exact(table: [[u64; 2]; 2]) -> f64 {
    let [[a, b], [c, d]] = table;
    // Saturating: only counts near 2^64 could overflow, and they cannot occur.
    let Some(dist) = Hypergeometric::new(
        a.saturating_add(b),
        c.saturating_add(d),
        a.saturating_add(c),
    ) else {
        return 1.0;
    };
    let mode = dist.mode();
    let ln_observed = dist.ln_weight(a);
    if (dist.ln_weight(mode) - ln_observed).abs() <= LN_TIE {
        return 1.0;
    }
    let ln_limit = ln_observed + LN_TIE;
    let ln_p = if a < mode {
        let own_tail = dist.ln_lower_tail(a);
        match dist.first_at_most(mode, ln_limit) {
            Some(y) => log_add(own_tail, dist.ln_upper_tail(y)),
            None => own_tail,
        }
    } else {
        let own_tail = dist.ln_upper_tail(a);
        match dist.last_at_most(mode, ln_limit) {
            Some(y) => log_add(own_tail, dist.ln_lower_tail(y)),
            None => own_tail,
        }
    };
    (ln_p - dist.ln_total()).exp().min(1.0)
}

/// ln(1 + 1e-7), to within 5e-15: the tolerance on "no more likely".
const LN_TIE: f64 = 1e-7;

fn log_add(x: f64, y: f64) -> f64 {
    let (hi, lo) = if x >= y { (x, y) } else { (y, x) };
    hi + (lo - hi).exp().ln_1p()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_rel(actual: f64, expected: f64, tol: f64) {
        let err = (actual - expected).abs() / expected.abs();
        assert!(err <= tol, "{actual} vs {expected}: rel err {err:e}");
    }

    #[test]
    fn the_scipy_chi2_contingency_doc_example_is_reproduced() {
        let (statistic, p) = chi2_yates([[176, 230], [21035, 21018]]);
        assert_rel(statistic, 6.892569132546561, 1e-12);
        assert_rel(p, 0.008655478161175739, 1e-9);
    }

    #[test]
    fn the_scipy_fisher_exact_doc_example_is_reproduced() {
        assert_rel(fisher_exact([[6, 2], [1, 4]]), 0.10256410256410257, 1e-12);
        assert_rel(fisher_exact([[8, 2], [1, 5]]), 0.034965034965034975, 1e-12);
    }

    #[test]
    fn yates_correction_is_applied_to_the_seed_example() {
        // Uncorrected chi-square gives p ~ 0.0455 here; Yates' gives ~ 0.0577.
        let (p, test) = two_by_two([[120, 880], [150, 850]]);
        assert_eq!(test, TestUsed::Chi2Yates);
        assert!(p > 0.05, "{p}");
        assert_rel(p, 0.057746841509689, 1e-12);
    }

    #[test]
    fn an_expected_cell_of_exactly_5_still_uses_chi_square() {
        // Margins 100 x 10 over n = 200: smallest expected cell is 5.
        assert_eq!(two_by_two([[5, 95], [5, 95]]).1, TestUsed::Chi2Yates);
        assert_eq!(two_by_two([[4, 96], [5, 95]]).1, TestUsed::FisherExact);
    }

    #[test]
    fn degenerate_tables_go_to_fisher_and_give_one() {
        for table in [[[0, 100], [0, 100]], [[100, 0], [50, 0]], [[0, 0], [3, 7]]] {
            assert_eq!(two_by_two(table), (1.0, TestUsed::FisherExact));
            assert_eq!(chi2_yates(table), (0.0, 1.0));
        }
    }

    #[test]
    fn a_table_within_half_a_count_of_independence_has_p_one() {
        assert_eq!(chi2_yates([[50, 50], [50, 50]]), (0.0, 1.0));
        assert_eq!(chi2_yates([[50, 50], [51, 50]]).1, 1.0);
    }

    #[test]
    fn symmetric_ties_count_as_no_more_likely() {
        // Equal arms make x and n - x equally likely; both tails must be summed.
        let p = fisher_exact([[1, 9], [4, 6]]);
        assert_rel(p, 0.30340557275541796, 1e-12);
    }

    #[test]
    fn zero_versus_all_conversions_in_huge_arms_underflows_to_zero() {
        let p = fisher_exact([[0, 10_000_000], [10_000_000, 0]]);
        assert!(p.is_finite() && p < 1e-300, "{p}");
        let (p, test) = two_by_two([[0, 10_000_000], [10_000_000, 0]]);
        assert_eq!(test, TestUsed::Chi2Yates);
        assert!(p.is_finite() && p < 1e-300, "{p}");
    }

    #[test]
    fn test_names_serialize_in_snake_case() {
        let names = serde_json::to_string(&[TestUsed::Chi2Yates, TestUsed::FisherExact]).unwrap();
        assert_eq!(names, r#"["chi2_yates","fisher_exact"]"#);
    }
}
