//! The SQLite write path: one connection, owned by the writer thread, that
//! applies a whole batch in one transaction with cached prepared statements.
//! Through sqlx every statement is a hand-off to its worker thread and back,
//! which cost more than SQLite itself (see BENCHMARKS.md); here a batch costs
//! one wake-up of the thread and one fsync. The rules are those of the
//! PostgreSQL path (`sqlx_writes.rs`, which resolves them in `plan/`), event
//! for event.

use super::effects::{Effects, Routing};
use super::increments::{Increments, count};
use super::outbox::{OutboxAnswer, OutboxOp};
use super::{Action, Applied, Event, Source, StoreError, Write, Written, delivery_order};
use crate::configuration::Synchronous;
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Notify;

/// The writer's connection and what a batch needs besides it.
pub struct SqliteWrites {
    connection: Connection,
    path: PathBuf,
    synchronous: Synchronous,
    routing: Arc<dyn Routing>,
    outbox_wake: Arc<Notify>,
}

fn connect(path: &PathBuf, synchronous: Synchronous) -> Result<Connection, StoreError> {
    let connection = Connection::open(path)?;
    connection.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; \
         PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
        synchronous.pragma()
    ))?;
    connection.set_prepared_statement_cache_capacity(32);
    // SQLite's own busy handler sleeps 1, 2, 5, 10 ... 100 ms between tries:
    // a delivery worker's short outbox update would stall a whole batch of
    // requests for that long. Waiting in small steps keeps the stall as short
    // as the lock holder's transaction.
    connection.busy_handler(Some(wait_briefly))?;
    // Only a checkpoint run between the writer's own batches completes under
    // continuous writes, and only a complete one lets the WAL start over; a
    // small threshold keeps each one (a stall of the batch behind it) short.
    // SQLite's default of 1000 pages stalled new visitors' p99 to 9 ms.
    connection.execute_batch(&format!(
        "PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES};"
    ))?;
    Ok(connection)
}

/// WAL pages after which the writer checkpoints, between two batches.
const WRITER_CHECKPOINT_PAGES: u32 = 200;

/// Tries again after 50 µs, for up to 10 s in all.
fn wait_briefly(attempt: i32) -> bool {
    std::thread::sleep(std::time::Duration::from_micros(50));
    attempt < 200_000
}

impl std::fmt::Debug for SqliteWrites {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteWrites")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl SqliteWrites {
    /// Opens the writer's own connection to the (migrated) database file.
    pub(super) fn open(
        path: PathBuf,
        synchronous: Synchronous,
        routing: Arc<dyn Routing>,
        outbox_wake: Arc<Notify>,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            connection: connect(&path, synchronous)?,
            path,
            synchronous,
            routing,
            outbox_wake,
        })
    }

    /// Applies `writes`, then the outbox steps, in one transaction,
    /// committed before it returns.
    pub fn apply(
        &mut self,
        writes: &[Write],
        outbox: Vec<OutboxOp>,
    ) -> Result<(Vec<Written>, Vec<OutboxAnswer>), StoreError> {
        let result = self.apply_in_transaction(writes, outbox);
        if result.is_err() && !self.connection.is_autocommit() {
            // The transaction is still open after a failed ROLLBACK: start
            // afresh rather than run the next batch inside it.
            tracing::warn!("reopening the SQLite writer connection after a failed rollback");
            self.connection = connect(&self.path, self.synchronous)?;
        }
        result
    }

    fn apply_in_transaction(
        &mut self,
        writes: &[Write],
        outbox: Vec<OutboxOp>,
    ) -> Result<(Vec<Written>, Vec<OutboxAnswer>), StoreError> {
        // Dropped without commit (any `?` below), rusqlite rolls back.
        let tx = self.connection.transaction()?;
        let now = crate::clock::now_secs();
        let duplicate = claim_deliveries(&tx, writes, now)?;
        let mut increments = Increments::new();
        let mut effects = Effects::default();
        let mut outcomes = Vec::with_capacity(writes.len());
        for (write, duplicate) in writes.iter().zip(duplicate) {
            if duplicate {
                outcomes.push(Written::DuplicateDelivery);
                continue;
            }
            let mut applied = Vec::with_capacity(write.events.len());
            for event in &write.events {
                let outcome = apply_event(&tx, event, &mut increments)?;
                self.routing.record(&mut effects, event, &outcome);
                applied.push(outcome);
            }
            if let (true, Some(id)) = (write.refusable, &write.delivery)
                && !applied.is_empty()
                && applied.iter().all(Applied::is_refusal)
            {
                // Answered 4xx: the sender may correct and retry with the same id.
                tx.prepare_cached("DELETE FROM ingest_ids WHERE id = ?1")?
                    .execute([id.as_str()])?;
            }
            outcomes.push(Written::Applied(applied));
        }
        for ((experiment, variant, metric, goal), by) in increments {
            tx.prepare_cached(
                "INSERT INTO counters (experiment, variant, metric, goal, value) \
                 VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (experiment, variant, metric, goal) \
                 DO UPDATE SET value = counters.value + excluded.value",
            )?
            .execute(params![experiment, variant, metric, goal, by])?;
        }
        let enqueued = write_effects(&tx, effects)?;
        let answers = outbox
            .into_iter()
            .map(|op| op.run(&tx))
            .collect::<Result<Vec<_>, _>>()?;
        if writes.iter().any(|w| w.probe) {
            tx.prepare_cached(
                "INSERT INTO writer_probe (id, at) VALUES (1, ?1) \
                 ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            )?
            .execute([now])?;
        }
        tx.commit()?;
        if enqueued {
            self.outbox_wake.notify_waiters();
        }
        Ok((outcomes, answers))
    }
}

/// As on PostgreSQL: delivery ids first, in key order.
fn claim_deliveries(tx: &Transaction, writes: &[Write], now: i64) -> Result<Vec<bool>, StoreError> {
    let mut duplicate = vec![false; writes.len()];
    let order = delivery_order(writes);
    let mut insert = tx.prepare_cached(
        "INSERT INTO ingest_ids (id, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    for (index, id) in order {
        duplicate[index] = insert.execute(params![id.as_str(), now])? == 0;
    }
    Ok(duplicate)
}

fn apply_event(
    tx: &Transaction,
    event: &Event,
    increments: &mut Increments,
) -> Result<Applied, StoreError> {
    let experiment = event.experiment.as_str();
    let mut count = |variant: &str, metric: &'static str, goal: &str| {
        count(increments, experiment, variant, metric, goal)
    };
    if let Some(id) = &event.event_id {
        let fresh = tx
            .prepare_cached(
                "INSERT INTO ingest_ids (id, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            )?
            .execute(params![id, event.at])?
            == 1;
        if !fresh {
            return Ok(Applied::DuplicateId);
        }
    }
    // Only an assignment enrols a unit from a browser: its views and
    // conversions need the unit on record, so they read before they write.
    let enrols = event.source != Source::Browser || event.action == Action::Enroll;
    let new = enrols
        && tx
            .prepare_cached(
                "INSERT INTO participants (experiment, unit_id, variant, source, views, created_at) \
                 VALUES (?1, ?2, ?3, ?4, 0, ?5) ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                experiment,
                event.unit_id,
                event.variant.as_str(),
                event.source.as_str(),
                event.at
            ])?
            == 1;
    // Views before this event: a new participant has none.
    let mut views_before = 0_i64;
    if new {
        count(event.variant.as_str(), "participants", "");
    } else {
        let on_record: Option<(String, i64)> = tx
            .prepare_cached(
                "SELECT variant, views FROM participants WHERE experiment = ?1 AND unit_id = ?2",
            )?
            .query_row(params![experiment, event.unit_id], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        let Some((recorded, views)) = on_record else {
            release_id(tx, event)?;
            return Ok(Applied::NotAssigned);
        };
        views_before = views;
        if event.action == Action::Enroll {
            return Ok(Applied::Enrolled {
                new,
                variant: recorded,
            });
        }
        if recorded != event.variant.as_str() {
            release_id(tx, event)?;
            return Ok(Applied::VariantMismatch { recorded });
        }
    }
    let variant = event.variant.as_str();
    Ok(match &event.action {
        Action::Enroll => Applied::Enrolled {
            new,
            variant: variant.to_owned(),
        },
        // No RETURNING below: SQLite answers it through a temporary table
        // opened and freed per statement, a cost the profile showed on every
        // event; what it would return is known without it.
        Action::View => {
            tx.prepare_cached(
                "UPDATE participants SET views = views + 1 WHERE experiment = ?1 AND unit_id = ?2",
            )?
            .execute(params![experiment, event.unit_id])?;
            let unique = views_before == 0;
            count(variant, "views", "");
            if unique {
                count(variant, "unique_views", "");
            }
            Applied::Viewed { unique }
        }
        Action::Convert(goal) => {
            let first = tx
                .prepare_cached(
                    "INSERT INTO conversions (experiment, goal, unit_id, variant, repeats, created_at) \
                     VALUES (?1, ?2, ?3, ?4, 0, ?5) ON CONFLICT DO NOTHING",
                )?
                .execute(params![experiment, goal.as_str(), event.unit_id, variant, event.at])?
                == 1;
            if !first {
                tx.prepare_cached(
                    "UPDATE conversions SET repeats = repeats + 1 \
                     WHERE experiment = ?1 AND goal = ?2 AND unit_id = ?3",
                )?
                .execute(params![experiment, goal.as_str(), event.unit_id])?;
            }
            count(variant, "total_conversions", goal.as_str());
            if first {
                count(variant, "conversions", goal.as_str());
            }
            Applied::Converted { first }
        }
    })
}

/// A refused event must not consume its id: a corrected retry may reuse it.
fn release_id(tx: &Transaction, event: &Event) -> Result<(), StoreError> {
    if let Some(id) = &event.event_id {
        tx.prepare_cached("DELETE FROM ingest_ids WHERE id = ?1")?
            .execute([id])?;
    }
    Ok(())
}

/// The batch's digest sums and outbox rows; whether rows were added.
fn write_effects(tx: &Transaction, effects: Effects) -> Result<bool, StoreError> {
    for ((experiment, variant, event, goal), by) in effects.digest {
        tx.prepare_cached(
            "INSERT INTO digest_counts (experiment, variant, event, goal, count) \
             VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (experiment, variant, event, goal) \
             DO UPDATE SET count = digest_counts.count + excluded.count",
        )?
        .execute(params![experiment, variant, event, goal, by])?;
    }
    let now = crate::clock::now_millis();
    let mut insert = tx.prepare_cached(
        "INSERT INTO outbox (notifier, notification, is_event, created_at, next_attempt_at) \
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?;
    for row in &effects.outbox {
        insert.execute(params![
            row.notifier,
            row.payload,
            i64::from(row.is_event),
            now
        ])?;
    }
    Ok(!effects.outbox.is_empty())
}
