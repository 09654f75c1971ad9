//! The operator's view of the outbox (`splitcast outbox`, `notify-test`,
//! start-up) and rows added outside an event transaction.

use super::DeadLetter;
use crate::store::StoreError;
use crate::store::effects::{OutboxRow, enqueue};
use crate::store::sql::SqlStore;

impl SqlStore {
    /// Pending rows of `notifier` (any due time).
    pub async fn pending(&self, notifier: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE notifier = $1 AND status = 'pending'",
        )
        .bind(notifier)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Releases every claim. Only for a store no other process uses (SQLite
    /// at start): claims left by a killed process would otherwise hold their
    /// rows until the lease runs out.
    pub async fn release_all_claims(&self) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("UPDATE outbox SET locked_until = 0 WHERE locked_until > 0")
                .execute(&self.pool)
                .await?
                .rows_affected(),
        )
    }

    /// Every dead letter, oldest first.
    pub async fn dead_letters(&self) -> Result<Vec<DeadLetter>, StoreError> {
        let rows: Vec<(i64, String, i64, i64, Option<String>)> = sqlx::query_as(
            "SELECT id, notifier, created_at, attempts, last_error FROM outbox \
             WHERE status = 'dead' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, notifier, created_at, attempts, last_error)| DeadLetter {
                    id,
                    notifier,
                    created_at,
                    attempts,
                    last_error: last_error.unwrap_or_default(),
                },
            )
            .collect())
    }

    /// Puts dead letters back in the queue (one by id, or all); returns how many.
    pub async fn requeue(&self, id: Option<i64>, now_ms: i64) -> Result<u64, StoreError> {
        let sql = "UPDATE outbox SET status = 'pending', attempts = 0, locked_until = 0, \
                   next_attempt_at = $1, created_at = $1 WHERE status = 'dead'";
        let one = format!("{sql} AND id = $2");
        let result = match id {
            Some(id) => sqlx::query(&one).bind(now_ms).bind(id),
            None => sqlx::query(sql).bind(now_ms),
        }
        .execute(&self.pool)
        .await?;
        self.outbox_wake.notify_waiters();
        Ok(result.rows_affected())
    }

    /// Adds an outbox row outside an event transaction.
    pub async fn enqueue(&self, row: &OutboxRow) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        enqueue(&mut conn, row).await?;
        self.outbox_wake.notify_waiters();
        Ok(())
    }

    /// Resumes `notifier`, or every notifier.
    pub async fn resume(&self, notifier: Option<&str>) -> Result<(), StoreError> {
        match notifier {
            Some(name) => sqlx::query("DELETE FROM notifier_pauses WHERE notifier = $1").bind(name),
            None => sqlx::query("DELETE FROM notifier_pauses"),
        }
        .execute(&self.pool)
        .await?;
        self.outbox_wake.notify_waiters();
        Ok(())
    }
}
