//! What a recorded event produces for the notifiers, written in the same
//! transaction as the event: an outbox row per interested notifier
//! (`immediate`), a digest count (`digest`), or nothing (`off`).

use super::{Action, Applied, Event, StoreError};
use crate::clock::now_millis;
use crate::configuration::{NotifierEvent, NotifyPolicy, Settings};
use crate::notify::{EventKind, Notification};
use sqlx::AnyConnection;
use std::collections::BTreeMap;

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

    /// Notes in `effects` what an applied event produces for the notifiers:
    /// nothing, a digest count or an outbox row per interested notifier.
    pub(super) fn record(&self, effects: &mut Effects, event: &Event, applied: &Applied) {
        let (kind, goal) = match (applied, &event.action) {
            (Applied::Viewed { .. }, _) => (EventKind::PageView, None),
            (Applied::Converted { first: true }, Action::Convert(goal)) => {
                (EventKind::Conversion, Some(goal.as_str()))
            }
            _ => return,
        };
        let (policy, notifiers) = match kind {
            EventKind::PageView => (self.page_view, &self.page_view_notifiers),
            EventKind::Conversion => (self.conversion, &self.conversion_notifiers),
        };
        match policy {
            NotifyPolicy::Off => {}
            NotifyPolicy::Digest => {
                let key = (
                    event.experiment.to_string(),
                    event.variant.to_string(),
                    kind.as_str(),
                    goal.unwrap_or_default().to_owned(),
                );
                *effects.digest.entry(key).or_default() += 1;
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
                    effects.outbox.push(OutboxRow::new(notifier, &notification));
                }
            }
        }
    }
}

/// What a batch's events produce for the notifiers, written by the store in
/// the batch's transaction.
#[derive(Debug, Default)]
pub(super) struct Effects {
    /// Digest sums to add, keyed (experiment, variant, event, goal) and
    /// applied in key order, like the counters.
    pub digest: BTreeMap<(String, String, &'static str, String), i64>,
    /// Outbox rows to add, due now.
    pub outbox: Vec<OutboxRow>,
}

/// One outbox row to add.
#[derive(Debug)]
pub(super) struct OutboxRow {
    /// The notifier it is for.
    pub notifier: String,
    /// The notification, as stored (JSON).
    pub notification: String,
    /// An event row (which backlogs coalesce), not a summary.
    pub is_event: bool,
}

impl OutboxRow {
    pub(super) fn new(notifier: &str, notification: &Notification) -> Self {
        Self {
            notifier: notifier.to_owned(),
            notification: serde_json::to_string(notification)
                .expect("a notification always serialises"),
            is_event: matches!(notification, Notification::Event { .. }),
        }
    }
}

/// Writes `effects` through sqlx (PostgreSQL, and SQLite outside the writer
/// thread); returns whether outbox rows were added.
pub(super) async fn write_effects(
    conn: &mut AnyConnection,
    effects: Effects,
) -> Result<bool, StoreError> {
    for ((experiment, variant, event, goal), by) in effects.digest {
        sqlx::query(
            "INSERT INTO digest_counts (experiment, variant, event, goal, count) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (experiment, variant, event, goal) \
             DO UPDATE SET count = digest_counts.count + excluded.count",
        )
        .bind(experiment)
        .bind(variant)
        .bind(event)
        .bind(goal)
        .bind(by)
        .execute(&mut *conn)
        .await?;
    }
    let enqueued = !effects.outbox.is_empty();
    for row in effects.outbox {
        insert_outbox_row(conn, &row).await?;
    }
    Ok(enqueued)
}

async fn insert_outbox_row(conn: &mut AnyConnection, row: &OutboxRow) -> Result<(), StoreError> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO outbox (notifier, notification, is_event, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(&row.notifier)
    .bind(&row.notification)
    .bind(i64::from(row.is_event))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Adds one outbox row, due now.
pub(super) async fn enqueue(
    conn: &mut AnyConnection,
    notifier: &str,
    notification: &Notification,
) -> Result<(), StoreError> {
    insert_outbox_row(conn, &OutboxRow::new(notifier, notification)).await
}
