//! Digests: `digest`-policy events are summed in `digest_counts` as they are
//! recorded; once per interval, cluster-wide, the sums are taken into one
//! summary notification per interested notifier.

use super::StoreError;
use super::routing::enqueue;
use super::sql::{Backend, SqlStore};
use crate::notify::coalesce::{CountItem, summary};
use crate::notify::{EventKind, Notification, SummaryReason};

const SCHEDULE: &str = "digest";

impl SqlStore {
    /// If a digest is due (no instance took one in the last `interval_ms`)
    /// and something happened, moves the sums into one summary row per
    /// notifier in `notifiers`, atomically, and returns the summary.
    pub async fn take_digest(
        &self,
        interval_ms: i64,
        now_ms: i64,
        notifiers: &[String],
    ) -> Result<Option<Notification>, StoreError> {
        let mut tx = self.pool.begin().await?;
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
        let mut items: Vec<CountItem> = Vec::with_capacity(rows.len());
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
            let kind = if event == EventKind::PageView.as_str() {
                EventKind::PageView
            } else {
                EventKind::Conversion
            };
            let goal = (!goal.is_empty()).then_some(goal);
            items.push((experiment, kind, goal, variant, count.max(0) as u64));
        }
        let id = format!("digest-{now_ms}");
        let digest = summary(id, SummaryReason::Digest, last / 1000, now_ms / 1000, items);
        for notifier in notifiers {
            enqueue(&mut tx, notifier, &digest).await?;
        }
        tx.commit().await?;
        self.outbox_wake.notify_waiters();
        Ok(Some(digest))
    }
}
