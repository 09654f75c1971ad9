//! Holm–Bonferroni step-down adjustment, for several treatments compared with
//! the same control.

/// Holm–Bonferroni adjusted p-values, in the same order as `p_values`.
///
/// The i-th smallest of m p-values is multiplied by `m - i` (0-based), the
/// results are made non-decreasing in that order and capped at 1, so a
/// treatment is never reported as more significant than one with a smaller
/// raw p. Same as statsmodels' `multipletests(p, method="holm")`.
/// Inputs are expected in `0..=1`; a NaN stays NaN in its own slot.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&i, &j| p_values[i].total_cmp(&p_values[j]));
    let mut adjusted = vec![0.0; m];
    let mut running_max = 0.0_f64;
    for (rank, &index) in order.iter().enumerate() {
        let p = p_values[index];
        if p.is_nan() {
            adjusted[index] = f64::NAN;
            continue;
        }
        running_max = running_max.max((m - rank) as f64 * p);
        adjusted[index] = running_max.min(1.0);
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_textbook_example_is_adjusted_step_down() {
        // Sorted: 0.005 * 4, 0.01 * 3, 0.03 * 2, then 0.04 * 1 = 0.04 is raised
        // to the 0.06 before it; the answer comes back in input order.
        let adjusted = holm(&[0.01, 0.04, 0.03, 0.005]);
        let expected = [0.03, 0.06, 0.06, 0.02];
        for (a, e) in adjusted.iter().zip(expected) {
            assert!((a - e).abs() < 1e-15, "{adjusted:?}");
        }
    }

    #[test]
    fn adjusted_values_are_capped_at_one() {
        assert_eq!(holm(&[0.5, 0.6, 0.9]), vec![1.0, 1.0, 1.0]);
    }

    #[test]
    fn a_single_comparison_is_left_alone() {
        assert_eq!(holm(&[0.0577]), vec![0.0577]);
        assert!(holm(&[]).is_empty());
    }

    #[test]
    fn ties_get_the_same_adjusted_value() {
        assert_eq!(holm(&[0.02, 0.01, 0.02]), vec![0.04, 0.03, 0.04]);
    }
}
