//! Significance verdicts: an announcement is recorded and its notification
//! queued in one transaction, and only by the instance whose write made it.

use super::StoreError;
use super::deadline::within;
use super::effects::{OutboxRow, enqueue};
use super::sql::SqlStore;
use sqlx::Connection;

/// One comparison of a variant with the control on a goal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison<'a> {
    /// Experiment name.
    pub experiment: &'a str,
    /// Goal name.
    pub goal: &'a str,
    /// The non-control variant.
    pub variant: &'a str,
    /// The analysis that judged it (`sequential` or `fixed`): each announces once.
    pub analysis: &'a str,
}

impl SqlStore {
    /// Records that `comparison`'s verdict is announced under its analysis.
    /// The first time queues `rows` (the announcement, per notifier) and
    /// returns true; afterwards it does nothing and returns false, on every
    /// instance of a cluster. A verdict is never taken back.
    pub async fn record_verdict(
        &self,
        comparison: &Comparison<'_>,
        rows: &[OutboxRow],
    ) -> Result<bool, StoreError> {
        let announced = within!(self, self.write_timeout, |conn| {
            let mut tx = conn.begin().await?;
            let announced = sqlx::query(
                "INSERT INTO announcements (experiment, goal, variant, analysis) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(comparison.experiment)
            .bind(comparison.goal)
            .bind(comparison.variant)
            .bind(comparison.analysis)
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
            announced
        })?;
        if announced {
            self.outbox_wake.notify_waiters();
        }
        Ok(announced)
    }
}
