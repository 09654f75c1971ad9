//! Enrolment on the sqlx path (PostgreSQL), in whichever order costs the
//! batch fewer round trips. Returning units (views, conversions) are looked
//! up first and only the new ones inserted. New visitors are inserted first,
//! planned as if none were on record (a tentative plan), and only the units
//! the insert left out are looked up: a batch of new visitors is then one
//! statement.

use super::bulk::{MultiRow, Param};
use super::rules::{Plan, Unit};
use super::{Event, StoreError};
use sqlx::AnyConnection;
use std::collections::HashMap;

/// The participants on record before this batch, by (experiment, unit).
pub(super) type OnRecord = HashMap<(String, String), String>;

/// The variant on record of each of `units` that is a participant.
pub(super) async fn on_record(
    conn: &mut AnyConnection,
    units: &[Unit<'_>],
) -> Result<OnRecord, StoreError> {
    let rows: Vec<[Param; 2]> = units
        .iter()
        .map(|&(experiment, unit)| [Param::Text(experiment), Param::Text(unit)])
        .collect();
    let select = MultiRow {
        head: "SELECT experiment, unit_id, variant FROM participants \
               WHERE (experiment, unit_id) IN (",
        tail: ")",
    };
    let rows: Vec<(String, String, String)> = select.fetch(conn, &rows).await?;
    Ok(rows.into_iter().map(|(e, u, v)| ((e, u), v)).collect())
}

/// Inserts `plan`'s enrolments in key order (two instances enrolling the
/// same units wait on each other rather than deadlock); returns the units
/// inserted, with their variant. A unit left out was enrolled by someone
/// else, committed by the time this returns.
pub(super) async fn insert(
    conn: &mut AnyConnection,
    events: &[&Event],
    plan: &Plan<'_>,
) -> Result<HashMap<(String, String), String>, StoreError> {
    let rows: Vec<[Param; 5]> = plan
        .enrolments
        .iter()
        .map(|(&(experiment, unit), &index)| {
            let e = events[index];
            [
                Param::Text(experiment),
                Param::Text(unit),
                Param::Text(e.variant.as_str()),
                Param::Text(e.source.as_str()),
                Param::Int(e.at),
            ]
        })
        .collect();
    let statement = MultiRow {
        head: "INSERT INTO participants (experiment, unit_id, variant, source, created_at)",
        tail: "ON CONFLICT DO NOTHING RETURNING experiment, unit_id, variant",
    };
    let inserted: Vec<(String, String, String)> = statement.fetch(conn, &rows).await?;
    Ok(inserted.into_iter().map(|(e, u, v)| ((e, u), v)).collect())
}

/// Whether `inserted` is exactly what `plan` enrols.
pub(super) fn matches(
    events: &[&Event],
    plan: &Plan<'_>,
    inserted: &HashMap<(String, String), String>,
) -> bool {
    inserted.len() == plan.enrolments.len()
        && plan.enrolments.iter().all(|(&(e, u), &index)| {
            inserted
                .get(&(e.to_owned(), u.to_owned()))
                .map(String::as_str)
                == Some(events[index].variant.as_str())
        })
}
