//! Statistics behind `GET /results` (PRODUCT.md §6), free of I/O so that
//! every number can be checked against scipy.
//!
//! - [`wilson_interval`]: 95% Wilson interval of each arm's rate.
//! - [`two_by_two`]: two-sided p against the control, chi-square with Yates'
//!   correction when every expected cell is >= 5, else Fisher's exact test.
//! - [`chance_to_beat`]: Bayesian chance to beat control, Beta(1, 1) prior.
//! - [`holm`]: Holm–Bonferroni adjustment across the treatments of a goal.
//! - [`srm`]: sample-ratio-mismatch check of participants against weights.
//! - [`compare`]: everything above for one treatment against the control.
//! - [`sequential`]: always-valid p-value and confidence sequence (gbstats
//!   `SequentialTwoSidedTTest`); [`fixed_interval`]: gbstats `TwoSidedTTest`.
//! - [`sample_size_per_arm`]: the fixed-horizon plan (statsmodels).
//!
//! `tests/fixtures/stats_cases.json`, written by
//! `tests/fixtures/make_stats_fixtures.py` with scipy, statsmodels and gbstats,
//! pins these functions to their answers (see `fixtures_test.rs`).

mod bayes;
mod holm;
mod hypergeom;
mod proportion;
mod sample_size;
mod sequential;
mod significance;
mod srm;

#[cfg(test)]
#[path = "fixtures_test.rs"]
mod fixtures_match_scipy;

#[cfg(test)]
#[path = "sequential_fixtures_test.rs"]
mod fixtures_match_gbstats_and_statsmodels;

pub use bayes::chance_to_beat;
pub use holm::holm;
pub use proportion::wilson_interval;
pub use sample_size::sample_size_per_arm;
pub use sequential::{Difference, Sequential, fixed_interval, sequential};
pub use significance::{TestUsed, chi2_yates, fisher_exact, two_by_two};
pub use srm::{SrmCheck, srm};

/// Participants and (unique) conversions of one variant for one goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arm {
    /// Units assigned to the variant.
    pub participants: u64,
    /// Participants that converted at least once; at most `participants`.
    pub conversions: u64,
}

impl Arm {
    /// An arm of `participants` of whom `conversions` converted.
    pub const fn new(participants: u64, conversions: u64) -> Self {
        Self {
            participants,
            conversions,
        }
    }

    /// Conversion rate; `None` without participants. Conversions above
    /// participants are read as participants, so a rate never exceeds 1.
    pub fn rate(self) -> Option<f64> {
        (self.participants > 0)
            .then(|| self.conversions.min(self.participants) as f64 / self.participants as f64)
    }

    /// The arm's row of a 2x2 table: [conversions, failures].
    pub fn row(self) -> [u64; 2] {
        let conversions = self.conversions.min(self.participants);
        [conversions, self.participants - conversions]
    }
}

/// Everything `/results` shows for one non-control arm against the control.
/// A field is `None` when it is undefined: when either arm has no
/// participants there is no lift, p-value, test or chance to beat; `lift_rel`
/// is also `None` when the control's rate is 0.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// Treatment rate minus control rate.
    pub lift_abs: Option<f64>,
    /// `lift_abs` divided by the control rate.
    pub lift_rel: Option<f64>,
    /// Two-sided p-value of [`two_by_two`].
    pub p_value: Option<f64>,
    /// The test behind `p_value`.
    pub test: Option<TestUsed>,
    /// [`chance_to_beat`] of the treatment over the control.
    pub chance_to_beat_control: Option<f64>,
}

/// Treatment rate minus control rate; `None` when either arm has no
/// participants. The `lift_abs` of [`compare`], on its own for where the
/// rest of a comparison is not wanted (results over time).
pub fn lift_abs(control: Arm, treatment: Arm) -> Option<f64> {
    Some(treatment.rate()? - control.rate()?)
}

/// Compares `treatment` with `control` for `/results`.
pub fn compare(control: Arm, treatment: Arm) -> Comparison {
    let (Some(control_rate), Some(lift_abs)) = (control.rate(), lift_abs(control, treatment))
    else {
        return Comparison {
            lift_abs: None,
            lift_rel: None,
            p_value: None,
            test: None,
            chance_to_beat_control: None,
        };
    };
    let (p_value, test) = two_by_two([control.row(), treatment.row()]);
    Comparison {
        lift_abs: Some(lift_abs),
        lift_rel: (control_rate > 0.0).then(|| lift_abs / control_rate),
        p_value: Some(p_value),
        test: Some(test),
        chance_to_beat_control: Some(chance_to_beat(control, treatment)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(participants: u64, conversions: u64) -> Arm {
        Arm::new(participants, conversions)
    }

    #[test]
    fn the_seed_example_is_compared_like_the_product_doc_shows() {
        let result = compare(arm(1000, 120), arm(1000, 150));
        assert!((result.lift_abs.unwrap() - 0.03).abs() < 1e-15);
        assert!((result.lift_rel.unwrap() - 0.25).abs() < 1e-12);
        assert!((result.p_value.unwrap() - 0.0577).abs() < 1e-4);
        assert_eq!(result.test, Some(TestUsed::Chi2Yates));
        assert!((result.chance_to_beat_control.unwrap() - 0.975).abs() < 1e-3);
    }

    #[test]
    fn an_arm_without_participants_has_nothing_to_compare() {
        for (control, treatment) in [(arm(0, 0), arm(10, 3)), (arm(10, 3), arm(0, 0))] {
            let result = compare(control, treatment);
            assert_eq!(result.p_value, None);
            assert_eq!(result.test, None);
            assert_eq!(result.lift_abs, None);
            assert_eq!(result.chance_to_beat_control, None);
        }
    }

    #[test]
    fn a_control_without_conversions_has_no_relative_lift() {
        let result = compare(arm(100, 0), arm(100, 5));
        assert_eq!(result.lift_rel, None);
        assert_eq!(result.lift_abs, Some(0.05));
        assert_eq!(result.test, Some(TestUsed::FisherExact));
    }

    #[test]
    fn no_conversions_anywhere_is_a_clean_non_result() {
        let result = compare(arm(500, 0), arm(400, 0));
        assert_eq!(result.p_value, Some(1.0));
        assert_eq!(result.test, Some(TestUsed::FisherExact));
        assert_eq!(result.lift_abs, Some(0.0));
        assert_eq!(result.lift_rel, None);
        assert!(result.chance_to_beat_control.unwrap().is_finite());
    }

    #[test]
    fn everyone_converting_everywhere_is_a_clean_non_result() {
        let result = compare(arm(500, 500), arm(400, 400));
        assert_eq!(result.p_value, Some(1.0));
        assert_eq!(result.lift_rel, Some(0.0));
    }

    #[test]
    fn huge_arms_give_finite_numbers() {
        let result = compare(arm(10_000_000, 1_000_000), arm(10_000_000, 1_003_000));
        let json = serde_json::to_value(result).unwrap();
        assert_eq!(json["test"], "chi2_yates");
        for field in ["lift_abs", "lift_rel", "p_value", "chance_to_beat_control"] {
            let value = json[field].as_f64().unwrap();
            assert!(
                value.is_finite() && (-1.0..=1.0).contains(&value),
                "{field}"
            );
        }
    }

    #[test]
    fn conversions_above_participants_are_capped() {
        assert_eq!(
            compare(arm(10, 12), arm(10, 5)),
            compare(arm(10, 10), arm(10, 5))
        );
    }
}
