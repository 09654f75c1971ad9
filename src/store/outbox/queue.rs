//! [`Outbox`] on the SQL store.

use super::{Claimed, ClaimedRow, Outbox, OutboxAnswer, OutboxOp};
use crate::store::deadline::within;
use crate::store::sql::{Backend, SqlStore};
use crate::store::{Bucket, BucketUpdate, StoreError};
use std::sync::Arc;
use tokio::sync::Notify;

/// The most rows one claim statement takes: on SQLite each statement holds
/// the one write lock, and ten thousand rows at once kept the event writer
/// (every request's commit) waiting for tens of ms.
const CLAIM_CHUNK: i64 = 500;

/// `$first, $first+1, ...` for `count` ids.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl SqlStore {
    /// Runs `op` on the SQLite writer (see `on_writer.rs` for why); `None`
    /// on PostgreSQL.
    async fn on_writer(&self, op: OutboxOp) -> Option<Result<OutboxAnswer, StoreError>> {
        let (writes, queue) = self.sqlite_writes()?;
        Some(queue.outbox(&writes, op).await)
    }

    /// Claims up to `limit` rows in one statement: a step of the SQLite
    /// writer, else through the pool (where `SKIP LOCKED` lets several
    /// instances claim side by side).
    async fn claim_chunk(
        &self,
        notifier: &str,
        now_ms: i64,
        lease_ms: i64,
        events_only: bool,
        limit: i64,
    ) -> Result<Vec<ClaimedRow>, StoreError> {
        if self.sqlite_writes.is_some() {
            let op = OutboxOp::Claim {
                notifier: notifier.to_owned(),
                now_ms,
                lease_ms,
                events_only,
                limit,
            };
            return match self.on_writer(op).await {
                Some(Ok(OutboxAnswer::Claimed(rows))) => Ok(rows),
                Some(Ok(other)) => unreachable!("a claim answers rows, not {other:?}"),
                Some(Err(error)) => Err(error),
                None => unreachable!("checked above: this is SQLite"),
            };
        }
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let filter = if events_only { " AND is_event = 1" } else { "" };
        let sql = format!(
            "UPDATE outbox SET locked_until = $3 WHERE id IN (\
               SELECT id FROM outbox WHERE notifier = $1 AND status = 'pending' \
               AND next_attempt_at <= $2 AND locked_until <= $2{filter} \
               ORDER BY id LIMIT $4{lock}) \
             RETURNING id, notification, created_at"
        );
        within!(self, self.write_timeout, |conn| {
            sqlx::query_as(&sql)
                .bind(notifier)
                .bind(now_ms)
                .bind(now_ms + lease_ms)
                .bind(limit)
                .fetch_all(conn)
                .await?
        })
    }

    /// Changes rows by id: on the SQLite writer, else through the pool.
    async fn update_ids(
        &self,
        op: impl Fn(Vec<i64>) -> OutboxOp,
        sql_head: &str,
        binds: &[&str],
        ids: &[i64],
    ) -> Result<(), StoreError> {
        if self.sqlite_writes.is_some() {
            for chunk in ids.chunks(CLAIM_CHUNK as usize) {
                // A step per chunk keeps each writer batch short.
                if let Some(result) = self.on_writer(op(chunk.to_vec())).await {
                    result?;
                }
            }
            return Ok(());
        }
        for chunk in ids.chunks(500) {
            let sql = format!(
                "{sql_head} WHERE id IN ({})",
                placeholders(binds.len() + 1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for bind in binds {
                query = query.bind(*bind);
            }
            for id in chunk {
                query = query.bind(*id);
            }
            within!(self, self.write_timeout, |conn| query.execute(conn).await?)?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Outbox for SqlStore {
    /// A large claim is taken `CLAIM_CHUNK` (500) rows per statement.
    async fn claim(
        &self,
        notifier: &str,
        now_ms: i64,
        lease_ms: i64,
        events_only: bool,
        limit: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        let mut rows: Vec<ClaimedRow> = Vec::new();
        while (rows.len() as i64) < limit {
            let want = (limit - rows.len() as i64).min(CLAIM_CHUNK);
            let chunk = self
                .claim_chunk(notifier, now_ms, lease_ms, events_only, want)
                .await?;
            let done = (chunk.len() as i64) < want;
            rows.extend(chunk);
            if done {
                break;
            }
        }
        Ok(Claimed::from_rows(rows, now_ms))
    }

    async fn due_events(&self, notifier: &str, now_ms: i64, cap: i64) -> Result<i64, StoreError> {
        within!(self, self.read_timeout, |conn| {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE notifier = $1 AND status = 'pending' \
                 AND is_event = 1 AND next_attempt_at <= $2 AND locked_until <= $2 LIMIT $3) AS due",
            )
            .bind(notifier)
            .bind(now_ms)
            .bind(cap)
            .fetch_one(conn)
            .await?
        })
    }

    async fn complete(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.update_ids(OutboxOp::Complete, "DELETE FROM outbox", &[], ids)
            .await
    }

    async fn retry_later(&self, ids: &[i64], next_ms: i64, reason: &str) -> Result<(), StoreError> {
        let next = next_ms.to_string();
        self.update_ids(
            |ids| OutboxOp::RetryLater {
                ids,
                next_ms,
                reason: reason.to_owned(),
            },
            "UPDATE outbox SET attempts = attempts + 1, locked_until = 0, \
             next_attempt_at = CAST($1 AS BIGINT), last_error = $2",
            &[&next, reason],
            ids,
        )
        .await
    }

    async fn dead_letter(&self, ids: &[i64], reason: &str) -> Result<(), StoreError> {
        self.update_ids(
            |ids| OutboxOp::DeadLetter {
                ids,
                reason: reason.to_owned(),
            },
            "UPDATE outbox SET status = 'dead', attempts = attempts + 1, locked_until = 0, last_error = $1",
            &[reason],
            ids,
        )
        .await
    }

    async fn release(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.update_ids(
            OutboxOp::Release,
            "UPDATE outbox SET locked_until = 0",
            &[],
            ids,
        )
        .await
    }

    async fn expire(
        &self,
        notifier: &str,
        cutoff_ms: i64,
        reason: &str,
    ) -> Result<u64, StoreError> {
        let op = OutboxOp::Expire {
            notifier: notifier.to_owned(),
            cutoff_ms,
            reason: reason.to_owned(),
        };
        if let Some(result) = self.on_writer(op).await {
            return result.map(OutboxAnswer::count);
        }
        within!(self, self.write_timeout, |conn| {
            sqlx::query(
                "UPDATE outbox SET status = 'dead', last_error = $3 \
                 WHERE notifier = $1 AND status = 'pending' AND created_at < $2",
            )
            .bind(notifier)
            .bind(cutoff_ms)
            .bind(reason)
            .execute(conn)
            .await?
            .rows_affected()
        })
    }

    async fn paused(&self, notifier: &str) -> Result<Option<String>, StoreError> {
        within!(self, self.read_timeout, |conn| {
            sqlx::query_scalar("SELECT reason FROM notifier_pauses WHERE notifier = $1")
                .bind(notifier)
                .fetch_optional(conn)
                .await?
        })
    }

    async fn pause(&self, notifier: &str, reason: &str, now_ms: i64) -> Result<(), StoreError> {
        let op = OutboxOp::Pause {
            notifier: notifier.to_owned(),
            reason: reason.to_owned(),
            now_ms,
        };
        if let Some(result) = self.on_writer(op).await {
            return result.map(|_| ());
        }
        within!(self, self.write_timeout, |conn| {
            sqlx::query(
                "INSERT INTO notifier_pauses (notifier, reason, paused_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (notifier) DO UPDATE SET reason = excluded.reason, paused_at = excluded.paused_at",
            )
            .bind(notifier)
            .bind(reason)
            .bind(now_ms)
            .execute(conn)
            .await?;
        })
    }

    async fn update_bucket(
        &self,
        notifier: &str,
        initial: Bucket,
        update: BucketUpdate,
    ) -> Result<Bucket, StoreError> {
        if self.sqlite_writes.is_none() {
            return self.update_bucket_row(notifier, initial, &update).await;
        }
        let op = OutboxOp::UpdateBucket {
            notifier: notifier.to_owned(),
            initial,
            update,
        };
        match self.on_writer(op).await {
            Some(Ok(OutboxAnswer::Bucket(before))) => Ok(before),
            Some(Ok(other)) => unreachable!("a bucket update answers its bucket, not {other:?}"),
            Some(Err(error)) => Err(error),
            None => unreachable!("checked above: this is SQLite"),
        }
    }

    fn outbox_wake(&self) -> Arc<Notify> {
        self.outbox_wake.clone()
    }
}
