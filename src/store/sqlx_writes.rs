//! The write path through sqlx, used on PostgreSQL (SQLite writes go
//! through `sqlite_writes.rs`, statement for statement the same rules): a
//! batch in one transaction, its delivery ids first.

use super::effects::{Effects, write_effects};
use super::increments::{Increments, count};
use super::sql::SqlStore;
use super::{Action, Applied, Event, StoreError, Write, Written, delivery_order};
use sqlx::AnyConnection;
use sqlx::Connection;

impl SqlStore {
    /// Applies `writes` in one transaction on `conn`.
    pub(super) async fn apply_on(
        &self,
        conn: &mut AnyConnection,
        writes: &[Write],
    ) -> Result<Vec<Written>, StoreError> {
        let mut tx = conn.begin().await?;
        let duplicate = claim_deliveries(&mut tx, writes).await?;
        let live: Vec<&Event> = writes
            .iter()
            .zip(&duplicate)
            .filter(|(_, duplicate)| !**duplicate)
            .flat_map(|(write, _)| &write.events)
            .collect();
        let mut increments = Increments::new();
        let mut effects = Effects::default();
        let mut enrolled = super::bulk::enroll_new(&mut tx, &live, &mut increments).await?;
        let mut applied = Vec::with_capacity(live.len());
        for (index, event) in live.into_iter().enumerate() {
            let outcome = match enrolled.remove(&index) {
                Some(outcome) => outcome,
                None => apply_one(&mut tx, event, &mut increments).await?,
            };
            self.routing.record(&mut effects, event, &outcome);
            applied.push(outcome);
        }
        let mut applied = applied.into_iter();
        let mut outcomes = Vec::with_capacity(writes.len());
        for (write, duplicate) in writes.iter().zip(duplicate) {
            if duplicate {
                outcomes.push(Written::DuplicateDelivery);
                continue;
            }
            let mine: Vec<Applied> = applied.by_ref().take(write.events.len()).collect();
            if let (true, Some(id), [Applied::VariantMismatch { .. }]) =
                (write.single, &write.delivery, mine.as_slice())
            {
                // Answered 4xx: the sender may correct and retry with the same id.
                sqlx::query("DELETE FROM ingest_ids WHERE id = $1")
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            outcomes.push(Written::Applied(mine));
        }
        add_increments(&mut tx, increments).await?;
        let enqueued = write_effects(&mut tx, effects).await?;
        if writes.iter().any(|w| w.probe) {
            sqlx::query(
                "INSERT INTO writer_probe (id, at) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            )
            .bind(crate::clock::now_secs())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        if enqueued {
            self.outbox_wake.notify_waiters();
        }
        Ok(outcomes)
    }
}

/// Records the batch's delivery ids first, in key order, so that two
/// instances committing the same id wait on each other rather than
/// deadlock; returns, per write, whether its id was recorded before (or
/// earlier in this batch).
async fn claim_deliveries(
    conn: &mut AnyConnection,
    writes: &[Write],
) -> Result<Vec<bool>, StoreError> {
    let mut duplicate = vec![false; writes.len()];
    let order = delivery_order(writes);
    let now = crate::clock::now_secs();
    for (index, id) in order {
        let inserted = sqlx::query(
            "INSERT INTO ingest_ids (id, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id.as_str())
        .bind(now)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        duplicate[index] = inserted == 0;
    }
    Ok(duplicate)
}

async fn add_increments(
    conn: &mut AnyConnection,
    increments: Increments,
) -> Result<(), StoreError> {
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
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

async fn apply_one(
    conn: &mut AnyConnection,
    event: &Event,
    increments: &mut Increments,
) -> Result<Applied, StoreError> {
    let experiment = event.experiment.as_str();
    let mut count = |variant: &str, metric: &'static str, goal: &str| {
        count(increments, experiment, variant, metric, goal)
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
