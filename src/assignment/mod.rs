//! Deciding which variant a unit sees.

pub mod hashing;

use crate::experiment::{AssignmentMethod, Experiment};
use rand::Rng;

/// The outcome of an assignment decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Enrolled in the variant at this index, and counted.
    Enrolled(usize),
    /// Outside the experiment's traffic: sees the control, is not counted.
    NotEnrolled,
}

/// Decides for `unit_id` (the user id or the visitor id). Random experiments
/// draw afresh: the caller keeps the result in the session.
pub fn decide(experiment: &Experiment, unit_id: &str) -> Decision {
    match experiment.assignment {
        AssignmentMethod::Hash => {
            let bucket = hashing::bucket(&experiment.seed, unit_id);
            let ranges = hashing::bucket_ranges(&experiment.shares(), experiment.traffic);
            hashing::choose(bucket, &ranges).map_or(Decision::NotEnrolled, Decision::Enrolled)
        }
        AssignmentMethod::Random => {
            let mut rng = rand::rng();
            if experiment.traffic < 1.0 && !rng.random_bool(experiment.traffic) {
                return Decision::NotEnrolled;
            }
            Decision::Enrolled(weighted_pick(&experiment.shares(), rng.random::<f64>()))
        }
    }
}

/// The index whose cumulative share first exceeds `draw` (in `[0, 1)`).
/// Zero-weight variants are never picked.
fn weighted_pick(shares: &[f64], draw: f64) -> usize {
    let mut cumulative = 0.0;
    let mut last_positive = 0;
    for (index, share) in shares.iter().enumerate() {
        if *share <= 0.0 {
            continue;
        }
        last_positive = index;
        cumulative += share;
        if draw < cumulative {
            return index;
        }
    }
    // Rounding can leave the cumulative sum a hair under 1.
    last_positive
}

#[cfg(test)]
mod tests {
    use super::weighted_pick;

    #[test]
    fn weighted_pick_follows_cumulative_shares_and_skips_zero_weights() {
        let shares = [0.9, 0.0, 0.1];
        assert_eq!(weighted_pick(&shares, 0.0), 0);
        assert_eq!(weighted_pick(&shares, 0.899), 0);
        assert_eq!(weighted_pick(&shares, 0.9), 2);
        assert_eq!(weighted_pick(&shares, 0.999_999_999_999), 2);
    }
}
