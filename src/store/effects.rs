//! What a recorded event produces for the notifiers, written in the same
//! transaction as the event. Which notifications an event produces is the
//! notifier side's policy ([`Routing`], implemented in `notify::routing`);
//! the store only executes the effects, so it knows nothing of messages.

use super::bulk::{MultiRow, Param};
use super::{Applied, Event, StoreError};
use crate::clock::now_millis;
use sqlx::AnyConnection;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Decides, inside the write transaction, what an applied event produces.
pub trait Routing: Send + Sync + std::fmt::Debug + 'static {
    /// Notes in `effects` what `event`, applied as `applied`, produces.
    fn record(&self, effects: &mut Effects, event: &Event, applied: &Applied);
}

/// Produces nothing: for tools that only read or repair the store.
#[derive(Debug)]
struct Silent;

impl Routing for Silent {
    fn record(&self, _: &mut Effects, _: &Event, _: &Applied) {}
}

/// Routing that produces no notification.
pub fn no_routing() -> Arc<dyn Routing> {
    Arc::new(Silent)
}

/// What a batch's events produce for the notifiers, written by the store in
/// the batch's transaction.
#[derive(Debug, Default)]
pub struct Effects {
    /// Digest sums to add, keyed (experiment, variant, event, goal) and
    /// applied in key order, like the counters.
    pub digest: BTreeMap<(String, String, &'static str, String), i64>,
    /// Outbox rows to add, due now.
    pub outbox: Vec<OutboxRow>,
}

/// One outbox row to add.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// The notifier it is for.
    pub notifier: String,
    /// The notification, serialised by the notifier side (the store keeps
    /// it as it is given).
    pub payload: String,
    /// An event row (which backlogs coalesce), not a summary.
    pub is_event: bool,
}

/// Writes `effects` through sqlx (PostgreSQL), one statement per table;
/// returns whether outbox rows were added.
pub(super) async fn write_effects(
    conn: &mut AnyConnection,
    effects: Effects,
) -> Result<bool, StoreError> {
    let sums: Vec<[Param; 5]> = effects
        .digest
        .iter()
        .map(|((experiment, variant, event, goal), by)| {
            [
                Param::Text(experiment),
                Param::Text(variant),
                Param::Text(event),
                Param::Text(goal),
                Param::Int(*by),
            ]
        })
        .collect();
    let add_sums = MultiRow {
        head: "INSERT INTO digest_counts (experiment, variant, event, goal, count)",
        tail: "ON CONFLICT (experiment, variant, event, goal) \
               DO UPDATE SET count = digest_counts.count + excluded.count",
    };
    add_sums.execute(conn, &sums).await?;
    let now = now_millis();
    // In the order routing gave them: row ids are the delivery order.
    let rows: Vec<[Param; 5]> = effects
        .outbox
        .iter()
        .map(|row| {
            [
                Param::Text(&row.notifier),
                Param::Text(&row.payload),
                Param::Int(i64::from(row.is_event)),
                Param::Int(now),
                Param::Int(now),
            ]
        })
        .collect();
    let add_rows = MultiRow {
        head: "INSERT INTO outbox (notifier, notification, is_event, created_at, next_attempt_at)",
        tail: "",
    };
    add_rows.execute(conn, &rows).await?;
    Ok(!rows.is_empty())
}

/// Adds one outbox row, due now.
pub(super) async fn enqueue(conn: &mut AnyConnection, row: &OutboxRow) -> Result<(), StoreError> {
    let now = now_millis();
    sqlx::query(
        "INSERT INTO outbox (notifier, notification, is_event, created_at, next_attempt_at) \
         VALUES ($1, $2, $3, $4, $4)",
    )
    .bind(&row.notifier)
    .bind(&row.payload)
    .bind(i64::from(row.is_event))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
