//! The SQLite write path: one connection, owned by the writer thread, that
//! applies a whole batch in one transaction with cached prepared statements.
//! Through sqlx every statement is a hand-off to its worker thread and back,
//! which cost more than SQLite itself (see BENCHMARKS.md); here a batch costs
//! one wake-up of the thread and one fsync. The events' rules are
//! `rules/`, executed by `sqlite_events.rs`.

use super::effects::{Effects, Routing};
use super::outbox::{OutboxAnswer, OutboxOp};
use super::rules::Settled;
use super::sqlite_events::apply_events;
use super::{StoreError, Write, Written};
use crate::configuration::Synchronous;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
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
        // IMMEDIATE: the write lock is taken at BEGIN, where the busy
        // handler waits for a pool connection's short commit. A deferred
        // transaction that reads first (the rules' before state) and then
        // writes fails at once with SQLITE_BUSY_SNAPSHOT when another
        // connection committed in between, and no wait can help it.
        // Dropped without commit (any `?` below), rusqlite rolls back.
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let now = crate::clock::now_secs();
        let Settled {
            written,
            increments,
            effects,
            ..
        } = apply_events(&tx, writes, self.routing.as_ref(), now)?;
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
        Ok((written, answers))
    }
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
