//! The SQLite executor of the event rules (`rules/`), on the writer's own
//! connection: it reads what the rules need from before the batch, writes
//! the rows they produce, and counts what the tables hold after. One writer
//! owns the file, so what it reads stays true until it commits; statements
//! are cached and cheap, and `RETURNING` is avoided (SQLite answers it
//! through a temporary table per statement, a cost the profile showed).

use super::rules::{Before, Plan, Settled, live_events, settle, units};
use super::{Action, Event, Routing, StoreError, Write, delivery_order};
use rusqlite::{OptionalExtension, Transaction, params};
use std::collections::{HashMap, HashSet};

/// Applies the events of `writes` inside `tx`: their delivery ids, event
/// ids, participants, views, conversions and given-back ids. The counters
/// and effects are the caller's to write.
pub(super) fn apply_events<'a>(
    tx: &Transaction,
    writes: &'a [Write],
    routing: &dyn Routing,
    now: i64,
) -> Result<Settled<'a>, StoreError> {
    let duplicate = claim_deliveries(tx, writes, now)?;
    let live = live_events(writes, &duplicate);
    let recorded_ids = claim_event_ids(tx, &live)?;
    let mut before = Before {
        recorded_ids,
        participants: HashMap::new(),
    };
    let mut views_before = HashMap::new();
    let plan = if live.iter().all(|e| e.action == Action::Enroll) {
        // New visitors: inserted before they are looked up, one statement
        // each. Enrolments give no id back and refuse nothing, so the plan
        // made as if no unit were on record enrols exactly the units the
        // inserts took; the others are looked up.
        let tentative = Plan::new(&live, &before);
        let mut taken = HashSet::new();
        for (&unit, &index) in &tentative.enrolments {
            if insert_participant(tx, live[index])? {
                taken.insert(unit);
            }
        }
        let known: Vec<_> = units(&live)
            .into_iter()
            .filter(|u| !taken.contains(u))
            .collect();
        read_participants(tx, &known, &mut before, &mut views_before)?;
        let plan = Plan::new(&live, &before);
        debug_assert!(plan.enrolments.keys().all(|u| taken.contains(u)));
        debug_assert_eq!(plan.enrolments.len(), taken.len());
        plan
    } else {
        read_participants(tx, &units(&live), &mut before, &mut views_before)?;
        let plan = Plan::new(&live, &before);
        for &index in plan.enrolments.values() {
            insert_participant(tx, live[index])?;
        }
        plan
    };
    let views_after = add_views(tx, &plan, &views_before)?;
    let repeats_after = add_conversions(tx, &live, &plan)?;
    let settled = settle(
        writes,
        &duplicate,
        &live,
        plan,
        &views_after,
        &repeats_after,
        routing,
    );
    let mut release = tx.prepare_cached("DELETE FROM ingest_ids WHERE id = ?1")?;
    for id in &settled.released {
        release.execute([id])?;
    }
    Ok(settled)
}

/// As on PostgreSQL: delivery ids first, in key order; whether each write's
/// id was recorded before (or earlier in this batch).
fn claim_deliveries(tx: &Transaction, writes: &[Write], now: i64) -> Result<Vec<bool>, StoreError> {
    let mut duplicate = vec![false; writes.len()];
    let mut insert = tx.prepare_cached(
        "INSERT INTO ingest_ids (id, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    for (index, id) in delivery_order(writes) {
        duplicate[index] = insert.execute(params![id.as_str(), now])? == 0;
    }
    Ok(duplicate)
}

/// Records the batch's event ids (the first event's time kept); returns
/// those recorded before the batch.
fn claim_event_ids(tx: &Transaction, events: &[&Event]) -> Result<HashSet<String>, StoreError> {
    let mut insert = tx.prepare_cached(
        "INSERT INTO ingest_ids (id, created_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?;
    let mut seen = HashSet::new();
    let mut recorded = HashSet::new();
    for event in events {
        let Some(id) = event.event_id.as_deref() else {
            continue;
        };
        if seen.insert(id) && insert.execute(params![id, event.at])? == 0 {
            recorded.insert(id.to_owned());
        }
    }
    Ok(recorded)
}

/// Adds the variant and views of each of `units` that is a participant.
fn read_participants(
    tx: &Transaction,
    units: &[(&str, &str)],
    before: &mut Before,
    views: &mut HashMap<(String, String), i64>,
) -> Result<(), StoreError> {
    let mut select = tx.prepare_cached(
        "SELECT variant, views FROM participants WHERE experiment = ?1 AND unit_id = ?2",
    )?;
    for &(experiment, unit) in units {
        let row: Option<(String, i64)> = select
            .query_row(params![experiment, unit], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        if let Some((variant, n)) = row {
            let key = (experiment.to_owned(), unit.to_owned());
            before.participants.insert(key.clone(), variant);
            views.insert(key, n);
        }
    }
    Ok(())
}

/// Inserts the participant `event` enrols; whether it was new.
fn insert_participant(tx: &Transaction, event: &Event) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached(
            "INSERT INTO participants (experiment, unit_id, variant, source, views, created_at) \
             VALUES (?1, ?2, ?3, ?4, 0, ?5) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            event.experiment.as_str(),
            event.unit_id,
            event.variant.as_str(),
            event.source.as_str(),
            event.at
        ])?
        == 1)
}

/// Adds the plan's views; each participant's views after them.
fn add_views(
    tx: &Transaction,
    plan: &Plan<'_>,
    before: &HashMap<(String, String), i64>,
) -> Result<HashMap<(String, String), i64>, StoreError> {
    let mut update = tx.prepare_cached(
        "UPDATE participants SET views = views + ?3 WHERE experiment = ?1 AND unit_id = ?2",
    )?;
    let mut after = HashMap::with_capacity(plan.views.len());
    for (&(experiment, unit), &n) in &plan.views {
        update.execute(params![experiment, unit, n])?;
        let key = (experiment.to_owned(), unit.to_owned());
        // A participant enrolled by this batch had none.
        let had = before.get(&key).copied().unwrap_or(0);
        after.insert(key, had + n);
    }
    Ok(after)
}

/// Records the plan's conversions; each row's repeats after them (a new
/// row counts its first conversion as none repeated).
fn add_conversions(
    tx: &Transaction,
    events: &[&Event],
    plan: &Plan<'_>,
) -> Result<HashMap<(String, String, String), i64>, StoreError> {
    let mut after = HashMap::with_capacity(plan.conversions.len());
    for (&(experiment, goal, unit), &(first, n)) in &plan.conversions {
        let repeats: Option<i64> = tx
            .prepare_cached(
                "SELECT repeats FROM conversions \
                 WHERE experiment = ?1 AND goal = ?2 AND unit_id = ?3",
            )?
            .query_row(params![experiment, goal, unit], |row| row.get(0))
            .optional()?;
        let now = match repeats {
            Some(repeats) => {
                tx.prepare_cached(
                    "UPDATE conversions SET repeats = repeats + ?4 \
                     WHERE experiment = ?1 AND goal = ?2 AND unit_id = ?3",
                )?
                .execute(params![experiment, goal, unit, n])?;
                repeats + n
            }
            None => {
                let e = events[first];
                tx.prepare_cached(
                    "INSERT INTO conversions (experiment, goal, unit_id, variant, repeats, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![experiment, goal, unit, e.variant.as_str(), n - 1, e.at])?;
                n - 1
            }
        };
        after.insert(
            (experiment.to_owned(), goal.to_owned(), unit.to_owned()),
            now,
        );
    }
    Ok(after)
}
