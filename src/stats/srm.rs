//! Sample-ratio mismatch: are participants split the way the weights say?

use super::significance::chi2_sf;

/// Result of the sample-ratio-mismatch check.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct SrmCheck {
    /// p-value of the chi-square goodness-of-fit test.
    pub p_value: f64,
    /// `p_value < 0.001`: the split is off, so the results are suspect.
    pub mismatch: bool,
}

/// Flag threshold: GrowthBook's default, strict because the check runs
/// continuously and a looser one would cry wolf.
const SRM_ALPHA: f64 = 0.001;

/// Chi-square goodness of fit of the observed participant counts against the
/// shares the `weights` promise (not equal shares), as
/// `scipy.stats.chisquare(observed, f_exp=total * w / sum(w))`; mismatch when
/// p < 0.001.
///
/// `None` when the total participant count is 0, when fewer than 2 variants
/// have a positive weight, or when the slices differ in length. A negative or
/// non-finite weight counts as 0. A zero-weight variant is left out of the
/// test while nobody is in it; anybody in it is a mismatch (p = 0), since the
/// configuration says nobody should be.
pub fn srm(observed: &[u64], weights: &[f64]) -> Option<SrmCheck> {
    if observed.len() != weights.len() {
        return None;
    }
    let weight = |w: f64| if w.is_finite() && w > 0.0 { w } else { 0.0 };
    let weight_sum: f64 = weights.iter().map(|&w| weight(w)).sum();
    // Summed as f64: only ever used as a float, and it cannot overflow.
    let total: f64 = observed.iter().map(|&count| count as f64).sum();
    let arms = weights.iter().filter(|&&w| weight(w) > 0.0).count();
    if total == 0.0 || arms < 2 {
        return None;
    }
    let mut statistic = 0.0;
    for (&count, &w) in observed.iter().zip(weights) {
        let w = weight(w);
        if w == 0.0 {
            if count > 0 {
                return Some(SrmCheck {
                    p_value: 0.0,
                    mismatch: true,
                });
            }
            continue;
        }
        let expected = total * (w / weight_sum);
        let diff = count as f64 - expected;
        statistic += diff * diff / expected;
    }
    let p_value = chi2_sf(statistic, (arms - 1) as f64);
    Some(SrmCheck {
        p_value,
        mismatch: p_value < SRM_ALPHA,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ninety_ten_split_is_judged_against_its_weights() {
        // chisquare([9050, 950], f_exp=[9000, 1000]).pvalue
        let check = srm(&[9050, 950], &[90.0, 10.0]).unwrap();
        assert!(
            (check.p_value / 0.09558070454562936 - 1.0).abs() < 1e-9,
            "{check:?}"
        );
        assert!(!check.mismatch);
        // The same counts against equal shares would be a glaring mismatch.
        assert!(srm(&[9050, 950], &[1.0, 1.0]).unwrap().mismatch);
    }

    #[test]
    fn a_broken_ninety_ten_split_is_flagged() {
        let check = srm(&[9200, 800], &[0.9, 0.1]).unwrap();
        assert!(check.mismatch && check.p_value < 1e-10, "{check:?}");
    }

    #[test]
    fn nothing_to_check_without_participants_or_a_second_arm() {
        assert_eq!(srm(&[0, 0], &[1.0, 1.0]), None);
        assert_eq!(srm(&[10, 0], &[1.0, 0.0]), None);
        assert_eq!(srm(&[10, 10], &[1.0]), None);
    }

    #[test]
    fn participants_in_a_zero_weight_arm_are_a_mismatch() {
        let check = srm(&[50, 50, 3], &[1.0, 1.0, 0.0]).unwrap();
        assert_eq!(
            check,
            SrmCheck {
                p_value: 0.0,
                mismatch: true
            }
        );
        let check = srm(&[50, 50, 0], &[1.0, 1.0, 0.0]).unwrap();
        assert_eq!(check.p_value, 1.0);
    }
}
