//! The SQL store, shared by SQLite and PostgreSQL through sqlx's `Any`
//! driver: its statements are valid on both (`$n` parameters,
//! `ON CONFLICT`, `RETURNING`). Event writes go through `sqlite_writes.rs`
//! on SQLite and `sqlx_writes.rs` on PostgreSQL.

use super::deadline::within;
use super::effects::Routing;
use super::jobs::JobQueue;
use super::sqlite_writes::SqliteWrites;
use super::{Counter, HistoryPoint, Store, StoreError, Write, Written};
use sqlx::AnyPool;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Which database is behind the pool, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (WAL).
    Sqlite,
    /// PostgreSQL, possibly shared by several instances.
    Postgres,
}

/// The SQL implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(super) pool: AnyPool,
    pub(super) backend: Backend,
    pub(super) routing: Arc<dyn Routing>,
    /// Woken after a commit that added outbox rows, so workers need not poll.
    pub(super) outbox_wake: Arc<Notify>,
    /// On SQLite, the writer's own connection and its queue: every event
    /// write and the outbox's writes go through it (see `sqlite_writes.rs`
    /// and `outbox/on_writer.rs`); reads use the pool.
    pub(super) sqlite_writes: Option<(Arc<Mutex<SqliteWrites>>, JobQueue)>,
    /// Each experiment's first participant time, once known: it never
    /// changes, and finding it scans the experiment's participants (63 ms
    /// at a million, on every `/results` of a fixed-plan experiment).
    first_participants: Arc<Mutex<HashMap<String, i64>>>,
    /// How long a batch may take on the sqlx path (`storage.write_timeout_secs`).
    pub(super) write_timeout: std::time::Duration,
    /// How long a read of the pool may take (`storage.read_timeout_secs`).
    pub(super) read_timeout: std::time::Duration,
}

impl SqlStore {
    /// The connection pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub(super) fn new(pool: AnyPool, backend: Backend, routing: Arc<dyn Routing>) -> Self {
        Self {
            pool,
            backend,
            routing,
            outbox_wake: Arc::new(Notify::new()),
            sqlite_writes: None,
            first_participants: Arc::default(),
            write_timeout: std::time::Duration::from_secs(10),
            read_timeout: std::time::Duration::from_secs(10),
        }
    }

    /// The SQLite writer connection and its queue, for the writer thread.
    pub(super) fn sqlite_writes(&self) -> Option<(Arc<Mutex<SqliteWrites>>, JobQueue)> {
        self.sqlite_writes.clone()
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn apply(&self, writes: &[Write]) -> Result<Vec<Written>, StoreError> {
        if let Some((sqlite, _)) = self.sqlite_writes() {
            // Outside the writer thread (tools and tests): the same connection, on a blocking thread.
            let writes = writes.to_vec();
            return tokio::task::spawn_blocking(move || {
                let mut sqlite = sqlite.lock().expect("never poisoned");
                sqlite
                    .apply(&writes, Vec::new())
                    .map(|(written, _)| written)
            })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        }
        let mut conn = self.pool.acquire().await?;
        // A database that accepts connections and never answers would hold
        // this batch, and every request behind it, forever.
        let result = tokio::time::timeout(self.write_timeout, self.apply_on(&mut conn, writes))
            .await
            .unwrap_or(Err(StoreError::Timeout));
        if result.is_err() {
            // After a failed statement or COMMIT, SQLite may or may not have
            // rolled back by itself (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY);
            // when sqlx's ROLLBACK then fails, its transaction depth stays
            // up and the next batch would run as a savepoint of a transaction
            // that is not what it seems. A connection whose state is in doubt
            // is closed, never reused.
            conn.close_on_drop();
        }
        result
    }

    async fn counters(&self) -> Result<Vec<Counter>, StoreError> {
        let rows: Vec<(String, String, String, String, i64)> =
            within!(self, self.read_timeout, |conn| {
                sqlx::query_as(
                    "SELECT experiment, variant, metric, goal, value FROM counters \
                     ORDER BY experiment, variant, metric, goal",
                )
                .fetch_all(conn)
                .await?
            })?;
        Ok(rows
            .into_iter()
            .map(|(experiment, variant, metric, goal, value)| Counter {
                experiment,
                variant,
                metric,
                goal,
                value,
            })
            .collect())
    }

    async fn first_participant_at(&self, experiment: &str) -> Result<Option<i64>, StoreError> {
        let known = || {
            self.first_participants
                .lock()
                .expect("never poisoned")
                .get(experiment)
                .copied()
        };
        if let Some(first) = known() {
            return Ok(Some(first));
        }
        let first: Option<i64> = within!(self, self.read_timeout, |conn| {
            sqlx::query_scalar("SELECT MIN(created_at) FROM participants WHERE experiment = $1")
                .bind(experiment)
                .fetch_one(conn)
                .await?
        })?;
        if let Some(first) = first {
            self.first_participants
                .lock()
                .expect("never poisoned")
                .insert(experiment.to_owned(), first);
        }
        Ok(first)
    }

    async fn history(&self, experiment: &str) -> Result<Vec<HistoryPoint>, StoreError> {
        self.history_points(experiment).await
    }

    async fn recorded_variant(
        &self,
        experiment: &str,
        unit_id: &str,
    ) -> Result<Option<String>, StoreError> {
        Ok(within!(self, self.read_timeout, |conn| {
            sqlx::query_scalar(
                "SELECT variant FROM participants WHERE experiment = $1 AND unit_id = $2",
            )
            .bind(experiment)
            .bind(unit_id)
            .fetch_optional(conn)
            .await?
        })?)
    }
}
