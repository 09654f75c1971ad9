//! Simulated experiments read by [`assess`], the decision code `/results`
//! and the notifications use: how often a verdict is a false alarm (A/A) or
//! finds a real lift (power) when someone looks after every batch of
//! participants. `examples/aa_simulation.rs` prints these for BENCHMARKS.md.

use super::{Verdict, assess};
use crate::experiment::Analysis;
use crate::stats::Arm;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// One kind of simulated experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scenario {
    /// True conversion rate of the control.
    pub control_rate: f64,
    /// True conversion rate of the treatment (equal to the control's for A/A).
    pub treatment_rate: f64,
    /// Participants per arm at the end of each experiment.
    pub per_arm: u64,
    /// A look after every this many new participants per arm.
    pub look_every: u64,
    /// Minimum participants per arm before any verdict (notify.min_sample_per_variant).
    pub min_sample: u64,
    /// How many experiments to simulate.
    pub experiments: usize,
    /// Seed of the random traffic; the same seed gives the same traffic.
    pub seed: u64,
}

/// Shares of the simulated experiments with a significant verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Significant at any look: what a team watching the verdict acts on.
    pub any_look: f64,
    /// Significant at the last look only.
    pub at_the_end: f64,
}

/// Runs `scenario` with the verdict of `analysis` read at every look.
///
/// With `Analysis::Fixed` the plan is taken to be `per_arm` whatever its
/// `sample_size`: `any_look` reads the fixed-horizon verdict at every look as
/// if the plan were already reached, which is how the old watcher peeked, and
/// `at_the_end` is the verdict read once, at the plan.
pub fn run(scenario: &Scenario, analysis: Analysis) -> Rates {
    let looked_at = match analysis {
        Analysis::Sequential { .. } => analysis,
        Analysis::Fixed { .. } => Analysis::Fixed {
            sample_size: scenario.look_every,
        },
    };
    let mut rng = StdRng::seed_from_u64(scenario.seed);
    let (mut any_look, mut at_the_end) = (0usize, 0usize);
    for _ in 0..scenario.experiments {
        let (mut control, mut treatment) = (Arm::new(0, 0), Arm::new(0, 0));
        let mut seen = false;
        let mut last = Verdict::Waiting;
        while control.participants < scenario.per_arm {
            let batch = scenario
                .look_every
                .min(scenario.per_arm - control.participants);
            control = grow(&mut rng, control, batch, scenario.control_rate);
            treatment = grow(&mut rng, treatment, batch, scenario.treatment_rate);
            last = assess(looked_at, scenario.min_sample, control, &[treatment])[0].verdict;
            seen |= last.is_significant();
        }
        any_look += usize::from(seen);
        at_the_end += usize::from(last.is_significant());
    }
    let share = |count: usize| count as f64 / scenario.experiments.max(1) as f64;
    Rates {
        any_look: share(any_look),
        at_the_end: share(at_the_end),
    }
}

/// `arm` after `batch` more participants, each converting with probability `rate`.
fn grow(rng: &mut StdRng, arm: Arm, batch: u64, rate: f64) -> Arm {
    Arm::new(
        arm.participants + batch,
        arm.conversions + binomial(rng, batch, rate),
    )
}

/// An exact Binomial(n, p) draw by inverting its CDF: one random number per
/// batch instead of one per participant, which keeps the debug-build test fast.
fn binomial(rng: &mut StdRng, n: u64, p: f64) -> u64 {
    if p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    let q = 1.0 - p;
    let mut pmf = q.powf(n as f64);
    if pmf == 0.0 {
        // P(0) underflows only for batches far larger than a look; draw each.
        return (0..n).filter(|_| rng.random_bool(p)).count() as u64;
    }
    let u: f64 = rng.random();
    let (mut k, mut cdf) = (0, pmf);
    while u > cdf && k < n {
        pmf *= (n - k) as f64 / (k + 1) as f64 * p / q;
        k += 1;
        cdf += pmf;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a_a(experiments: usize) -> Scenario {
        Scenario {
            control_rate: 0.1,
            treatment_rate: 0.1,
            per_arm: 20_000,
            look_every: 100,
            min_sample: 100,
            experiments,
            seed: 8,
        }
    }

    #[test]
    fn binomial_draws_have_the_right_mean_and_spread() {
        let mut rng = StdRng::seed_from_u64(1);
        let draws: Vec<f64> = (0..20_000)
            .map(|_| binomial(&mut rng, 100, 0.1) as f64)
            .collect();
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        let variance = draws.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / draws.len() as f64;
        // Binomial(100, 0.1): mean 10, variance 9; 20,000 draws pin both well.
        assert!((mean - 10.0).abs() < 0.1, "{mean}");
        assert!((variance - 9.0).abs() < 0.4, "{variance}");
        assert_eq!(binomial(&mut rng, 50, 0.0), 0);
        assert_eq!(binomial(&mut rng, 50, 1.0), 50);
    }

    #[test]
    fn the_sequential_verdict_keeps_false_alarms_under_five_percent_at_every_look() {
        let rates = run(&a_a(300), Analysis::default());
        assert!(rates.any_look < 0.05, "{rates:?}");
    }

    #[test]
    fn peeking_at_the_fixed_horizon_verdict_raises_many_false_alarms() {
        // The problem the sequential analysis solves, shown on few experiments.
        let rates = run(
            &a_a(100),
            Analysis::Fixed {
                sample_size: 20_000,
            },
        );
        assert!(rates.any_look > 0.15, "{rates:?}");
        assert!(rates.at_the_end < 0.15, "{rates:?}");
    }
}
