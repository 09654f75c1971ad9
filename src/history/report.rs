//! The answer of `GET /results/history`: per point and variant the
//! cumulative counts, the rate, and against the control the absolute lift
//! and its 95% interval under the experiment's analysis — the very
//! functions `/results` uses ([`stats::lift_abs`], [`analysis::assess`]).

use crate::analysis;
use crate::experiment::Experiment;
use crate::names::Goal;
use crate::stats::{self, Arm};
use crate::store::HistoryPoint;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One experiment's results over time, on one goal.
#[derive(Debug, Serialize)]
pub struct History {
    /// The experiment.
    pub experiment: String,
    /// The goal the conversions are counted on.
    pub goal: String,
    /// Oldest first.
    pub points: Vec<Point>,
}

/// The results as they were at one time.
#[derive(Debug, Serialize)]
pub struct Point {
    /// RFC 3339, UTC.
    pub at: String,
    /// One entry per configured variant, in configuration order.
    pub variants: Vec<VariantPoint>,
}

/// One variant at one point; the lift fields are null on the control.
#[derive(Debug, Serialize)]
pub struct VariantPoint {
    /// Variant name.
    pub name: String,
    /// Participants so far.
    pub participants: u64,
    /// Unique conversions on the goal so far.
    pub conversions: u64,
    /// conversions / participants; null without participants (as in `/results`).
    pub rate: Option<f64>,
    /// rate − control rate; null on the control or when either has no participants.
    pub lift_abs: Option<f64>,
    /// 95% interval of `lift_abs` under the experiment's analysis: the
    /// confidence sequence (sequential) or the Welch t interval (fixed);
    /// null when undefined.
    pub lift_abs_ci: Option<[f64; 2]>,
}

/// Builds the history of `experiment` on `goal` from the store's `points`.
/// Variants are the configured ones: a variant with no counts at a point
/// has zeros there. `min_sample` is `/results`' (it does not move intervals).
pub fn build(
    experiment: &Experiment,
    goal: &Goal,
    points: &[HistoryPoint],
    min_sample: u64,
) -> History {
    History {
        experiment: experiment.name.to_string(),
        goal: goal.to_string(),
        points: points
            .iter()
            .filter_map(|p| point(experiment, goal.as_str(), p, min_sample))
            .collect(),
    }
}

fn point(
    experiment: &Experiment,
    goal: &str,
    point: &HistoryPoint,
    min_sample: u64,
) -> Option<Point> {
    // Every recorded time is a real clock's, well inside RFC 3339's years;
    // one that is not cannot be written in the answer's format.
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(point.at_millis) * 1_000_000)
        .ok()?
        .format(&Rfc3339)
        .ok()?;
    let arms: Vec<Arm> = experiment
        .variants
        .iter()
        .map(|v| arm(point, v.name.as_str(), goal))
        .collect();
    let control = arms[experiment.control];
    let treatments: Vec<usize> = (0..arms.len())
        .filter(|&i| i != experiment.control)
        .collect();
    let treatment_arms: Vec<Arm> = treatments.iter().map(|&i| arms[i]).collect();
    let mut intervals = vec![None; arms.len()];
    for (&i, assessment) in treatments.iter().zip(analysis::assess(
        experiment.analysis,
        min_sample,
        control,
        &treatment_arms,
    )) {
        intervals[i] = assessment.lift_abs_ci;
    }
    let variants = experiment
        .variants
        .iter()
        .zip(arms)
        .zip(intervals)
        .enumerate()
        .map(|(i, ((variant, this), lift_abs_ci))| {
            let is_control = i == experiment.control;
            VariantPoint {
                name: variant.name.to_string(),
                participants: this.participants,
                conversions: this.conversions,
                rate: this.rate(),
                lift_abs: (!is_control)
                    .then(|| stats::lift_abs(control, this))
                    .flatten(),
                lift_abs_ci,
            }
        })
        .collect();
    Some(Point { at, variants })
}

/// The variant's participants (its goal-less row) and conversions on `goal`.
fn arm(point: &HistoryPoint, variant: &str, goal: &str) -> Arm {
    let count = |g: &str| {
        point
            .counts
            .iter()
            .find(|c| c.variant == variant && c.goal == g)
    };
    let participants = count("")
        .or_else(|| count(goal))
        .map_or(0, |c| c.participants.max(0) as u64);
    let conversions = count(goal).map_or(0, |c| c.conversions.max(0) as u64);
    Arm::new(participants, conversions)
}
