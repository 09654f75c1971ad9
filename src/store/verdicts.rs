//! Significance verdicts: a change is recorded and its notification queued
//! in one transaction, and only by the instance whose write changed it.

use super::StoreError;
use super::routing::enqueue;
use super::sql::SqlStore;
use crate::notify::Notification;

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
    /// Records `significant` for `comparison`. When that changes the verdict
    /// on record (none on record counts as not significant), queues
    /// `notification` for every name in `notifiers` and returns true.
    pub async fn record_verdict(
        &self,
        comparison: &Comparison<'_>,
        significant: bool,
        notification: &Notification,
        notifiers: &[String],
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let flag = i64::from(significant);
        let inserted = sqlx::query(
            "INSERT INTO verdicts (experiment, goal, variant, significant) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (experiment, goal, variant) DO NOTHING",
        )
        .bind(comparison.experiment)
        .bind(comparison.goal)
        .bind(comparison.variant)
        .bind(flag)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        let changed = if inserted {
            significant
        } else {
            sqlx::query(
                "UPDATE verdicts SET significant = $4 \
                 WHERE experiment = $1 AND goal = $2 AND variant = $3 AND significant <> $4",
            )
            .bind(comparison.experiment)
            .bind(comparison.goal)
            .bind(comparison.variant)
            .bind(flag)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1
        };
        if changed {
            for notifier in notifiers {
                enqueue(&mut tx, notifier, notification).await?;
            }
        }
        tx.commit().await?;
        if changed {
            self.outbox_wake.notify_waiters();
        }
        Ok(changed)
    }
}
