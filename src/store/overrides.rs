//! Run-time status overrides of experiments (`POST /experiments/{name}/status`):
//! a change and its notification rows commit in one transaction, so that a
//! change is announced exactly once however many instances share the store.

use super::StoreError;
use super::deadline::within;
use super::effects::{OutboxRow, enqueue};
use super::sql::SqlStore;
use sqlx::Connection;

/// One experiment's status as set at run time. The store keeps the strings
/// as given; the lifecycle layer parses them back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOverride {
    /// The experiment.
    pub experiment: String,
    /// `running`, `paused` or `concluded`.
    pub status: String,
    /// The winning variant of a concluded experiment.
    pub winner: Option<String>,
    /// Why, as the person who changed it said.
    pub reason: Option<String>,
    /// Unix milliseconds of the change.
    pub changed_at: i64,
}

/// `experiment, status, winner, reason, changed_at`.
type OverrideRow = (String, String, Option<String>, Option<String>, i64);

impl SqlStore {
    /// Every override, by experiment name.
    pub async fn overrides(&self) -> Result<Vec<StoredOverride>, StoreError> {
        let rows: Vec<OverrideRow> = within!(self, self.read_timeout, |conn| {
            sqlx::query_as(
                "SELECT experiment, status, winner, reason, changed_at \
                 FROM experiment_overrides ORDER BY experiment",
            )
            .fetch_all(conn)
            .await?
        })?;
        Ok(rows
            .into_iter()
            .map(
                |(experiment, status, winner, reason, changed_at)| StoredOverride {
                    experiment,
                    status,
                    winner,
                    reason,
                    changed_at,
                },
            )
            .collect())
    }

    /// Sets `change`, replacing an earlier override of another status or
    /// winner, and queues `rows`, the change's notifications, in the same
    /// transaction; returns whether anything changed. The comparison is part
    /// of the upsert, so that of two instances setting the same status at
    /// once exactly one records (and announces) it.
    pub async fn set_override(
        &self,
        change: &StoredOverride,
        rows: &[OutboxRow],
    ) -> Result<bool, StoreError> {
        let changed = within!(self, self.write_timeout, |conn| {
            let mut tx = conn.begin().await?;
            let changed = sqlx::query(
                "INSERT INTO experiment_overrides \
                 (experiment, status, winner, reason, changed_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (experiment) DO UPDATE SET status = excluded.status, \
                 winner = excluded.winner, reason = excluded.reason, \
                 changed_at = excluded.changed_at \
                 WHERE experiment_overrides.status <> excluded.status \
                 OR COALESCE(experiment_overrides.winner, '') <> COALESCE(excluded.winner, '')",
            )
            .bind(&change.experiment)
            .bind(&change.status)
            .bind(&change.winner)
            .bind(&change.reason)
            .bind(change.changed_at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if changed {
                for row in rows {
                    enqueue(&mut tx, row).await?;
                }
            }
            tx.commit().await?;
            changed
        })?;
        self.wake_outbox(changed && !rows.is_empty());
        Ok(changed)
    }

    /// Removes `experiment`'s override and, when there was one, queues
    /// `rows` in the same transaction; returns whether there was one (a
    /// second identical request changes and announces nothing).
    pub async fn clear_override(
        &self,
        experiment: &str,
        rows: &[OutboxRow],
    ) -> Result<bool, StoreError> {
        let removed = within!(self, self.write_timeout, |conn| {
            let mut tx = conn.begin().await?;
            let removed = sqlx::query("DELETE FROM experiment_overrides WHERE experiment = $1")
                .bind(experiment)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
            if removed {
                for row in rows {
                    enqueue(&mut tx, row).await?;
                }
            }
            tx.commit().await?;
            removed
        })?;
        self.wake_outbox(removed && !rows.is_empty());
        Ok(removed)
    }

    fn wake_outbox(&self, enqueued: bool) {
        if enqueued {
            self.outbox_wake.notify_waiters();
        }
    }
}
