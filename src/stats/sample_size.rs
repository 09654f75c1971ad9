//! Planned sample size of a fixed-horizon comparison of two proportions, as
//! statsmodels plans it: `NormalIndPower().solve_power(proportion_effectsize(
//! target, baseline), alpha, power, ratio=1, alternative="two-sided")`,
//! rounded up.

use statrs::distribution::{ContinuousCDF, Normal};

/// Participants needed in each of two equal arms to detect a change of the
/// conversion rate from `baseline` to `target` with probability `power` in a
/// two-sided test at level `alpha`.
///
/// The effect size is Cohen's h, `2 asin(sqrt(target)) - 2 asin(sqrt(baseline))`;
/// the power counts both rejection tails, as statsmodels does. `None` when
/// the question has no answer: a rate outside (0, 1), equal rates, `alpha`
/// outside (0, 1) or `power` not strictly between `alpha` and 1.
pub fn sample_size_per_arm(baseline: f64, target: f64, alpha: f64, power: f64) -> Option<u64> {
    let open_unit = |x: f64| x > 0.0 && x < 1.0;
    if !(open_unit(baseline) && open_unit(target) && open_unit(alpha) && open_unit(power))
        || baseline == target
        || power <= alpha
    {
        return None;
    }
    let h = (2.0 * target.sqrt().asin() - 2.0 * baseline.sqrt().asin()).abs();
    let normal = Normal::standard();
    let critical = normal.inverse_cdf(1.0 - alpha / 2.0);
    // Power of n per arm: the statistic is h * sqrt(n / 2) away from 0.
    let power_at = |n: f64| {
        let shift = h * (n / 2.0).sqrt();
        normal.sf(critical - shift) + normal.cdf(-critical - shift)
    };
    // Power rises from alpha (n = 0) to 1, so bisection finds the n where it
    // reaches `power`; the one-tail formula gives a bracket to start from.
    let one_tail = 2.0 * ((critical + normal.inverse_cdf(power)) / h).powi(2);
    let (mut low, mut high) = (0.0, one_tail.max(1.0) * 2.0);
    while power_at(high) < power {
        high *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if power_at(mid) < power {
            low = mid;
        } else {
            high = mid;
        }
        if high - low < 1e-9 * high {
            break;
        }
    }
    // The bisection's answer is good to ~1e-9 relative; rounding up a value
    // a hair above an integer would add a participant nobody needs.
    let needed = (high * (1.0 - 1e-12)).ceil();
    (needed.is_finite() && needed < u64::MAX as f64).then_some(needed.max(1.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_points_over_twelve_percent_needs_about_two_thousand_per_arm() {
        // statsmodels: 2030.97...
        assert_eq!(sample_size_per_arm(0.12, 0.15, 0.05, 0.8), Some(2031));
    }

    #[test]
    fn the_direction_of_the_change_does_not_matter_for_a_symmetric_h() {
        assert_eq!(
            sample_size_per_arm(0.5, 0.52, 0.05, 0.8),
            sample_size_per_arm(0.5, 0.48, 0.05, 0.8)
        );
    }

    #[test]
    fn questions_without_an_answer_are_refused() {
        assert_eq!(sample_size_per_arm(0.1, 0.1, 0.05, 0.8), None);
        assert_eq!(sample_size_per_arm(0.0, 0.1, 0.05, 0.8), None);
        assert_eq!(sample_size_per_arm(0.1, 1.0, 0.05, 0.8), None);
        assert_eq!(sample_size_per_arm(0.1, 0.2, 0.05, 0.04), None);
        assert_eq!(sample_size_per_arm(0.1, 0.2, f64::NAN, 0.8), None);
    }
}
