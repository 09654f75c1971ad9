//! The chat line of a lifecycle change and its outbox rows.

use crate::configuration::{NotifierEvent, Settings};
use crate::experiment::Status;
use crate::notify::Notification;
use crate::notify::routing::outbox_row;
use crate::store::OutboxRow;

/// What a change leaves in force, as announced.
pub(super) struct Announced<'a> {
    pub experiment: &'a str,
    pub status: Status,
    pub winner: Option<&'a str>,
    pub reason: Option<&'a str>,
    /// Back to the file's status (the override was removed).
    pub back_to_config: bool,
    pub changed_at: i64,
}

impl Announced<'_> {
    /// `homepage_cta concluded: B ships — reason …`, `homepage_cta paused`,
    /// `homepage_cta back to its configured status: running`.
    pub fn text(&self) -> String {
        let status = super::overrides::status_name(self.status);
        let mut text = if self.back_to_config {
            format!(
                "{} back to its configured status: {status}",
                self.experiment
            )
        } else {
            match (self.status, self.winner) {
                (Status::Concluded, Some(winner)) => {
                    format!("{} concluded: {winner} ships", self.experiment)
                }
                _ => format!("{} {status}", self.experiment),
            }
        };
        if let Some(reason) = self.reason.filter(|r| !r.is_empty()) {
            text.push_str(" — ");
            text.push_str(reason);
        }
        text
    }

    pub fn notification(&self) -> Notification {
        Notification::Lifecycle {
            id: uuid::Uuid::new_v4().to_string(),
            experiment: self.experiment.to_owned(),
            status: super::overrides::status_name(self.status).to_owned(),
            winner: self.winner.map(str::to_owned),
            reason: self.reason.map(str::to_owned),
            source: if self.back_to_config {
                "config"
            } else {
                "override"
            }
            .to_owned(),
            text: self.text(),
            changed_at: self.changed_at,
        }
    }

    /// One row per notifier that wants lifecycle changes.
    pub fn rows(&self, settings: &Settings) -> Vec<OutboxRow> {
        let notification = self.notification();
        settings
            .notifiers
            .iter()
            .filter(|n| n.wants(NotifierEvent::Lifecycle))
            .map(|n| outbox_row(&n.name, &notification))
            .collect()
    }
}
