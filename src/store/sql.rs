//! The SQL store, shared by SQLite and PostgreSQL through sqlx's `Any`
//! driver: the statements below are valid on both (`$n` parameters,
//! `ON CONFLICT`, `RETURNING`).

use super::routing::NotifyRouting;
use super::{Action, Applied, Counter, Event, Store, StoreError};
use crate::notify::EventKind;
use sqlx::AnyConnection;
use sqlx::AnyPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// Which database is behind the pool, for the few statements that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite (WAL).
    Sqlite,
    /// PostgreSQL, possibly shared by several instances.
    Postgres,
}

/// The SQL implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(super) pool: AnyPool,
    pub(super) backend: Backend,
    pub(super) routing: NotifyRouting,
    /// Woken after a commit that added outbox rows, so workers need not poll.
    pub(super) outbox_wake: Arc<Notify>,
}

/// Counter increments of one batch, keyed (experiment, variant, metric, goal)
/// and applied in key order so that concurrent instances lock rows in the
/// same order.
pub(super) type Increments = BTreeMap<(String, String, &'static str, String), i64>;

impl SqlStore {
    /// The connection pool.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Notified whenever a commit adds outbox rows.
    pub fn outbox_wake(&self) -> Arc<Notify> {
        self.outbox_wake.clone()
    }

    pub(super) fn new(pool: AnyPool, backend: Backend, routing: NotifyRouting) -> Self {
        Self {
            pool,
            backend,
            routing,
            outbox_wake: Arc::new(Notify::new()),
        }
    }
}

#[async_trait::async_trait]
impl Store for SqlStore {
    async fn apply(&self, events: &[Event]) -> Result<Vec<Applied>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut increments = Increments::new();
        let mut outcomes = Vec::with_capacity(events.len());
        let mut enqueued = false;
        let mut enrolled = super::bulk::enroll_new(&mut tx, events, &mut increments).await?;
        for (index, event) in events.iter().enumerate() {
            let applied = match enrolled.remove(&index) {
                Some(applied) => applied,
                None => apply_one(&mut tx, event, &mut increments).await?,
            };
            let routed = match (&applied, &event.action) {
                (Applied::Viewed { .. }, _) => Some((EventKind::PageView, None)),
                (Applied::Converted { first: true }, Action::Convert(goal)) => {
                    Some((EventKind::Conversion, Some(goal.as_str())))
                }
                _ => None,
            };
            if let Some((kind, goal)) = routed {
                enqueued |= self.routing.route(&mut tx, event, kind, goal).await?;
            }
            outcomes.push(applied);
        }
        for ((experiment, variant, metric, goal), by) in increments {
            sqlx::query(
                "INSERT INTO counters (experiment, variant, metric, goal, value) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (experiment, variant, metric, goal) \
                 DO UPDATE SET value = counters.value + excluded.value",
            )
            .bind(experiment)
            .bind(variant)
            .bind(metric)
            .bind(goal)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        if enqueued {
            self.outbox_wake.notify_waiters();
        }
        Ok(outcomes)
    }

    async fn counters(&self) -> Result<Vec<Counter>, StoreError> {
        let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT experiment, variant, metric, goal, value FROM counters \
             ORDER BY experiment, variant, metric, goal",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(experiment, variant, metric, goal, value)| Counter {
                experiment,
                variant,
                metric,
                goal,
                value,
            })
            .collect())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn delivery_seen(&self, id: &str) -> Result<bool, StoreError> {
        let seen: Option<i64> = sqlx::query_scalar("SELECT 1 FROM ingest_ids WHERE id = $1")
            .bind(format!("whdelivery:{id}"))
            .fetch_optional(&self.pool)
            .await?;
        Ok(seen.is_some())
    }

    async fn remember_delivery(&self, id: &str, at: i64) -> Result<bool, StoreError> {
        // Shares the event ids' table; the prefix keeps the two kinds of ids apart.
        let inserted = sqlx::query(
            "INSERT INTO ingest_ids (id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(format!("whdelivery:{id}"))
        .bind(at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn first_participant_at(&self, experiment: &str) -> Result<Option<i64>, StoreError> {
        let first: Option<i64> =
            sqlx::query_scalar("SELECT MIN(created_at) FROM participants WHERE experiment = $1")
                .bind(experiment)
                .fetch_one(&self.pool)
                .await?;
        Ok(first)
    }
}

async fn apply_one(
    conn: &mut AnyConnection,
    event: &Event,
    increments: &mut Increments,
) -> Result<Applied, StoreError> {
    let experiment = event.experiment.as_str();
    let mut count = |variant: &str, metric: &'static str, goal: &str| {
        *increments
            .entry((
                experiment.to_owned(),
                variant.to_owned(),
                metric,
                goal.to_owned(),
            ))
            .or_default() += 1;
    };
    if let Some(id) = &event.event_id {
        let fresh = sqlx::query(
            "INSERT INTO ingest_ids (id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(event.at)
        .execute(&mut *conn)
        .await?
        .rows_affected()
            == 1;
        if !fresh {
            return Ok(Applied::DuplicateId);
        }
    }
    let new = sqlx::query(
        "INSERT INTO participants (experiment, unit_id, variant, source, views, created_at) \
         VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT DO NOTHING",
    )
    .bind(experiment)
    .bind(&event.unit_id)
    .bind(event.variant.as_str())
    .bind(event.source.as_str())
    .bind(event.at)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if new {
        count(event.variant.as_str(), "participants", "");
    } else {
        let recorded: String = sqlx::query_scalar(
            "SELECT variant FROM participants WHERE experiment = $1 AND unit_id = $2",
        )
        .bind(experiment)
        .bind(&event.unit_id)
        .fetch_one(&mut *conn)
        .await?;
        if event.action == Action::Enroll {
            return Ok(Applied::Enrolled {
                new,
                variant: recorded,
            });
        }
        if recorded != event.variant.as_str() {
            if let Some(id) = &event.event_id {
                // The rejected event must not consume its id: a corrected retry may reuse it.
                sqlx::query("DELETE FROM ingest_ids WHERE id = $1")
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            return Ok(Applied::VariantMismatch { recorded });
        }
    }
    let variant = event.variant.as_str();
    Ok(match &event.action {
        Action::Enroll => Applied::Enrolled {
            new,
            variant: variant.to_owned(),
        },
        Action::View => {
            let views: i64 = sqlx::query_scalar(
                "UPDATE participants SET views = views + 1 \
                 WHERE experiment = $1 AND unit_id = $2 RETURNING views",
            )
            .bind(experiment)
            .bind(&event.unit_id)
            .fetch_one(&mut *conn)
            .await?;
            count(variant, "views", "");
            if views == 1 {
                count(variant, "unique_views", "");
            }
            Applied::Viewed { unique: views == 1 }
        }
        Action::Convert(goal) => {
            let repeats: i64 = sqlx::query_scalar(
                "INSERT INTO conversions (experiment, goal, unit_id, variant, repeats, created_at) \
                 VALUES ($1, $2, $3, $4, 0, $5) \
                 ON CONFLICT (experiment, goal, unit_id) \
                 DO UPDATE SET repeats = conversions.repeats + 1 RETURNING repeats",
            )
            .bind(experiment)
            .bind(goal.as_str())
            .bind(&event.unit_id)
            .bind(variant)
            .bind(event.at)
            .fetch_one(&mut *conn)
            .await?;
            count(variant, "total_conversions", goal.as_str());
            if repeats == 0 {
                count(variant, "conversions", goal.as_str());
            }
            Applied::Converted {
                first: repeats == 0,
            }
        }
    })
}
