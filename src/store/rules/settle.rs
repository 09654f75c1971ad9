//! What a batch of writes comes to once its events are resolved: each
//! write's outcome, the ids given back, the counters and the notifiers'
//! effects. Both executors call this; neither decides an outcome itself.

use super::increments::Increments;
use super::plan::{Plan, Unit};
use crate::store::{Applied, Effects, Event, Routing, Write, Written};
use std::collections::HashMap;

/// A batch settled: what to answer and what else to write.
#[derive(Debug)]
pub(in crate::store) struct Settled<'a> {
    /// One outcome per write, in order.
    pub written: Vec<Written>,
    /// Event and delivery ids recorded by this batch and given back by a
    /// refusal, for a corrected retry to use.
    pub released: Vec<&'a str>,
    /// Counter increments, in key order.
    pub increments: Increments,
    /// Digest sums and outbox rows.
    pub effects: Effects,
}

/// The events of the writes whose delivery id is not a duplicate, in order.
pub(in crate::store) fn live_events<'a>(writes: &'a [Write], duplicate: &[bool]) -> Vec<&'a Event> {
    writes
        .iter()
        .zip(duplicate)
        .filter(|(_, duplicate)| !**duplicate)
        .flat_map(|(write, _)| &write.events)
        .collect()
}

/// The distinct units of `events`, in key order.
pub(in crate::store) fn units<'a>(events: &[&'a Event]) -> Vec<Unit<'a>> {
    let mut units: Vec<Unit<'a>> = events
        .iter()
        .map(|e| (e.experiment.as_str(), e.unit_id.as_str()))
        .collect();
    units.sort_unstable();
    units.dedup();
    units
}

/// Settles `writes` from the plan of their live events and the counts the
/// database holds after the batch's views and conversions.
pub(in crate::store) fn settle<'a>(
    writes: &'a [Write],
    duplicate: &[bool],
    live: &[&'a Event],
    plan: Plan<'a>,
    views_after: &HashMap<(String, String), i64>,
    repeats_after: &HashMap<(String, String, String), i64>,
    routing: &dyn Routing,
) -> Settled<'a> {
    let mut released = plan.released_ids.clone();
    let (applied, increments) = plan.outcomes(live, views_after, repeats_after);
    let mut effects = Effects::default();
    for (event, outcome) in live.iter().zip(&applied) {
        routing.record(&mut effects, event, outcome);
    }
    let mut applied = applied.into_iter();
    let mut written = Vec::with_capacity(writes.len());
    for (write, duplicate) in writes.iter().zip(duplicate) {
        if *duplicate {
            written.push(Written::DuplicateDelivery);
            continue;
        }
        let mine: Vec<Applied> = applied.by_ref().take(write.events.len()).collect();
        if let (true, Some(id)) = (write.refusable, &write.delivery)
            && !mine.is_empty()
            && mine.iter().all(Applied::is_refusal)
        {
            // Answered 4xx: the sender may correct and retry with the same id.
            released.push(id.as_str());
        }
        written.push(Written::Applied(mine));
    }
    Settled {
        written,
        released,
        increments,
        effects,
    }
}
