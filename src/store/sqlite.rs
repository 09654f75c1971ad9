//! The embedded SQLite store: WAL journal, full fsync at commit (group
//! commit amortises it), the file and its folder created at start.
//!
//! `?synchronous=normal` on the URL trades power-loss durability for
//! throughput: a commit then reaches the OS but is not fsynced, so it still
//! survives the process being killed, not the machine losing power.

use super::StoreError;
use super::effects::Routing;
use super::jobs::JobQueue;
use super::sql::{Backend, SqlStore};
use super::sqlite_writes::SqliteWrites;
use crate::configuration::Synchronous;
use sqlx::Executor;
use sqlx::any::AnyPoolOptions;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(super) async fn open(
    path: &str,
    synchronous: Synchronous,
    pool_size: u32,
    routing: Arc<dyn Routing>,
) -> Result<SqlStore, StoreError> {
    let sync = synchronous;
    let synchronous = synchronous.pragma();
    if let Some(parent) = Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| StoreError::Url(format!("cannot create {}: {e}", parent.display())))?;
    }
    // The pool (reads, the outbox) never checkpoints at its commits: its
    // checkpoints raced the writer's and did not let the WAL start over; the
    // writer and the checkpoint loop do it.
    let pool = AnyPoolOptions::new()
        .max_connections(pool_size)
        // A local file needs no liveness ping per checkout; it is one more driver round trip per batch.
        .test_before_acquire(false)
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                let pragmas = format!(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = 0;"
                );
                conn.execute(pragmas.as_str()).await?;
                Ok(())
            })
        })
        .connect(&format!("sqlite://{path}?mode=rwc"))
        .await?;
    sqlx::migrate!("migrations/sqlite").run(&pool).await?;
    let mut store = SqlStore::new(pool, Backend::Sqlite, routing.clone());
    let writes = SqliteWrites::open(path.into(), sync, routing, store.outbox_wake.clone())?;
    store.sqlite_writes = Some((Arc::new(Mutex::new(writes)), JobQueue::new()));
    Ok(store)
}

impl SqlStore {
    /// Copies committed WAL frames into the database file without blocking
    /// the writer (`PASSIVE`): while no events arrive, the writer does not
    /// checkpoint, and the outbox's own commits would grow the WAL. A no-op
    /// on PostgreSQL. One step of the checkpoint loop the application runs.
    pub async fn checkpoint(&self) -> Result<(), StoreError> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }

    /// Checkpoints every `period`, forever.
    pub async fn checkpoint_loop(self: Arc<Self>, period: Duration) {
        loop {
            tokio::time::sleep(period).await;
            if let Err(error) = self.checkpoint().await {
                tracing::warn!(error = ?error, "WAL checkpoint failed; retrying later");
            }
        }
    }
}
