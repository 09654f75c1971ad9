//! Decision notifications: when a variant's comparison with the control
//! crosses p < 0.05 (or crosses back) with enough participants in both arms,
//! one `significance` notification goes through the outbox — once per
//! verdict change, never per event.

use crate::experiment::{Experiments, Status};
use crate::notify::Notification;
use crate::results::{GoalReport, VariantReport, build};
use crate::store::{Comparison, SqlStore, Store, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// The significance level of the verdicts.
pub const ALPHA: f64 = 0.05;

/// Watches the results for verdict changes.
pub struct SignificanceWatcher {
    store: Arc<SqlStore>,
    experiments: Experiments,
    min_sample: u64,
    notifiers: Vec<String>,
}

impl SignificanceWatcher {
    /// A watcher queuing for `notifiers` once both arms have `min_sample` participants.
    pub fn new(
        store: Arc<SqlStore>,
        experiments: Experiments,
        min_sample: u64,
        notifiers: Vec<String>,
    ) -> Self {
        Self {
            store,
            experiments,
            min_sample,
            notifiers,
        }
    }

    /// Checks every running comparison once; returns the notifications queued.
    pub async fn tick(&self) -> Result<Vec<Notification>, StoreError> {
        if self.notifiers.is_empty() {
            return Ok(Vec::new());
        }
        let running = self
            .experiments
            .iter()
            .filter(|e| e.status == Status::Running);
        let report = build(running, self.store.counters().await?);
        let mut queued = Vec::new();
        for experiment in &report.experiments {
            for goal in &experiment.goals {
                let Some(control) = goal.variants.iter().find(|v| v.name == experiment.control)
                else {
                    continue;
                };
                for variant in goal
                    .variants
                    .iter()
                    .filter(|v| v.name != experiment.control)
                {
                    let comparison = Comparison {
                        experiment: &experiment.name,
                        goal: &goal.goal,
                        variant: &variant.name,
                    };
                    let significant = self.significant(control, variant);
                    let notification =
                        verdict(&experiment.name, goal, control, variant, significant);
                    if self
                        .store
                        .record_verdict(&comparison, significant, &notification, &self.notifiers)
                        .await?
                    {
                        queued.push(notification);
                    }
                }
            }
        }
        Ok(queued)
    }

    fn significant(&self, control: &VariantReport, variant: &VariantReport) -> bool {
        let enough =
            control.participants >= self.min_sample && variant.participants >= self.min_sample;
        enough && variant.p_value_holm.is_some_and(|p| p < ALPHA)
    }

    /// Checks every `period` forever.
    pub async fn run(self, period: Duration) {
        loop {
            tokio::time::sleep(period).await;
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

fn verdict(
    experiment: &str,
    goal: &GoalReport,
    control: &VariantReport,
    variant: &VariantReport,
    significant: bool,
) -> Notification {
    let p = variant.p_value_holm.unwrap_or(1.0);
    let test = variant.test.map_or("no test", |t| match t {
        crate::stats::TestUsed::Chi2Yates => "chi-square with Yates' correction",
        crate::stats::TestUsed::FisherExact => "Fisher's exact test",
    });
    let better = variant.rate.unwrap_or(0.0) > control.rate.unwrap_or(0.0);
    let head = match (significant, better) {
        (true, true) => format!("{} beats {} on {}", variant.name, control.name, goal.goal),
        (true, false) => format!(
            "{} is worse than {} on {}",
            variant.name, control.name, goal.goal
        ),
        (false, _) => format!(
            "{} vs {} on {} is no longer significant",
            variant.name, control.name, goal.goal
        ),
    };
    let n = thousands(control.participants + variant.participants);
    let text = format!(
        "{head}: {} vs {}, p = {p:.3}, n = {n} ({test})",
        percent(variant.rate),
        percent(control.rate)
    );
    Notification::Significance {
        id: uuid::Uuid::new_v4().to_string(),
        experiment: experiment.to_owned(),
        goal: goal.goal.clone(),
        variant: variant.name.clone(),
        control: control.name.clone(),
        text,
        p_value: p,
        significant,
    }
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
