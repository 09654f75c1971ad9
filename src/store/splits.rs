//! Each experiment's split as last put in force (`experiment_splits`), so
//! that a start can refuse a changed split exactly as a reload does, and
//! the explicit reset that lets an experiment start over.

use super::StoreError;
use super::deadline::within;
use super::sql::SqlStore;
use sqlx::Connection;

/// The tables whose rows belong to one run of an experiment: a reset moves
/// them to the archive name. (`digest_counts` stays: those events are
/// counted already and still due in the next digest.)
const RUN_TABLES: [&str; 6] = [
    "participants",
    "conversions",
    "counters",
    "verdicts",
    "announcements",
    "history_counts",
];

impl SqlStore {
    /// Every recorded split, `(experiment, split)`.
    pub async fn recorded_splits(&self) -> Result<Vec<(String, String)>, StoreError> {
        within!(self, self.read_timeout, |conn| {
            sqlx::query_as("SELECT experiment, split FROM experiment_splits")
                .fetch_all(conn)
                .await?
        })
    }

    /// Records `split` as `experiment`'s (replacing an earlier one).
    pub async fn record_split(
        &self,
        experiment: &str,
        split: &str,
        at_millis: i64,
    ) -> Result<(), StoreError> {
        within!(self, self.write_timeout, |conn| {
            sqlx::query(
                "INSERT INTO experiment_splits (experiment, split, recorded_at) \
                 VALUES ($1, $2, $3) \
                 ON CONFLICT (experiment) DO UPDATE SET split = excluded.split, \
                 recorded_at = excluded.recorded_at \
                 WHERE experiment_splits.split <> excluded.split",
            )
            .bind(experiment)
            .bind(split)
            .bind(at_millis)
            .execute(conn)
            .await?;
        })?;
        Ok(())
    }

    /// Moves every count of `experiment` to `archive` (a name no
    /// configuration uses, so `/results` no longer shows them, while the
    /// rows stay for whoever wants them) and forgets its split, in one
    /// transaction: the experiment starts over with no participants.
    /// Returns the participants moved.
    pub async fn reset_experiment(
        &self,
        experiment: &str,
        archive: &str,
    ) -> Result<u64, StoreError> {
        within!(self, self.write_timeout, |conn| {
            let mut tx = conn.begin().await?;
            let mut moved = 0;
            for table in RUN_TABLES {
                let done = sqlx::query(&format!(
                    "UPDATE {table} SET experiment = $1 WHERE experiment = $2"
                ))
                .bind(archive)
                .bind(experiment)
                .execute(&mut *tx)
                .await?;
                if table == "participants" {
                    moved = done.rows_affected();
                }
            }
            sqlx::query("DELETE FROM experiment_splits WHERE experiment = $1")
                .bind(experiment)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            moved
        })
    }
}
