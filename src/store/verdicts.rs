//! Significance verdicts: an announcement is recorded and its notification
//! queued in one transaction, and only by the instance whose write made it.

use super::StoreError;
use super::effects::{OutboxRow, enqueue};
use super::sql::SqlStore;

/// One comparison of a variant with the control on a goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison<'a> {
    /// Experiment name.
    pub experiment: &'a str,
    /// Goal name.
    pub goal: &'a str,
    /// The non-control variant.
    pub variant: &'a str,
}

impl SqlStore {
    /// Records that `comparison`'s verdict is announced. The first time (a
    /// row left as not significant by an older version counts as not yet
    /// announced) queues `rows` (the announcement, per notifier) and
    /// returns true; afterwards it does nothing and returns false, on every
    /// instance of a cluster. A verdict is never taken back.
    pub async fn record_verdict(
        &self,
        comparison: &Comparison<'_>,
        rows: &[OutboxRow],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let announced = sqlx::query(
            "INSERT INTO verdicts (experiment, goal, variant, significant) VALUES ($1, $2, $3, 1) \
             ON CONFLICT (experiment, goal, variant) DO UPDATE SET significant = 1 \
             WHERE verdicts.significant = 0",
        )
        .bind(comparison.experiment)
        .bind(comparison.goal)
        .bind(comparison.variant)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if announced {
            for row in rows {
                enqueue(&mut tx, row).await?;
            }
        }
        tx.commit().await?;
        if announced {
            self.outbox_wake.notify_waiters();
        }
        Ok(announced)
    }
}
