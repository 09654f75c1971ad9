//! Always-valid inference on the difference of two conversion rates, exactly
//! as GrowthBook's `gbstats` 0.8.0 `SequentialTwoSidedTTest` computes it for
//! two `ProportionStatistic`s: the asymptotic confidence sequence of
//! Waudby-Smith et al. (2023, arXiv:2103.06476v7, eq. 9) and its always-valid
//! p-value (eq. 155), tuned by N* (eq. 161). Also the fixed-horizon interval of
//! gbstats' `TwoSidedTTest` (Welch), for experiments planned with a sample size.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::Arm;

/// Two-sided level of every interval and p-value here (95% intervals).
const ALPHA: f64 = 0.05;

/// Which difference of the rates is estimated, as gbstats' `difference_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Difference {
    /// Treatment rate minus control rate.
    Absolute,
    /// The absolute difference divided by the control rate (delta method).
    Relative,
}

/// A difference of two rates with the variance of its estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Estimate {
    point: f64,
    variance: f64,
}

impl Estimate {
    /// `None` when the difference or its variance is undefined: an arm without
    /// participants, a relative lift over a control rate of 0, or no variance
    /// at all (everyone or no one converted, in both arms). gbstats divides by
    /// zero there.
    fn of(control: Arm, treatment: Arm, difference: Difference) -> Option<Self> {
        let (a, b) = (control.rate()?, treatment.rate()?);
        let (n_a, n_b) = (control.participants as f64, treatment.participants as f64);
        // Population variance p(1 - p), as gbstats' ProportionStatistic.
        let (var_a, var_b) = (a * (1.0 - a), b * (1.0 - b));
        let (point, variance) = match difference {
            Difference::Absolute => (b - a, var_b / n_b + var_a / n_a),
            Difference::Relative if a > 0.0 => (
                (b - a) / a,
                var_b / (a.powi(2) * n_b) + var_a * b.powi(2) / (a.powi(4) * n_a),
            ),
            Difference::Relative => return None,
        };
        (variance > 0.0 && variance.is_finite()).then_some(Self { point, variance })
    }
}

/// The always-valid answer for one difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sequential {
    /// Always-valid two-sided p-value of "no difference" (eq. 155).
    pub p_value: f64,
    /// The 95% confidence sequence, `[low, high]` (eq. 9).
    pub interval: [f64; 2],
}

/// The sequential test of `treatment` against `control` with tuning parameter
/// `tuning` (N*, > 0: the total participants of both arms at which the
/// interval is tightest). `None` when the difference is undefined (see
/// [`Difference`] and the note on degenerate inputs in the README).
pub fn sequential(
    control: Arm,
    treatment: Arm,
    difference: Difference,
    tuning: f64,
) -> Option<Sequential> {
    let estimate = Estimate::of(control, treatment, difference)?;
    let n = (control.participants + treatment.participants) as f64;
    let rho_squared = rho_squared(tuning);
    // `n rho^2 + 1` appears in both formulas: it grows with the sample and
    // sets how much the interval pays for being valid at every look.
    let spread = n * rho_squared + 1.0;
    let s_squared = estimate.variance * n;
    let half_width = s_squared.sqrt()
        * (2.0 * spread * (spread.sqrt() / ALPHA).ln() / (n * n * rho_squared)).sqrt();
    let t_squared = estimate.point.powi(2) * n / estimate.variance;
    // ln of the e-value, so that a huge statistic gives p = 0, not inf / inf.
    let ln_e_value = rho_squared * t_squared / (2.0 * spread) - 0.5 * spread.ln();
    Some(Sequential {
        p_value: (-ln_e_value).exp().min(1.0),
        interval: [estimate.point - half_width, estimate.point + half_width],
    })
}

/// rho^2 of eq. 161 for the 5% level: `(-2 ln a + ln(-2 ln a + 1)) / N*`.
fn rho_squared(tuning: f64) -> f64 {
    let two_ln = -2.0 * ALPHA.ln();
    (two_ln + (two_ln + 1.0).ln()) / tuning
}

/// The 95% interval of gbstats' fixed-horizon `TwoSidedTTest`: Student's t
/// with Welch–Satterthwaite degrees of freedom. `None` where the difference
/// is undefined, as for [`sequential`].
pub fn fixed_interval(control: Arm, treatment: Arm, difference: Difference) -> Option<[f64; 2]> {
    let estimate = Estimate::of(control, treatment, difference)?;
    let freedom = welch_freedom(control, treatment)?;
    let half_width = t_quantile(1.0 - ALPHA / 2.0, freedom)? * estimate.variance.sqrt();
    Some([estimate.point - half_width, estimate.point + half_width])
}

/// The `probability` quantile of Student's t with `freedom` degrees of freedom.
///
/// statrs inverts the incomplete beta function, which is exact but crawls
/// (minutes) once `freedom` is in the thousands; there the Cornish–Fisher
/// expansion around the normal quantile (Abramowitz & Stegun 26.7.5) is good
/// to about 1e-10 relative from 100 degrees of freedom up.
fn t_quantile(probability: f64, freedom: f64) -> Option<f64> {
    if freedom < 100.0 {
        return Some(
            StudentsT::new(0.0, 1.0, freedom)
                .ok()?
                .inverse_cdf(probability),
        );
    }
    let z = Normal::standard().inverse_cdf(probability);
    let z2 = z * z;
    let terms = [
        z * (z2 + 1.0) / 4.0,
        z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0,
        z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0,
        z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0,
    ];
    let correction: f64 = terms
        .iter()
        .enumerate()
        .map(|(i, term)| term / freedom.powi(i as i32 + 1))
        .sum();
    Some(z + correction)
}

/// Welch–Satterthwaite degrees of freedom of the two rates. An arm with no
/// variance adds nothing to the denominator (gbstats would compute 0 / 0 for
/// an arm of one participant, whose variance is always 0).
fn welch_freedom(control: Arm, treatment: Arm) -> Option<f64> {
    let term = |arm: Arm| {
        let p = arm.rate()?;
        let n = arm.participants as f64;
        let share = p * (1.0 - p) / n;
        let denominator = if share > 0.0 {
            share.powi(2) / (n - 1.0)
        } else {
            0.0
        };
        Some((share, denominator))
    };
    let (share_a, denominator_a) = term(control)?;
    let (share_b, denominator_b) = term(treatment)?;
    let freedom = (share_a + share_b).powi(2) / (denominator_a + denominator_b);
    (freedom.is_finite() && freedom > 0.0).then_some(freedom)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(participants: u64, conversions: u64) -> Arm {
        Arm::new(participants, conversions)
    }

    #[test]
    fn the_seed_example_gives_gbstats_numbers() {
        let result = sequential(arm(1000, 120), arm(1000, 150), Difference::Absolute, 5000.0)
            .expect("defined");
        assert!((result.p_value - 0.470691).abs() < 1e-6, "{result:?}");
        assert!((result.interval[0] + 0.017693).abs() < 1e-6, "{result:?}");
        assert!((result.interval[1] - 0.077693).abs() < 1e-6, "{result:?}");
    }

    #[test]
    fn the_sequential_interval_is_wider_than_the_fixed_one() {
        let (a, b) = (arm(1000, 120), arm(1000, 150));
        let seq = sequential(a, b, Difference::Absolute, 5000.0)
            .unwrap()
            .interval;
        let fixed = fixed_interval(a, b, Difference::Absolute).unwrap();
        assert!(seq[0] < fixed[0] && fixed[1] < seq[1], "{seq:?} {fixed:?}");
    }

    #[test]
    fn the_t_quantile_matches_scipy_on_both_sides_of_the_switch() {
        // scipy.stats.t.ppf(0.975, dof)
        for (freedom, expected) in [
            (3.0, 3.1824463052837078),
            (99.0, 1.9842169515864174),
            (100.0, 1.9839715185235518),
            (1998.0, 1.9611520148367054),
            (1e7, 1.959964221767205),
        ] {
            let actual = t_quantile(0.975, freedom).unwrap();
            assert!(
                (actual - expected).abs() < 1e-9 * expected,
                "{freedom}: {actual}"
            );
        }
    }

    #[test]
    fn no_variance_or_no_control_rate_is_undefined() {
        for (control, treatment) in [
            (arm(1000, 0), arm(1000, 0)),
            (arm(30, 30), arm(40, 40)),
            (arm(0, 0), arm(10, 5)),
        ] {
            assert_eq!(
                sequential(control, treatment, Difference::Absolute, 5000.0),
                None
            );
            assert_eq!(
                fixed_interval(control, treatment, Difference::Absolute),
                None
            );
        }
        assert_eq!(
            sequential(arm(1000, 0), arm(1000, 10), Difference::Relative, 5000.0),
            None
        );
    }

    #[test]
    fn an_overwhelming_difference_gives_p_zero_not_nan() {
        let result = sequential(
            arm(10_000_000, 0),
            arm(10_000_000, 9_000_000),
            Difference::Absolute,
            5000.0,
        )
        .unwrap();
        assert_eq!(result.p_value, 0.0);
        assert!(result.interval.iter().all(|x| x.is_finite()));
    }
}
