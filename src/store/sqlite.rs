//! The embedded SQLite store: WAL journal, full fsync at commit (group
//! commit amortises it), the file (owner-only, 0600) and its folder created
//! at start.
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
    owner_only(Path::new(path))?;
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

/// Creates the database file readable and writable by its owner only
/// (0600) when it does not exist yet: it holds user ids and the outbox's
/// messages. SQLite gives the `-wal` and `-shm` files the database file's
/// mode. An existing file keeps the mode its operator chose; a file others
/// may read is warned about.
fn owner_only(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let created = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path);
    match created {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let mode = std::fs::metadata(path)
                .map(|m| m.permissions().mode() & 0o777)
                .unwrap_or(0);
            if mode & 0o077 != 0 {
                tracing::warn!(
                    "{} has mode {mode:o}: other users of this machine may read the events \
                     (chmod 600 it unless that is intended)",
                    path.display()
                );
            }
            Ok(())
        }
        Err(e) => Err(StoreError::Url(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
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
