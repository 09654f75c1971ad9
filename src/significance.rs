//! Decision notifications, one per comparison and never taken back. In
//! sequential mode one `significance` notification goes out when a
//! comparison's verdict first becomes better or worse (always valid, so it
//! needs no "crossed back"); in fixed mode exactly one when both arms reach
//! the planned sample, whatever the verdict. Sent through the outbox, once
//! cluster-wide.

use crate::analysis::Verdict;
use crate::configuration::NotifierEvent;
use crate::experiment::{Analysis, Experiment, Status};
use crate::live::Live;
use crate::notify::Notification;
use crate::notify::routing::outbox_row;
use crate::results::{Context, GoalReport, VariantReport, build};
use crate::store::{Comparison, SqlStore, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// Watches the results for verdicts to announce.
pub struct SignificanceWatcher {
    store: Arc<SqlStore>,
    live: Arc<Live>,
}

impl SignificanceWatcher {
    /// A watcher of the experiments in force in `live`, queuing for the
    /// notifiers that want significance once both arms have
    /// `notify.min_sample_per_variant` participants.
    pub fn new(store: Arc<SqlStore>, live: Arc<Live>) -> Self {
        Self { store, live }
    }

    /// Checks every running comparison once; returns the notifications queued.
    pub async fn tick(&self) -> Result<Vec<Notification>, StoreError> {
        let current = self.live.current();
        let notifiers: Vec<String> = current
            .settings
            .notifiers
            .iter()
            .filter(|n| n.wants(NotifierEvent::Significance))
            .map(|n| n.name.clone())
            .collect();
        if notifiers.is_empty() {
            return Ok(Vec::new());
        }
        let running: Vec<&Experiment> = current
            .experiments
            .iter()
            .filter(|e| e.status == Status::Running)
            .collect();
        let context = Context {
            min_sample: current.settings.notify.min_sample_per_variant,
            ..Context::default()
        };
        let report = build(
            running.iter().copied(),
            crate::report_counts::read(self.store.as_ref()).await?,
            &context,
        );
        let mut queued = Vec::new();
        for (experiment, reported) in running.iter().zip(&report.experiments) {
            for goal in &reported.goals {
                let Some(control) = goal.variants.iter().find(|v| v.name == reported.control)
                else {
                    continue;
                };
                for variant in goal.variants.iter().filter(|v| v.name != reported.control) {
                    let Some(verdict) = variant.verdict else {
                        continue;
                    };
                    let due = match experiment.analysis {
                        Analysis::Sequential { .. } => verdict.is_significant(),
                        Analysis::Fixed { .. } => verdict != Verdict::Waiting,
                    };
                    if !due {
                        continue;
                    }
                    let comparison = Comparison {
                        experiment: &reported.name,
                        goal: &goal.goal,
                        variant: &variant.name,
                        analysis: match experiment.analysis {
                            Analysis::Sequential { .. } => "sequential",
                            Analysis::Fixed { .. } => "fixed",
                        },
                    };
                    let notification = message(experiment, goal, control, variant, verdict);
                    if self
                        .store
                        .record_verdict(&comparison, &rows(&notifiers, &notification))
                        .await?
                    {
                        queued.push(notification);
                    }
                }
            }
        }
        Ok(queued)
    }

    /// Checks every `notify.significance_check_secs` of the configuration
    /// in force (a reload changes it), forever.
    pub async fn run(self) {
        loop {
            let period = self.live.current().settings.notify.significance_check_secs;
            tokio::time::sleep(Duration::from_secs(period)).await;
            if let Err(error) = self.tick().await {
                tracing::error!(error = ?error, "could not check significance");
            }
        }
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(rate: Option<f64>) -> String {
    format!("{:.1}%", rate.unwrap_or(0.0) * 100.0)
}

fn message(
    experiment: &Experiment,
    goal: &GoalReport,
    control: &VariantReport,
    variant: &VariantReport,
    verdict: Verdict,
) -> Notification {
    let p = variant.p_value_holm.unwrap_or(1.0);
    let (name, goal_name) = (&variant.name, &goal.goal);
    let head = match verdict {
        Verdict::Better => format!("{name} beats {} on {goal_name}", control.name),
        Verdict::Worse => format!("{name} is worse than {} on {goal_name}", control.name),
        Verdict::Inconclusive | Verdict::Waiting => format!(
            "no significant difference between {name} and {} on {goal_name}",
            control.name
        ),
    };
    let (head, how) = match experiment.analysis {
        Analysis::Sequential { .. } => (
            head,
            "sequential analysis: always-valid p, safe to act on however often you look",
        ),
        Analysis::Fixed { sample_size } => (
            format!(
                "{} reached its planned {} per arm: {head}",
                experiment.name,
                thousands(sample_size)
            ),
            match variant.test {
                Some(crate::analysis::Test::FisherExact) => {
                    "fixed-horizon analysis, Fisher's exact test"
                }
                _ => "fixed-horizon analysis, chi-square with Yates' correction",
            },
        ),
    };
    let n = thousands(control.participants + variant.participants);
    let text = format!(
        "{head}: {} vs {}, p = {p:.3}, n = {n} ({how})",
        percent(variant.rate),
        percent(control.rate)
    );
    Notification::Significance {
        id: uuid::Uuid::new_v4().to_string(),
        experiment: experiment.name.to_string(),
        goal: goal.goal.clone(),
        variant: variant.name.clone(),
        control: control.name.clone(),
        text,
        p_value: p,
        significant: verdict.is_significant(),
    }
}

/// The announcement's outbox row for each notifier.
fn rows(notifiers: &[String], notification: &Notification) -> Vec<crate::store::OutboxRow> {
    notifiers
        .iter()
        .map(|n| outbox_row(n, notification))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn sample_sizes_are_written_with_thousands_separators() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(2000), "2,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
