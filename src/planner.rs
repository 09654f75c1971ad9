//! `splitcast sample-size`: how many participants per arm a fixed-horizon
//! experiment needs, from the baseline rate and the smallest lift worth
//! detecting.

use crate::stats::sample_size_per_arm;

/// A planning question, as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Question {
    /// Conversion rate of the control, a fraction in (0, 1).
    pub baseline: f64,
    /// The change to detect: absolute (0.03 = three points) or, with
    /// `relative`, a fraction of the baseline (0.1 = +10%).
    pub lift: f64,
    /// Whether `lift` is relative.
    pub relative: bool,
    /// Chance of detecting the lift if it is real, in (alpha, 1).
    pub power: f64,
    /// Two-sided significance level, in (0, 1).
    pub alpha: f64,
}

/// Why a question has no answer; each message is one line naming the option.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PlanError {
    /// `--baseline` out of range.
    #[error("--baseline must be a rate strictly between 0 and 1 (0.12 = 12%), not {0}")]
    Baseline(f64),
    /// `--alpha` out of range.
    #[error("--alpha must be strictly between 0 and 1, not {0}")]
    Alpha(f64),
    /// `--power` out of range.
    #[error("--power must be above --alpha and below 1, not {0}")]
    Power(f64),
    /// `--lift` zero or leading outside (0, 1).
    #[error(
        "--lift {0} must be non-zero and give a target rate strictly between 0 and 1 (got {1})"
    )]
    Lift(f64, f64),
}

/// The answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// The rate to detect.
    pub target: f64,
    /// Participants needed in each arm.
    pub per_arm: u64,
}

/// Answers `question` (statsmodels' `NormalIndPower`, rounded up).
pub fn plan(question: Question) -> Result<Plan, PlanError> {
    let open_unit = |x: f64| x > 0.0 && x < 1.0;
    let Question {
        baseline,
        lift,
        relative,
        power,
        alpha,
    } = question;
    if !open_unit(baseline) {
        return Err(PlanError::Baseline(baseline));
    }
    if !open_unit(alpha) {
        return Err(PlanError::Alpha(alpha));
    }
    if !(open_unit(power) && power > alpha) {
        return Err(PlanError::Power(power));
    }
    let target = if relative {
        baseline * (1.0 + lift)
    } else {
        baseline + lift
    };
    let per_arm = sample_size_per_arm(baseline, target, alpha, power)
        .filter(|_| lift != 0.0)
        .ok_or(PlanError::Lift(lift, target))?;
    Ok(Plan { target, per_arm })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn question(baseline: f64, lift: f64, relative: bool) -> Question {
        Question {
            baseline,
            lift,
            relative,
            power: 0.8,
            alpha: 0.05,
        }
    }

    #[test]
    fn a_relative_lift_is_a_fraction_of_the_baseline() {
        let absolute = plan(question(0.1, 0.01, false)).unwrap();
        let relative = plan(question(0.1, 0.1, true)).unwrap();
        assert!((relative.target - 0.11).abs() < 1e-15);
        assert_eq!(absolute.per_arm, relative.per_arm);
    }

    #[test]
    fn each_bad_option_is_named() {
        assert_eq!(
            plan(question(1.2, 0.01, false)),
            Err(PlanError::Baseline(1.2))
        );
        assert!(matches!(
            plan(question(0.5, 0.6, false)),
            Err(PlanError::Lift(..))
        ));
        assert!(matches!(
            plan(question(0.5, 0.0, false)),
            Err(PlanError::Lift(..))
        ));
        let weak = Question {
            power: 0.01,
            ..question(0.1, 0.01, false)
        };
        assert_eq!(plan(weak), Err(PlanError::Power(0.01)));
    }
}
