//! A bound on how long an operation of the pool may wait for the database.
//! A PostgreSQL that accepts connections but stopped answering (a network
//! partition, a frozen host) would otherwise hold the caller until the
//! operating system gives the connection up, minutes later: `/results`
//! would hang instead of answering 503. The event writes have the same
//! bound in `sql.rs`.

use super::StoreError;
use super::sql::SqlStore;
use futures_util::future::BoxFuture;
use sqlx::AnyConnection;
use std::time::Duration;

impl SqlStore {
    /// Runs `operation` on a connection of the pool, given up after `limit`
    /// with [`StoreError::Timeout`]. The connection of an operation given up
    /// is closed, never reused: what the database did of it is in doubt.
    pub(super) async fn within<T: Send>(
        &self,
        limit: Duration,
        operation: impl for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, StoreError>>
        + Send,
    ) -> Result<T, StoreError> {
        let mut conn = tokio::time::timeout(limit, self.pool.acquire())
            .await
            .map_err(|_| StoreError::Timeout)??;
        let result = tokio::time::timeout(limit, operation(&mut conn))
            .await
            .unwrap_or(Err(StoreError::Timeout));
        if matches!(result, Err(StoreError::Timeout)) {
            conn.close_on_drop();
        }
        result
    }
}
