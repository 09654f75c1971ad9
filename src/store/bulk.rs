//! New participants of a batch enrolled with one multi-row statement, on the
//! sqlx write path (PostgreSQL): each statement is a round trip to the
//! server, which would dominate the cost of a new visitor.

use super::increments::Increments;
use super::{Action, Applied, Event, StoreError};
use sqlx::AnyConnection;
use std::collections::{HashMap, HashSet};

/// Rows per statement: 5 parameters each stays far below SQLite's limit.
const ROWS_PER_STATEMENT: usize = 200;

/// Inserts the batch's plain enrolments at once. Returns the outcome of the
/// events that enrolled a new participant, by index; the others (a unit
/// already enrolled, or enrolled earlier in the batch) are left to the
/// per-event path, which reads the variant on record.
pub(super) async fn enroll_new(
    conn: &mut AnyConnection,
    events: &[&Event],
    increments: &mut Increments,
) -> Result<HashMap<usize, Applied>, StoreError> {
    let candidates: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.action == Action::Enroll && e.event_id.is_none())
        .map(|(i, _)| i)
        .collect();
    let mut applied = HashMap::new();
    for chunk in candidates.chunks(ROWS_PER_STATEMENT) {
        let values: Vec<String> = (0..chunk.len())
            .map(|row| {
                let p = row * 5;
                format!(
                    "(${}, ${}, ${}, ${}, 0, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO participants (experiment, unit_id, variant, source, views, created_at) \
             VALUES {} ON CONFLICT DO NOTHING RETURNING experiment, unit_id",
            values.join(", ")
        );
        let mut query = sqlx::query_as::<_, (String, String)>(&sql);
        for &i in chunk {
            let e = &events[i];
            query = query
                .bind(e.experiment.as_str())
                .bind(e.unit_id.as_str())
                .bind(e.variant.as_str())
                .bind(e.source.as_str())
                .bind(e.at);
        }
        let mut inserted: HashSet<(String, String)> =
            query.fetch_all(&mut *conn).await?.into_iter().collect();
        for &i in chunk {
            let e = &events[i];
            // The first event of a unit in the statement is the row inserted.
            if inserted.remove(&(e.experiment.to_string(), e.unit_id.clone())) {
                let key = (
                    e.experiment.to_string(),
                    e.variant.to_string(),
                    "participants",
                    String::new(),
                );
                *increments.entry(key).or_default() += 1;
                applied.insert(
                    i,
                    Applied::Enrolled {
                        new: true,
                        variant: e.variant.to_string(),
                    },
                );
            }
        }
    }
    Ok(applied)
}
