//! Digests: `digest`-policy events are summed in `digest_counts` as they are
//! recorded; once per interval, cluster-wide, the sums are taken and the
//! rows the caller composes from them are queued, in one transaction.

use super::StoreError;
use super::deadline::within;
use super::effects::{OutboxRow, enqueue};
use super::sql::{Backend, SqlStore};
use sqlx::Connection;

const SCHEDULE: &str = "digest";

/// One digest sum taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestSum {
    /// Experiment name.
    pub experiment: String,
    /// Variant name.
    pub variant: String,
    /// The event kind, as routing recorded it (`page_view`, `conversion`).
    pub event: String,
    /// The goal of a conversion, empty otherwise.
    pub goal: String,
    /// How many events.
    pub count: u64,
}

/// What a taken digest is: the interval it covers and its sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenDigest {
    /// When the previous digest was taken, unix ms.
    pub since_ms: i64,
    /// The sums, none zero.
    pub sums: Vec<DigestSum>,
}

impl SqlStore {
    /// If a digest is due (no instance took one in the last `interval_ms`)
    /// and something happened, takes the sums and queues the rows `compose`
    /// makes of them, atomically; returns what `compose` returned.
    pub async fn take_digest<T>(
        &self,
        interval_ms: i64,
        now_ms: i64,
        compose: impl FnOnce(TakenDigest) -> (T, Vec<OutboxRow>),
    ) -> Result<Option<T>, StoreError> {
        let taken = within!(self, self.write_timeout, |conn| {
            let mut tx = conn.begin().await?;
            sqlx::query(
                "INSERT INTO schedules (name, last_run_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            )
            .bind(SCHEDULE)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            let lock = if self.backend == Backend::Postgres {
                " FOR UPDATE"
            } else {
                ""
            };
            let last: i64 = sqlx::query_scalar(&format!(
                "SELECT last_run_at FROM schedules WHERE name = $1{lock}"
            ))
            .bind(SCHEDULE)
            .fetch_one(&mut *tx)
            .await?;
            if now_ms - last < interval_ms {
                tx.commit().await?;
                return Ok(None);
            }
            sqlx::query("UPDATE schedules SET last_run_at = $2 WHERE name = $1")
                .bind(SCHEDULE)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(&format!(
                "SELECT experiment, variant, event, goal, count FROM digest_counts WHERE count > 0{lock}"
            ))
            .fetch_all(&mut *tx)
            .await?;
            if rows.is_empty() {
                tx.commit().await?;
                return Ok(None);
            }
            let mut sums = Vec::with_capacity(rows.len());
            for (experiment, variant, event, goal, count) in rows {
                // Subtract what was taken: events recorded meanwhile stay for the next digest.
                sqlx::query(
                    "UPDATE digest_counts SET count = count - $5 \
                     WHERE experiment = $1 AND variant = $2 AND event = $3 AND goal = $4",
                )
                .bind(&experiment)
                .bind(&variant)
                .bind(&event)
                .bind(&goal)
                .bind(count)
                .execute(&mut *tx)
                .await?;
                sums.push(DigestSum {
                    experiment,
                    variant,
                    event,
                    goal,
                    count: count.max(0) as u64,
                });
            }
            let (taken, rows) = compose(TakenDigest {
                since_ms: last,
                sums,
            });
            for row in &rows {
                enqueue(&mut tx, row).await?;
            }
            tx.commit().await?;
            Some(taken)
        })?;
        if taken.is_some() {
            self.outbox_wake.notify_waiters();
        }
        Ok(taken)
    }
}
