//! The PostgreSQL executor of the event rules (`rules/`): a batch in one
//! transaction, its delivery ids first, then one multi-row statement per
//! table, so that a batch costs a bounded number of round trips whatever
//! its size. What the rules need from before the batch is told by the
//! enrolment statement (`sqlx_enrol.rs`); the counts after it by the
//! statements' `RETURNING` (`sqlx_tables.rs`), exact under concurrent
//! instances.

use super::bulk::{MultiRow, Param};
use super::effects::write_effects;
use super::rules::{Before, Plan, Settled, live_events, settle, units};
use super::sql::SqlStore;
use super::sqlx_enrol::{insert, matches, on_record};
use super::sqlx_tables::{add_conversions, add_increments, add_views};
use super::{Action, Event, StoreError, Write, Written, delivery_order};
use sqlx::{AnyConnection, Connection};
use std::collections::HashSet;

/// Transactions tried for one batch before it is refused: a try is given up
/// only when another instance enrolled one of its new units meanwhile, and
/// the next try sees that unit.
const MAX_TRIES: usize = 4;

/// What one try of a batch came to.
enum Try {
    /// Ready to commit: the outcomes, and whether outbox rows were added.
    Applied(Vec<Written>, bool),
    /// Another instance enrolled one of the batch's new units after the
    /// batch read the participants: the plan is void.
    Raced,
}

impl SqlStore {
    /// Applies `writes` in one transaction on `conn`.
    pub(super) async fn apply_on(
        &self,
        conn: &mut AnyConnection,
        writes: &[Write],
    ) -> Result<Vec<Written>, StoreError> {
        // New visitors are inserted before they are looked up (one round
        // trip instead of two); a retry looks up first, which is exact
        // whatever the batch holds.
        let new_visitors = writes
            .iter()
            .flat_map(|w| &w.events)
            .all(|e| e.action == Action::Enroll);
        for attempt in 0..MAX_TRIES {
            let mut tx = conn.begin().await?;
            let insert_first = new_visitors && attempt == 0;
            match self.try_batch(&mut tx, writes, insert_first).await? {
                Try::Applied(outcomes, enqueued) => {
                    tx.commit().await?;
                    if enqueued {
                        self.outbox_wake.notify_waiters();
                    }
                    return Ok(outcomes);
                }
                Try::Raced => tx.rollback().await?,
            }
        }
        Err(StoreError::Contended)
    }

    async fn try_batch(
        &self,
        conn: &mut AnyConnection,
        writes: &[Write],
        insert_first: bool,
    ) -> Result<Try, StoreError> {
        let duplicate = claim_deliveries(conn, writes).await?;
        let live = live_events(writes, &duplicate);
        let recorded_ids = claim_event_ids(conn, &live).await?;
        let plan = if insert_first {
            let tentative = Plan::new(
                &live,
                &Before {
                    recorded_ids: recorded_ids.clone(),
                    participants: Default::default(),
                },
            );
            let inserted = insert(conn, &live, &tentative).await?;
            let left_out: Vec<_> = units(&live)
                .into_iter()
                .filter(|&(e, u)| !inserted.contains_key(&(e.to_owned(), u.to_owned())))
                .collect();
            let before = Before {
                recorded_ids,
                participants: on_record(conn, &left_out).await?,
            };
            let plan = Plan::new(&live, &before);
            // Enrolments never give an event id back, so the plans agree;
            // should they not, the lookup-first retry is exact.
            if !matches(&live, &plan, &inserted) {
                return Ok(Try::Raced);
            }
            plan
        } else {
            let before = Before {
                recorded_ids,
                participants: on_record(conn, &units(&live)).await?,
            };
            let plan = Plan::new(&live, &before);
            if !matches(&live, &plan, &insert(conn, &live, &plan).await?) {
                // Another instance enrolled one of these units since the lookup.
                return Ok(Try::Raced);
            }
            plan
        };
        let views_after = add_views(conn, &plan).await?;
        let repeats_after = add_conversions(conn, &live, &plan).await?;
        let Settled {
            written,
            released,
            increments,
            effects,
        } = settle(
            writes,
            &duplicate,
            &live,
            plan,
            &views_after,
            &repeats_after,
            self.routing.as_ref(),
        );
        release_ids(conn, &released).await?;
        add_increments(conn, increments).await?;
        let enqueued = write_effects(conn, effects).await?;
        if writes.iter().any(|w| w.probe) {
            sqlx::query(
                "INSERT INTO writer_probe (id, at) VALUES (1, $1) \
                 ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            )
            .bind(crate::clock::now_secs())
            .execute(&mut *conn)
            .await?;
        }
        Ok(Try::Applied(written, enqueued))
    }
}

/// Records the batch's delivery ids first, in key order (one statement
/// inserts its rows in the order given), so that two instances committing
/// the same id wait on each other rather than deadlock; returns, per write,
/// whether its id was recorded before (or earlier in this batch).
async fn claim_deliveries(
    conn: &mut AnyConnection,
    writes: &[Write],
) -> Result<Vec<bool>, StoreError> {
    let mut duplicate = vec![false; writes.len()];
    let order = delivery_order(writes);
    let now = crate::clock::now_secs();
    let mut rows: Vec<[Param; 2]> = order
        .iter()
        .map(|(_, id)| [Param::Text(id.as_str()), Param::Int(now)])
        .collect();
    rows.dedup();
    let fresh: HashSet<String> = INSERT_IDS
        .fetch::<(String,), 2>(conn, &rows)
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect();
    let mut seen = HashSet::new();
    for (index, id) in order {
        // The first write with an id gets it; a later one in the batch is its duplicate.
        duplicate[index] = !seen.insert(id.as_str()) || !fresh.contains(id.as_str());
    }
    Ok(duplicate)
}

const INSERT_IDS: MultiRow = MultiRow {
    head: "INSERT INTO ingest_ids (id, created_at)",
    tail: "ON CONFLICT DO NOTHING RETURNING id",
};

/// Records the batch's event ids, in key order; returns those recorded
/// before (which make their first event a duplicate). Whether a later event
/// with the same id is a duplicate is the plan's to say.
async fn claim_event_ids(
    conn: &mut AnyConnection,
    events: &[&Event],
) -> Result<HashSet<String>, StoreError> {
    let mut ids: Vec<(&str, i64)> = events
        .iter()
        .filter_map(|e| Some((e.event_id.as_deref()?, e.at)))
        .collect();
    // The first event's time is the one kept, as when they were recorded one by one.
    ids.sort_by_key(|(id, _)| *id);
    ids.dedup_by_key(|(id, _)| *id);
    let rows: Vec<[Param; 2]> = ids
        .iter()
        .map(|(id, at)| [Param::Text(id), Param::Int(*at)])
        .collect();
    let fresh: HashSet<String> = INSERT_IDS
        .fetch::<(String,), 2>(conn, &rows)
        .await?
        .into_iter()
        .map(|(id,)| id)
        .collect();
    Ok(ids
        .into_iter()
        .filter(|(id, _)| !fresh.contains(*id))
        .map(|(id, _)| id.to_owned())
        .collect())
}

/// Deletes ids this batch recorded and then gave back.
async fn release_ids(conn: &mut AnyConnection, ids: &[&str]) -> Result<(), StoreError> {
    let rows: Vec<[Param; 1]> = ids.iter().map(|id| [Param::Text(id)]).collect();
    let delete = MultiRow {
        head: "DELETE FROM ingest_ids WHERE id IN (",
        tail: ")",
    };
    delete.execute(conn, &rows).await?;
    Ok(())
}
