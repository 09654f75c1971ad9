//! Results over time: snapshots of the counters, each recorded once per
//! cluster. The first instance to insert a point's row copies the counters
//! into it in the same transaction; any other instance recording the same
//! point finds the row taken and copies nothing.

use super::StoreError;
use super::deadline::within;
use super::sql::SqlStore;
use sqlx::Connection;

/// Why a point was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointCause {
    /// The periodic snapshot of an interval's slot.
    Interval,
    /// An experiment was concluded, paused or resumed.
    Lifecycle,
}

impl PointCause {
    fn as_str(self) -> &'static str {
        match self {
            Self::Interval => "interval",
            Self::Lifecycle => "lifecycle",
        }
    }
}

/// The counts of one variant at one point, for one goal (`""`: the row that
/// carries participants alone, present whenever the variant had any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryCount {
    /// Variant name.
    pub variant: String,
    /// Goal name; empty on the participants-only row.
    pub goal: String,
    /// Participants of the variant then.
    pub participants: i64,
    /// Unique conversions on the goal then (0 on the participants-only row).
    pub conversions: i64,
}

/// One point of an experiment's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPoint {
    /// Unix milliseconds.
    pub at_millis: i64,
    /// The experiment's counts then; empty when it had none yet.
    pub counts: Vec<HistoryCount>,
}

impl SqlStore {
    /// Records the point at `at_millis` (unix milliseconds) with the counters
    /// as they are now. Returns true when this call inserted it; false when
    /// the point existed already (another instance, or an earlier call, took
    /// it), in which case nothing changes.
    pub async fn record_history_point(
        &self,
        at_millis: i64,
        cause: PointCause,
    ) -> Result<bool, StoreError> {
        within!(self, self.write_timeout, |conn| {
            let mut tx = conn.begin().await?;
            // The point's row first: on PostgreSQL a second instance waits here
            // for the first one's commit and then finds the point taken.
            let inserted = sqlx::query(
                "INSERT INTO history_points (at, cause) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(at_millis)
            .bind(cause.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if inserted {
                sqlx::query(
                    "INSERT INTO history_counts \
                       (at, experiment, variant, goal, participants, conversions) \
                     SELECT $1, experiment, variant, '', value, 0 FROM counters \
                       WHERE metric = 'participants' AND goal = '' \
                     UNION ALL \
                     SELECT $1, c.experiment, c.variant, c.goal, COALESCE(p.value, 0), c.value \
                       FROM counters c LEFT JOIN counters p \
                         ON p.experiment = c.experiment AND p.variant = c.variant \
                        AND p.metric = 'participants' AND p.goal = '' \
                       WHERE c.metric = 'conversions' AND c.goal <> ''",
                )
                .bind(at_millis)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            inserted
        })
    }

    /// [`super::Store::history`].
    pub(super) async fn history_points(
        &self,
        experiment: &str,
    ) -> Result<Vec<HistoryPoint>, StoreError> {
        type Row = (
            i64,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<i64>,
        );
        let rows: Vec<Row> = within!(self, self.read_timeout, |conn| {
            sqlx::query_as(
                "SELECT p.at, c.variant, c.goal, c.participants, c.conversions \
                 FROM history_points p LEFT JOIN history_counts c \
                   ON c.experiment = $1 AND c.at = p.at \
                 ORDER BY p.at, c.variant, c.goal",
            )
            .bind(experiment)
            .fetch_all(conn)
            .await?
        })?;
        let mut points: Vec<HistoryPoint> = Vec::new();
        for (at_millis, variant, goal, participants, conversions) in rows {
            if points.last().is_none_or(|p| p.at_millis != at_millis) {
                points.push(HistoryPoint {
                    at_millis,
                    counts: Vec::new(),
                });
            }
            if let (Some(variant), Some(goal)) = (variant, goal) {
                let point = points.last_mut().expect("pushed above");
                point.counts.push(HistoryCount {
                    variant,
                    goal,
                    participants: participants.unwrap_or(0),
                    conversions: conversions.unwrap_or(0),
                });
            }
        }
        Ok(points)
    }
}
