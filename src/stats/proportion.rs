//! Wilson score interval for a single conversion rate.

use statrs::distribution::{ContinuousCDF, Normal};

/// Wilson score interval for `successes` out of `trials` at the two-sided
/// `confidence` level (0.95 for the 95% interval shown by `/results`),
/// without continuity correction, as scipy's
/// `binomtest(k, n).proportion_ci(confidence_level, method="wilson")`.
///
/// Returns `None` when `trials == 0` (no rate to bound), when
/// `successes > trials`, or when `confidence` is not strictly between 0 and 1.
pub fn wilson_interval(successes: u64, trials: u64, confidence: f64) -> Option<(f64, f64)> {
    if trials == 0 || successes > trials || !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let standard_normal = Normal::standard();
    let z = standard_normal.inverse_cdf(0.5 + 0.5 * confidence);
    let n = trials as f64;
    let p = successes as f64 / n;
    let q = 1.0 - p;
    // Same operation order as scipy (Newcombe 1998, method 3) so the bounds
    // agree to the last few ulps, not just to the fixture tolerance.
    let denom = 2.0 * (n + z * z);
    let center = (2.0 * n * p + z * z) / denom;
    let delta = z / denom * (4.0 * n * p * q + z * z).sqrt();
    // scipy pins the bound that touches 0 or 1 exactly; the formula would
    // leave a rounding residue of ~1e-17 there instead.
    let low = if successes == 0 { 0.0 } else { center - delta };
    let high = if successes == trials {
        1.0
    } else {
        center + delta
    };
    Some((low, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) -> bool {
        (actual - expected).abs() <= 1e-12 * expected.abs().max(1e-300)
    }

    #[test]
    fn the_seed_control_arm_matches_scipy() {
        // binomtest(120, 1000).proportion_ci(method="wilson")
        let (low, high) = wilson_interval(120, 1000, 0.95).unwrap();
        assert!(close(low, 0.10129926060130914), "{low}");
        assert!(close(high, 0.14160907584771276), "{high}");
    }

    #[test]
    fn zero_successes_pin_the_lower_bound_to_zero() {
        let (low, high) = wilson_interval(0, 20, 0.95).unwrap();
        assert_eq!(low, 0.0);
        assert!(close(high, 0.16112515805281935), "{high}");
    }

    #[test]
    fn all_successes_pin_the_upper_bound_to_one() {
        let (low, high) = wilson_interval(20, 20, 0.95).unwrap();
        assert!(close(low, 0.8388748419471808), "{low}");
        assert_eq!(high, 1.0);
    }

    #[test]
    fn no_trials_or_impossible_inputs_have_no_interval() {
        assert_eq!(wilson_interval(0, 0, 0.95), None);
        assert_eq!(wilson_interval(5, 4, 0.95), None);
        assert_eq!(wilson_interval(1, 4, 1.0), None);
        assert_eq!(wilson_interval(1, 4, f64::NAN), None);
    }

    #[test]
    fn huge_counts_give_a_tight_interval_around_the_rate() {
        let (low, high) = wilson_interval(1_000_000, 10_000_000, 0.95).unwrap();
        assert!(low < 0.1 && 0.1 < high);
        assert!(high - low < 4e-4);
    }
}
