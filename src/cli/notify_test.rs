//! `splitcast notify-test`.

use super::CliError;
use crate::configuration::Settings;
use crate::notify::DeliveryOutcome;
use crate::notify::registry;
use std::fmt;

/// Each enabled notifier and what became of its test message.
#[derive(Debug, Default)]
pub struct NotifyReport(Vec<(String, DeliveryOutcome)>);

impl NotifyReport {
    /// How many notifiers were tried.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no notifier is enabled.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many failed.
    pub fn failures(&self) -> usize {
        self.0.iter().filter(|(_, o)| !o.is_delivered()).count()
    }
}

/// `NAME: delivered` or `NAME: FAILED (label) outcome`, one line each.
impl fmt::Display for NotifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return writeln!(f, "no notifier is enabled");
        }
        for (name, outcome) in &self.0 {
            if outcome.is_delivered() {
                writeln!(f, "{name}: delivered")?;
            } else {
                writeln!(f, "{name}: FAILED ({}) {outcome:?}", outcome.label())?;
            }
        }
        Ok(())
    }
}

/// Sends one test notification through every enabled notifier; a delivered
/// one resumes its notifier if it was paused. Any failure is
/// [`CliError::NotifyFailed`], carrying the whole report.
pub async fn notify_test(settings: &Settings) -> Result<NotifyReport, CliError> {
    let notifiers = registry::build(settings).map_err(CliError::Failed)?;
    if notifiers.is_empty() {
        return Ok(NotifyReport::default());
    }
    let store = super::outbox::open_store(settings).await?;
    let report = NotifyReport(registry::send_test(&notifiers).await);
    for (name, outcome) in &report.0 {
        if outcome.is_delivered() {
            // Working credentials resume a notifier paused for rejected ones.
            store.resume(Some(name)).await?;
        }
    }
    if report.failures() > 0 {
        return Err(CliError::NotifyFailed(report));
    }
    Ok(report)
}
