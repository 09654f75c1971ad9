//! The `/results` report: counters from the store, joined with the configured
//! experiments, the statistics of [`crate::stats`] and the verdicts of
//! [`crate::analysis`].

use crate::analysis::{self, Assessment, FixedHorizon, Test, Verdict};
use crate::experiment::{Analysis, Experiment, Status};
use crate::stats::{self, Arm, SrmCheck};
use serde::Serialize;
use std::collections::HashMap;

/// What a report needs besides the counters.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// `notify.min_sample_per_variant`: participants each arm needs before a verdict.
    pub min_sample: u64,
    /// Unix seconds of each experiment's first participant, by name (looked up
    /// for fixed-mode experiments, whose dashboard estimates the time left).
    pub started_at: HashMap<String, i64>,
    /// Now, in unix seconds.
    pub now: i64,
}

/// Every experiment's results.
#[derive(Debug, Serialize)]
pub struct Report {
    /// When the report was made, unix seconds (the dashboard's clock for
    /// participants per hour).
    pub generated_at: i64,
    /// One entry per experiment, in configuration order.
    pub experiments: Vec<ExperimentReport>,
}

/// One experiment.
#[derive(Debug, Serialize)]
pub struct ExperimentReport {
    /// Its name.
    pub name: String,
    /// running, paused or concluded.
    pub status: Status,
    /// The control variant.
    pub control: String,
    /// `sequential` or `fixed`.
    pub analysis: &'static str,
    /// Sequential mode: N*; null in fixed mode.
    pub sequential_tuning: Option<f64>,
    /// Fixed mode: planned participants per arm; null in sequential mode.
    pub sample_size: Option<u64>,
    /// Fixed mode: unix seconds of the first participant; null before anyone
    /// is counted and in sequential mode.
    pub started_at: Option<i64>,
    /// `notify.min_sample_per_variant`: below it in either arm, the
    /// dashboard says "waiting" instead of drawing an interval that early
    /// counts make absurdly wide.
    pub min_sample_per_variant: u64,
    /// Sample-ratio-mismatch check of participants against the weights; null
    /// before anyone is counted.
    pub srm: Option<SrmCheck>,
    /// One entry per goal.
    pub goals: Vec<GoalReport>,
}

/// One goal of an experiment.
#[derive(Debug, Serialize)]
pub struct GoalReport {
    /// The goal.
    pub goal: String,
    /// One entry per variant, the control first as configured.
    pub variants: Vec<VariantReport>,
}

/// One variant on one goal; comparison fields are null on the control.
#[derive(Debug, Serialize)]
pub struct VariantReport {
    /// Variant name.
    pub name: String,
    /// The experiment's analysis, `sequential` or `fixed` (on every variant).
    pub analysis: &'static str,
    /// Units enrolled.
    pub participants: u64,
    /// Units that converted (once each).
    pub conversions: u64,
    /// Every conversion click, repeats included (shown, never used for the rate).
    pub total_conversions: u64,
    /// Page views.
    pub views: u64,
    /// Units with at least one view.
    pub unique_views: u64,
    /// conversions / participants; null without participants.
    pub rate: Option<f64>,
    /// 95% Wilson interval, low end.
    pub ci_low: Option<f64>,
    /// 95% Wilson interval, high end.
    pub ci_high: Option<f64>,
    /// rate − control rate.
    pub lift_abs: Option<f64>,
    /// (rate − control rate) / control rate.
    pub lift_rel: Option<f64>,
    /// The p-value the verdict uses, of the absolute difference: always-valid
    /// (sequential) or Yates / Fisher (fixed).
    pub p_value: Option<f64>,
    /// Holm-adjusted `p_value` across this goal's comparisons.
    pub p_value_holm: Option<f64>,
    /// `sequential`, `chi2_yates` or `fisher_exact`.
    pub test: Option<Test>,
    /// 95% interval of `lift_abs`: the confidence sequence (sequential) or
    /// the t interval (fixed); null when undefined.
    pub lift_abs_ci: Option<[f64; 2]>,
    /// 95% interval of `lift_rel` (delta method), likewise.
    pub lift_rel_ci: Option<[f64; 2]>,
    /// The classic fixed-horizon p-value, whatever the analysis.
    pub fixed_horizon: Option<FixedHorizon>,
    /// `better`, `worse`, `inconclusive` or `waiting`.
    pub verdict: Option<Verdict>,
    /// Fixed mode: the smaller arm's participants over `sample_size`, at most 1.
    pub progress: Option<f64>,
    /// P(rate > control rate) under Beta(1,1) priors.
    pub chance_to_beat_control: Option<f64>,
}

/// Counter lookup keyed (experiment, variant, metric, goal).
struct Counts(HashMap<(String, String, String, String), u64>);

impl Counts {
    fn get(&self, experiment: &str, variant: &str, metric: &str, goal: &str) -> u64 {
        let key = (
            experiment.into(),
            variant.into(),
            metric.into(),
            goal.into(),
        );
        self.0.get(&key).copied().unwrap_or(0)
    }
}

/// One count the report is built from: of `metric` (`participants`,
/// `views`, `unique_views`, `conversions`, `total_conversions`) of a variant,
/// on a goal for conversion metrics (else empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    /// Experiment name.
    pub experiment: String,
    /// Variant name.
    pub variant: String,
    /// What is counted.
    pub metric: String,
    /// The goal of a conversion metric, else empty.
    pub goal: String,
    /// How many.
    pub value: u64,
}

/// Builds the report for `experiments` from their counts.
pub fn build<'a>(
    experiments: impl Iterator<Item = &'a Experiment>,
    counts: impl IntoIterator<Item = Count>,
    context: &Context,
) -> Report {
    let counts = Counts(
        counts
            .into_iter()
            .map(|c| ((c.experiment, c.variant, c.metric, c.goal), c.value))
            .collect(),
    );
    Report {
        generated_at: context.now,
        experiments: experiments
            .map(|e| experiment_report(e, &counts, context))
            .collect(),
    }
}

fn experiment_report(
    experiment: &Experiment,
    counts: &Counts,
    context: &Context,
) -> ExperimentReport {
    let name = experiment.name.as_str();
    let participants: Vec<u64> = experiment
        .variants
        .iter()
        .map(|v| counts.get(name, v.name.as_str(), "participants", ""))
        .collect();
    let goals = experiment
        .goals
        .iter()
        .map(|goal| {
            goal_report(
                experiment,
                goal.as_str(),
                &participants,
                counts,
                context.min_sample,
            )
        })
        .collect();
    let (sequential_tuning, sample_size) = match experiment.analysis {
        Analysis::Sequential { tuning } => (Some(tuning), None),
        Analysis::Fixed { sample_size } => (None, Some(sample_size)),
    };
    ExperimentReport {
        name: name.to_owned(),
        status: experiment.status,
        control: experiment.control().name.to_string(),
        analysis: experiment.analysis.name(),
        sequential_tuning,
        sample_size,
        started_at: sample_size.and(context.started_at.get(name).copied()),
        min_sample_per_variant: context.min_sample,
        srm: stats::srm(&participants, &experiment.shares()),
        goals,
    }
}

fn goal_report(
    experiment: &Experiment,
    goal: &str,
    participants: &[u64],
    counts: &Counts,
    min_sample: u64,
) -> GoalReport {
    let name = experiment.name.as_str();
    let arm = |i: usize| Arm {
        participants: participants[i],
        conversions: counts.get(
            name,
            experiment.variants[i].name.as_str(),
            "conversions",
            goal,
        ),
    };
    let control = arm(experiment.control);
    let treatments: Vec<usize> = (0..experiment.variants.len())
        .filter(|&i| i != experiment.control)
        .collect();
    let arms: Vec<Arm> = treatments.iter().map(|&i| arm(i)).collect();
    let mut assessments = treatments
        .iter()
        .copied()
        .zip(analysis::assess(
            experiment.analysis,
            min_sample,
            control,
            &arms,
        ))
        .collect::<HashMap<usize, Assessment>>();
    let variants = experiment
        .variants
        .iter()
        .enumerate()
        .map(|(i, variant)| {
            let v = variant.name.as_str();
            let this = arm(i);
            let interval = stats::wilson_interval(this.conversions, this.participants, 0.95);
            let comparison = (i != experiment.control).then(|| stats::compare(control, this));
            let assessment = assessments.remove(&i);
            VariantReport {
                name: v.to_owned(),
                analysis: experiment.analysis.name(),
                participants: this.participants,
                conversions: this.conversions,
                total_conversions: counts.get(name, v, "total_conversions", goal),
                views: counts.get(name, v, "views", ""),
                unique_views: counts.get(name, v, "unique_views", ""),
                rate: this.rate(),
                ci_low: interval.map(|(low, _)| low),
                ci_high: interval.map(|(_, high)| high),
                lift_abs: comparison.and_then(|c| c.lift_abs),
                lift_rel: comparison.and_then(|c| c.lift_rel),
                p_value: assessment.and_then(|a| a.p_value),
                p_value_holm: assessment.and_then(|a| a.p_value_holm),
                test: assessment.and_then(|a| a.test),
                lift_abs_ci: assessment.and_then(|a| a.lift_abs_ci),
                lift_rel_ci: assessment.and_then(|a| a.lift_rel_ci),
                fixed_horizon: assessment.and_then(|a| a.fixed_horizon),
                verdict: assessment.map(|a| a.verdict),
                progress: assessment.and_then(|a| a.progress),
                chance_to_beat_control: comparison.and_then(|c| c.chance_to_beat_control),
            }
        })
        .collect();
    GoalReport {
        goal: goal.to_owned(),
        variants,
    }
}
