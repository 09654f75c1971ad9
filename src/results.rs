//! The `/results` report: counters from the store, joined with the configured
//! experiments and the statistics of [`crate::stats`].

use crate::experiment::{Experiment, Status};
use crate::stats::{self, Arm, SrmCheck, TestUsed};
use crate::store::Counter;
use serde::Serialize;
use std::collections::HashMap;

/// Every experiment's results.
#[derive(Debug, Serialize)]
pub struct Report {
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
    /// Two-sided p-value against the control.
    pub p_value: Option<f64>,
    /// Holm-adjusted p-value across this goal's comparisons.
    pub p_value_holm: Option<f64>,
    /// `chi2_yates` or `fisher_exact`.
    pub test: Option<TestUsed>,
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

/// Builds the report for `experiments` from the store's counters.
pub fn build<'a>(
    experiments: impl Iterator<Item = &'a Experiment>,
    counters: Vec<Counter>,
) -> Report {
    let counts = Counts(
        counters
            .into_iter()
            .map(|c| {
                (
                    (c.experiment, c.variant, c.metric, c.goal),
                    c.value.max(0) as u64,
                )
            })
            .collect(),
    );
    Report {
        experiments: experiments.map(|e| experiment_report(e, &counts)).collect(),
    }
}

fn experiment_report(experiment: &Experiment, counts: &Counts) -> ExperimentReport {
    let name = experiment.name.as_str();
    let participants: Vec<u64> = experiment
        .variants
        .iter()
        .map(|v| counts.get(name, v.name.as_str(), "participants", ""))
        .collect();
    let goals = experiment
        .goals
        .iter()
        .map(|goal| goal_report(experiment, goal.as_str(), &participants, counts))
        .collect();
    ExperimentReport {
        name: name.to_owned(),
        status: experiment.status,
        control: experiment.control().name.to_string(),
        srm: stats::srm(&participants, &experiment.shares()),
        goals,
    }
}

fn goal_report(
    experiment: &Experiment,
    goal: &str,
    participants: &[u64],
    counts: &Counts,
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
    let mut variants: Vec<VariantReport> = experiment
        .variants
        .iter()
        .enumerate()
        .map(|(i, variant)| {
            let v = variant.name.as_str();
            let this = arm(i);
            let interval = stats::wilson_interval(this.conversions, this.participants, 0.95);
            let comparison = (i != experiment.control).then(|| stats::compare(control, this));
            VariantReport {
                name: v.to_owned(),
                participants: this.participants,
                conversions: this.conversions,
                total_conversions: counts.get(name, v, "total_conversions", goal),
                views: counts.get(name, v, "views", ""),
                unique_views: counts.get(name, v, "unique_views", ""),
                rate: (this.participants > 0)
                    .then(|| this.conversions as f64 / this.participants as f64),
                ci_low: interval.map(|(low, _)| low),
                ci_high: interval.map(|(_, high)| high),
                lift_abs: comparison.and_then(|c| c.lift_abs),
                lift_rel: comparison.and_then(|c| c.lift_rel),
                p_value: comparison.and_then(|c| c.p_value),
                p_value_holm: None,
                test: comparison.and_then(|c| c.test),
                chance_to_beat_control: comparison.and_then(|c| c.chance_to_beat_control),
            }
        })
        .collect();
    // Holm over the comparisons that have a p-value, written back in place.
    let indexed: Vec<(usize, f64)> = variants
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.p_value.map(|p| (i, p)))
        .collect();
    let adjusted = stats::holm(&indexed.iter().map(|(_, p)| *p).collect::<Vec<_>>());
    for ((i, _), p) in indexed.into_iter().zip(adjusted) {
        variants[i].p_value_holm = Some(p);
    }
    GoalReport {
        goal: goal.to_owned(),
        variants,
    }
}
