//! The durable outbox: rows are claimed with a lease (`FOR UPDATE SKIP
//! LOCKED` on PostgreSQL, so several instances never send a row twice at
//! once), deleted once delivered, rescheduled on a retryable failure and
//! kept as dead letters otherwise.

use super::StoreError;
use super::effects::{OutboxRow, enqueue};
use super::sql::{Backend, SqlStore};

/// Rows claimed for one delivery attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// Row ids, oldest first.
    pub ids: Vec<i64>,
    /// Their payloads (serialised notifications), in the same order.
    pub payloads: Vec<String>,
    /// Creation time of the oldest row, unix ms.
    pub oldest_created_ms: i64,
}

/// A dead-lettered row, for `splitcast outbox list`.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Row id (for `requeue`).
    pub id: i64,
    /// The notifier it was for.
    pub notifier: String,
    /// Creation time, unix ms.
    pub created_at: i64,
    /// Attempts made.
    pub attempts: i64,
    /// Why it was given up (token-free).
    pub last_error: String,
}

/// The most rows one claim statement takes.
const CLAIM_CHUNK: i64 = 500;

/// `$first, $first+1, ...` for `count` ids.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl SqlStore {
    /// Claims up to `limit` due, unclaimed pending rows of `notifier` (only
    /// event rows when `events_only`) for `lease_ms`, oldest first. A large
    /// claim is taken [`CLAIM_CHUNK`] rows per statement: on SQLite each
    /// statement holds the one write lock, and ten thousand rows at once kept
    /// the event writer (every request's commit) waiting for tens of ms.
    pub async fn claim(
        &self,
        notifier: &str,
        now_ms: i64,
        lease_ms: i64,
        events_only: bool,
        limit: i64,
    ) -> Result<Option<Claimed>, StoreError> {
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
        let mut rows: Vec<(i64, String, i64)> = Vec::new();
        while (rows.len() as i64) < limit {
            let want = (limit - rows.len() as i64).min(CLAIM_CHUNK);
            let chunk: Vec<(i64, String, i64)> = sqlx::query_as(&sql)
                .bind(notifier)
                .bind(now_ms)
                .bind(now_ms + lease_ms)
                .bind(want)
                .fetch_all(&self.pool)
                .await?;
            let done = (chunk.len() as i64) < want;
            rows.extend(chunk);
            if done {
                break;
            }
        }
        if rows.is_empty() {
            return Ok(None);
        }
        rows.sort_by_key(|r| r.0);
        let oldest_created_ms = rows.iter().map(|r| r.2).min().unwrap_or(now_ms);
        let (ids, payloads) = rows
            .into_iter()
            .map(|(id, payload, _)| (id, payload))
            .unzip();
        Ok(Some(Claimed {
            ids,
            payloads,
            oldest_created_ms,
        }))
    }

    /// Due, unclaimed pending event rows of `notifier` (the backlog),
    /// counted up to `cap` only: the caller needs to know whether it exceeds
    /// the rate, and a full count would scan a large backlog on every step.
    pub async fn due_events(
        &self,
        notifier: &str,
        now_ms: i64,
        cap: i64,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE notifier = $1 AND status = 'pending' \
             AND is_event = 1 AND next_attempt_at <= $2 AND locked_until <= $2 LIMIT $3) AS due",
        )
        .bind(notifier)
        .bind(now_ms)
        .bind(cap)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Pending rows of `notifier` (any due time).
    pub async fn pending(&self, notifier: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE notifier = $1 AND status = 'pending'",
        )
        .bind(notifier)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn update_ids(
        &self,
        sql_head: &str,
        binds: &[&str],
        ids: &[i64],
    ) -> Result<(), StoreError> {
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
            query.execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Removes delivered rows.
    pub async fn complete(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.update_ids("DELETE FROM outbox", &[], ids).await
    }

    /// Reschedules rows after a retryable failure.
    pub async fn retry_later(
        &self,
        ids: &[i64],
        next_ms: i64,
        reason: &str,
    ) -> Result<(), StoreError> {
        let next = next_ms.to_string();
        self.update_ids(
            "UPDATE outbox SET attempts = attempts + 1, locked_until = 0, \
             next_attempt_at = CAST($1 AS BIGINT), last_error = $2",
            &[&next, reason],
            ids,
        )
        .await
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

    /// Gives claimed rows back untouched (paused notifier, migrated chat).
    pub async fn release(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.update_ids("UPDATE outbox SET locked_until = 0", &[], ids)
            .await
    }

    /// Keeps rows as dead letters with the reason.
    pub async fn dead_letter(&self, ids: &[i64], reason: &str) -> Result<(), StoreError> {
        self.update_ids(
            "UPDATE outbox SET status = 'dead', attempts = attempts + 1, locked_until = 0, last_error = $1",
            &[reason],
            ids,
        )
        .await
    }

    /// Dead-letters pending rows of `notifier` created before `cutoff_ms`.
    pub async fn expire(
        &self,
        notifier: &str,
        cutoff_ms: i64,
        reason: &str,
    ) -> Result<u64, StoreError> {
        Ok(sqlx::query(
            "UPDATE outbox SET status = 'dead', last_error = $3 \
             WHERE notifier = $1 AND status = 'pending' AND created_at < $2",
        )
        .bind(notifier)
        .bind(cutoff_ms)
        .bind(reason)
        .execute(&self.pool)
        .await?
        .rows_affected())
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

    /// The reason `notifier` is paused, if it is.
    pub async fn paused(&self, notifier: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT reason FROM notifier_pauses WHERE notifier = $1")
                .bind(notifier)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Pauses `notifier` (credentials rejected); its rows wait.
    pub async fn pause(&self, notifier: &str, reason: &str, now_ms: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO notifier_pauses (notifier, reason, paused_at) VALUES ($1, $2, $3) \
             ON CONFLICT (notifier) DO UPDATE SET reason = excluded.reason, paused_at = excluded.paused_at",
        )
        .bind(notifier)
        .bind(reason)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
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
