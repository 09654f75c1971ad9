//! The rows a batch writes on the sqlx path (PostgreSQL), one multi-row
//! statement per table: views, conversions and counters (participants:
//! `sqlx_enrol.rs`). Which rows is the rules' to say (`rules/`).

use super::Event;
use super::StoreError;
use super::bulk::{MultiRow, Param};
use super::rules::{Increments, Plan};
use sqlx::AnyConnection;
use std::collections::HashMap;

/// Adds the plan's views; returns each participant's views after them.
pub(super) async fn add_views(
    conn: &mut AnyConnection,
    plan: &Plan<'_>,
) -> Result<HashMap<(String, String), i64>, StoreError> {
    let rows: Vec<[Param; 3]> = plan
        .views
        .iter()
        .map(|(&(experiment, unit), &n)| {
            [Param::Text(experiment), Param::Text(unit), Param::Int(n)]
        })
        .collect();
    let update = MultiRow {
        head: "UPDATE participants AS p SET views = p.views + d.n FROM (",
        tail: ") AS d (experiment, unit_id, n) \
               WHERE p.experiment = d.experiment AND p.unit_id = d.unit_id \
               RETURNING p.experiment, p.unit_id, p.views",
    };
    let after: HashMap<(String, String), i64> = update
        .fetch::<(String, String, i64), 3>(conn, &rows)
        .await?
        .into_iter()
        .map(|(e, u, views)| ((e, u), views))
        .collect();
    if after.len() != rows.len() {
        // Every participant viewed was on record or enrolled by this batch.
        return Err(sqlx::Error::RowNotFound.into());
    }
    Ok(after)
}

/// Records the plan's conversions; returns each row's repeats after them.
pub(super) async fn add_conversions(
    conn: &mut AnyConnection,
    events: &[&Event],
    plan: &Plan<'_>,
) -> Result<HashMap<(String, String, String), i64>, StoreError> {
    let rows: Vec<[Param; 6]> = plan
        .conversions
        .iter()
        .map(|(&(experiment, goal, unit), &(first, n))| {
            let e = events[first];
            [
                Param::Text(experiment),
                Param::Text(goal),
                Param::Text(unit),
                Param::Text(e.variant.as_str()),
                // A new row counts its first conversion as none repeated.
                Param::Int(n - 1),
                Param::Int(e.at),
            ]
        })
        .collect();
    let upsert = MultiRow {
        head: "INSERT INTO conversions (experiment, goal, unit_id, variant, repeats, created_at)",
        tail: "ON CONFLICT (experiment, goal, unit_id) \
               DO UPDATE SET repeats = conversions.repeats + excluded.repeats + 1 \
               RETURNING experiment, goal, unit_id, repeats",
    };
    Ok(upsert
        .fetch::<(String, String, String, i64), 6>(conn, &rows)
        .await?
        .into_iter()
        .map(|(e, g, u, repeats)| ((e, g, u), repeats))
        .collect())
}

/// Adds the batch's counter increments in key order, so that concurrent
/// instances lock counter rows in the same order.
pub(super) async fn add_increments(
    conn: &mut AnyConnection,
    increments: Increments,
) -> Result<(), StoreError> {
    let rows: Vec<[Param; 5]> = increments
        .iter()
        .map(|((experiment, variant, metric, goal), by)| {
            [
                Param::Text(experiment),
                Param::Text(variant),
                Param::Text(metric),
                Param::Text(goal),
                Param::Int(*by),
            ]
        })
        .collect();
    let upsert = MultiRow {
        head: "INSERT INTO counters (experiment, variant, metric, goal, value)",
        tail: "ON CONFLICT (experiment, variant, metric, goal) \
               DO UPDATE SET value = counters.value + excluded.value",
    };
    upsert.execute(conn, &rows).await?;
    Ok(())
}
