//! What a recorded event produces for the notifiers, written in the same
//! transaction as the event: an outbox row per interested notifier
//! (`immediate`), a digest count (`digest`), or nothing (`off`).

use super::{Event, StoreError};
use crate::clock::now_millis;
use crate::configuration::{NotifierEvent, NotifyPolicy, Settings};
use crate::notify::{EventKind, Notification};
use sqlx::AnyConnection;

/// Notification routing of counted events.
#[derive(Debug, Clone)]
pub struct NotifyRouting {
    page_view: NotifyPolicy,
    conversion: NotifyPolicy,
    page_view_notifiers: Vec<String>,
    conversion_notifiers: Vec<String>,
}

impl NotifyRouting {
    /// Nothing is notified (tools that only read the store).
    pub fn none() -> Self {
        Self {
            page_view: NotifyPolicy::Off,
            conversion: NotifyPolicy::Off,
            page_view_notifiers: Vec::new(),
            conversion_notifiers: Vec::new(),
        }
    }

    /// The routing of a configuration.
    pub fn from_settings(settings: &Settings) -> Self {
        let wanting = |event| {
            settings
                .notifiers
                .iter()
                .filter(|n| n.wants(event))
                .map(|n| n.name.clone())
                .collect()
        };
        Self {
            page_view: settings.notify.page_view,
            conversion: settings.notify.conversion,
            page_view_notifiers: wanting(NotifierEvent::PageView),
            conversion_notifiers: wanting(NotifierEvent::Conversion),
        }
    }

    /// Writes what a counted `kind` event produces.
    pub(super) async fn route(
        &self,
        conn: &mut AnyConnection,
        event: &Event,
        kind: EventKind,
        goal: Option<&str>,
    ) -> Result<bool, StoreError> {
        let (policy, notifiers) = match kind {
            EventKind::PageView => (self.page_view, &self.page_view_notifiers),
            EventKind::Conversion => (self.conversion, &self.conversion_notifiers),
        };
        match policy {
            NotifyPolicy::Off => Ok(false),
            NotifyPolicy::Digest => {
                sqlx::query(
                    "INSERT INTO digest_counts (experiment, variant, event, goal, count) \
                     VALUES ($1, $2, $3, $4, 1) \
                     ON CONFLICT (experiment, variant, event, goal) \
                     DO UPDATE SET count = digest_counts.count + 1",
                )
                .bind(event.experiment.as_str())
                .bind(event.variant.as_str())
                .bind(kind.as_str())
                .bind(goal.unwrap_or_default())
                .execute(&mut *conn)
                .await?;
                Ok(false)
            }
            NotifyPolicy::Immediate => {
                for notifier in notifiers {
                    let notification = Notification::Event {
                        id: uuid::Uuid::new_v4().to_string(),
                        event: kind,
                        experiment: event.experiment.to_string(),
                        variant: event.variant.to_string(),
                        goal: goal.map(str::to_owned),
                        unit_count: 1,
                        occurred_at: event.at,
                    };
                    enqueue(conn, notifier, &notification).await?;
                }
                Ok(!notifiers.is_empty())
            }
        }
    }
}

/// Adds one outbox row, due now.
pub(super) async fn enqueue(
    conn: &mut AnyConnection,
    notifier: &str,
    notification: &Notification,
) -> Result<(), StoreError> {
    let now = now_millis();
    let is_event = matches!(notification, Notification::Event { .. });
    sqlx::query(
        "INSERT INTO outbox (notifier, notification, is_event, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(notifier)
    .bind(serde_json::to_string(notification).expect("a notification always serialises"))
    .bind(i64::from(is_event))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
