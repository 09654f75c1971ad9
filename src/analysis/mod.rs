//! The decision behind every verdict: each treatment of a goal against its
//! control under the experiment's [`Analysis`]. `/results`, the significance
//! notifications and the A/A simulation (`examples/aa_simulation.rs`) all
//! decide through [`assess`], so what the simulation measures is what users
//! get.

pub mod simulation;

use crate::experiment::Analysis;
use crate::stats::{self, Arm, Difference, TestUsed};
use serde::Serialize;

/// The significance level of every verdict.
pub const ALPHA: f64 = 0.05;

/// The test behind a comparison's `p_value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// The always-valid p-value of the sequential analysis.
    Sequential,
    /// Chi-square with Yates' correction (fixed horizon).
    Chi2Yates,
    /// Fisher's exact test (fixed horizon).
    FisherExact,
}

impl From<TestUsed> for Test {
    fn from(test: TestUsed) -> Self {
        match test {
            TestUsed::Chi2Yates => Test::Chi2Yates,
            TestUsed::FisherExact => Test::FisherExact,
        }
    }
}

/// The classic fixed-horizon p-value, kept for reference whatever the analysis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FixedHorizon {
    /// Two-sided p-value of [`stats::two_by_two`].
    pub p_value: f64,
    /// Which test gave it.
    pub test: TestUsed,
}

/// What a comparison lets the team conclude.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The treatment converts better than the control (Holm p < 0.05).
    Better,
    /// The treatment converts worse than the control (Holm p < 0.05).
    Worse,
    /// No significant difference (yet, in sequential mode).
    Inconclusive,
    /// Too few participants to judge: under the minimum sample in either
    /// arm or, in fixed mode, before the planned sample in both.
    Waiting,
}

impl Verdict {
    /// Whether the verdict declares a difference.
    pub fn is_significant(self) -> bool {
        matches!(self, Verdict::Better | Verdict::Worse)
    }
}

/// One treatment against the control under the experiment's analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assessment {
    /// The p-value the verdict uses: always-valid (sequential) or Yates /
    /// Fisher (fixed), of the absolute difference. `None` when either arm has
    /// no participants.
    pub p_value: Option<f64>,
    /// The test behind `p_value`.
    pub test: Option<Test>,
    /// Holm-adjusted `p_value` across the goal's comparisons.
    pub p_value_holm: Option<f64>,
    /// 95% interval of the absolute difference: the confidence sequence
    /// (sequential) or the Welch t interval (fixed); `None` when undefined.
    pub lift_abs_ci: Option<[f64; 2]>,
    /// The same for the relative difference (delta method).
    pub lift_rel_ci: Option<[f64; 2]>,
    /// Yates / Fisher, whatever the analysis.
    pub fixed_horizon: Option<FixedHorizon>,
    /// The verdict.
    pub verdict: Verdict,
    /// Fixed mode: the smaller arm's participants over the plan, at most 1.
    pub progress: Option<f64>,
}

/// Assesses each of `treatments` against `control` under `analysis`, Holm
/// over all of them, in order. A verdict needs `min_sample` participants in
/// both arms (and, in fixed mode, the planned sample).
pub fn assess(
    analysis: Analysis,
    min_sample: u64,
    control: Arm,
    treatments: &[Arm],
) -> Vec<Assessment> {
    let mut assessments: Vec<Assessment> = treatments
        .iter()
        .map(|&treatment| unadjusted(analysis, control, treatment))
        .collect();
    let present: Vec<usize> = (0..assessments.len())
        .filter(|&i| assessments[i].p_value.is_some())
        .collect();
    let raw: Vec<f64> = present
        .iter()
        .filter_map(|&i| assessments[i].p_value)
        .collect();
    for (&i, adjusted) in present.iter().zip(stats::holm(&raw)) {
        assessments[i].p_value_holm = Some(adjusted);
    }
    for (assessment, &treatment) in assessments.iter_mut().zip(treatments) {
        assessment.verdict = verdict(analysis, min_sample, control, treatment, assessment);
    }
    assessments
}

/// Everything but Holm and the verdict.
fn unadjusted(analysis: Analysis, control: Arm, treatment: Arm) -> Assessment {
    let mut assessment = Assessment {
        p_value: None,
        test: None,
        p_value_holm: None,
        lift_abs_ci: None,
        lift_rel_ci: None,
        fixed_horizon: None,
        verdict: Verdict::Waiting,
        progress: None,
    };
    if let Analysis::Fixed { sample_size } = analysis {
        let smaller = control.participants.min(treatment.participants);
        assessment.progress = Some((smaller as f64 / sample_size as f64).min(1.0));
    }
    if control.participants == 0 || treatment.participants == 0 {
        return assessment;
    }
    let (p, test) = stats::two_by_two([control.row(), treatment.row()]);
    assessment.fixed_horizon = Some(FixedHorizon { p_value: p, test });
    match analysis {
        Analysis::Sequential { tuning } => {
            let absolute = stats::sequential(control, treatment, Difference::Absolute, tuning);
            let relative = stats::sequential(control, treatment, Difference::Relative, tuning);
            // Without any variance there is no evidence either way: p = 1, as
            // gbstats answers for zero variance (README, degenerate cases).
            assessment.p_value = Some(absolute.map_or(1.0, |s| s.p_value));
            assessment.test = Some(Test::Sequential);
            assessment.lift_abs_ci = absolute.map(|s| s.interval);
            assessment.lift_rel_ci = relative.map(|s| s.interval);
        }
        Analysis::Fixed { .. } => {
            assessment.p_value = Some(p);
            assessment.test = Some(test.into());
            assessment.lift_abs_ci =
                stats::fixed_interval(control, treatment, Difference::Absolute);
            assessment.lift_rel_ci =
                stats::fixed_interval(control, treatment, Difference::Relative);
        }
    }
    assessment
}

fn verdict(
    analysis: Analysis,
    min_sample: u64,
    control: Arm,
    treatment: Arm,
    assessment: &Assessment,
) -> Verdict {
    let smaller = control.participants.min(treatment.participants);
    let planned = match analysis {
        Analysis::Sequential { .. } => 0,
        Analysis::Fixed { sample_size } => sample_size,
    };
    if smaller == 0 || smaller < min_sample || smaller < planned {
        return Verdict::Waiting;
    }
    let difference = treatment.rate().unwrap_or(0.0) - control.rate().unwrap_or(0.0);
    match assessment.p_value_holm {
        Some(p) if p < ALPHA && difference > 0.0 => Verdict::Better,
        Some(p) if p < ALPHA && difference < 0.0 => Verdict::Worse,
        _ => Verdict::Inconclusive,
    }
}

#[cfg(test)]
mod tests;
