//! A batch's events resolved in memory, in order, against what the database
//! held before the batch: which are duplicates, which enrol a new
//! participant, which contradict the variant on record, which a browser may
//! not record because only an assignment enrols from a browser, which event ids a
//! rejected event gives back. Events of one batch depend on earlier ones (a
//! new unit's enrolment then its conversion, two conversions of one unit, an
//! event id used twice), so they are walked here one by one, and each
//! executor asks its database once per table for what the walk needs.

use super::increments::{Increments, count};
use crate::store::{Action, Applied, Event, Source};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A participant: (experiment, unit id).
pub(in crate::store) type Unit<'a> = (&'a str, &'a str);
/// A conversion row: (experiment, goal, unit id).
pub(in crate::store) type Conversion<'a> = (&'a str, &'a str, &'a str);

/// What the database held before the batch, for the batch's ids and units.
#[derive(Debug, Default)]
pub(in crate::store) struct Before {
    /// Event ids of the batch recorded before it, by anyone.
    pub recorded_ids: HashSet<String>,
    /// The variant on record of each unit already a participant.
    pub participants: HashMap<(String, String), String>,
}

/// One event's outcome, or the row whose count the database has to tell.
#[derive(Debug)]
enum Step {
    Done(Applied),
    View,
    Convert,
}

/// The batch resolved: its outcomes, and the rows to write.
#[derive(Debug)]
pub(in crate::store) struct Plan<'a> {
    steps: Vec<Step>,
    /// New participants, with the index of the event that enrols each.
    pub enrolments: BTreeMap<Unit<'a>, usize>,
    /// Views to add per participant.
    pub views: BTreeMap<Unit<'a>, i64>,
    /// Conversions to record per row: the index of the first event, and how many.
    pub conversions: BTreeMap<Conversion<'a>, (usize, i64)>,
    /// Event ids recorded by this batch that rejected events gave back: a
    /// corrected retry may use them.
    pub released_ids: Vec<&'a str>,
}

impl<'a> Plan<'a> {
    /// Walks `events` in order from the state `before`.
    pub(in crate::store) fn new(events: &[&'a Event], before: &Before) -> Self {
        // Whether each of the batch's event ids is recorded at this point of the walk.
        let mut recorded: HashMap<&'a str, bool> = HashMap::new();
        let mut variants: HashMap<Unit<'a>, &str> = HashMap::new();
        let mut plan = Plan {
            steps: Vec::with_capacity(events.len()),
            enrolments: BTreeMap::new(),
            views: BTreeMap::new(),
            conversions: BTreeMap::new(),
            released_ids: Vec::new(),
        };
        for (index, event) in events.iter().enumerate() {
            let unit = (event.experiment.as_str(), event.unit_id.as_str());
            let id = event.event_id.as_deref();
            if let Some(id) = id {
                let known = recorded
                    .entry(id)
                    .or_insert_with(|| before.recorded_ids.contains(id));
                if *known {
                    plan.steps.push(Step::Done(Applied::DuplicateId));
                    continue;
                }
                *known = true;
            }
            let on_record = variants.get(&unit).copied().or_else(|| {
                before
                    .participants
                    .get(&(unit.0.to_owned(), unit.1.to_owned()))
                    .map(String::as_str)
            });
            let new = on_record.is_none();
            match on_record {
                None if event.source == Source::Browser && event.action != Action::Enroll => {
                    if let Some(id) = id {
                        recorded.insert(id, false);
                    }
                    plan.steps.push(Step::Done(Applied::NotAssigned));
                    continue;
                }
                None => {
                    plan.enrolments.insert(unit, index);
                    variants.insert(unit, event.variant.as_str());
                }
                Some(recorded_variant) if event.action == Action::Enroll => {
                    plan.steps.push(Step::Done(Applied::Enrolled {
                        new,
                        variant: recorded_variant.to_owned(),
                    }));
                    continue;
                }
                Some(recorded_variant) if recorded_variant != event.variant.as_str() => {
                    if let Some(id) = id {
                        // The rejected event must not consume its id.
                        recorded.insert(id, false);
                    }
                    plan.steps.push(Step::Done(Applied::VariantMismatch {
                        recorded: recorded_variant.to_owned(),
                    }));
                    continue;
                }
                Some(_) => {}
            }
            plan.steps.push(match &event.action {
                Action::Enroll => Step::Done(Applied::Enrolled {
                    new,
                    variant: event.variant.to_string(),
                }),
                Action::View => {
                    *plan.views.entry(unit).or_default() += 1;
                    Step::View
                }
                Action::Convert(goal) => {
                    let row = (unit.0, goal.as_str(), unit.1);
                    plan.conversions.entry(row).or_insert((index, 0)).1 += 1;
                    Step::Convert
                }
            });
        }
        // Ids recorded before the batch are never released: their events are duplicates.
        plan.released_ids = recorded
            .into_iter()
            .filter(|(_, recorded)| !recorded)
            .map(|(id, _)| id)
            .collect();
        plan.released_ids.sort_unstable();
        plan
    }

    /// The outcome of every event and the batch's counter increments, once
    /// the database told each participant's views after the batch and each
    /// conversion row's repeats after it.
    pub(in crate::store) fn outcomes(
        self,
        events: &[&'a Event],
        views_after: &HashMap<(String, String), i64>,
        repeats_after: &HashMap<(String, String, String), i64>,
    ) -> (Vec<Applied>, Increments) {
        let mut increments = Increments::new();
        let mut views_seen: HashMap<Unit<'a>, i64> = HashMap::new();
        let mut conversions_seen: HashMap<Conversion<'a>, i64> = HashMap::new();
        let mut outcomes = Vec::with_capacity(self.steps.len());
        for (index, (event, step)) in events.iter().zip(self.steps).enumerate() {
            let experiment = event.experiment.as_str();
            let variant = event.variant.as_str();
            let unit = (experiment, event.unit_id.as_str());
            if self.enrolments.get(&unit) == Some(&index) {
                count(&mut increments, experiment, variant, "participants", "");
            }
            let outcome = match step {
                Step::Done(outcome) => outcome,
                Step::View => {
                    let key = (unit.0.to_owned(), unit.1.to_owned());
                    let before = views_after[&key] - self.views[&unit];
                    let seen = views_seen.entry(unit).or_default();
                    *seen += 1;
                    let unique = before + *seen == 1;
                    count(&mut increments, experiment, variant, "views", "");
                    if unique {
                        count(&mut increments, experiment, variant, "unique_views", "");
                    }
                    Applied::Viewed { unique }
                }
                Step::Convert => {
                    let Action::Convert(goal) = &event.action else {
                        unreachable!("a conversion step is a conversion's")
                    };
                    let row = (experiment, goal.as_str(), unit.1);
                    let (_, batch) = self.conversions[&row];
                    let key = (row.0.to_owned(), row.1.to_owned(), row.2.to_owned());
                    // A new row holds `batch - 1` repeats after the batch,
                    // one that existed holds at least `batch`.
                    let existed = repeats_after[&key] >= batch;
                    let seen = conversions_seen.entry(row).or_default();
                    *seen += 1;
                    let first = !existed && *seen == 1;
                    count(
                        &mut increments,
                        experiment,
                        variant,
                        "total_conversions",
                        row.1,
                    );
                    if first {
                        count(&mut increments, experiment, variant, "conversions", row.1);
                    }
                    Applied::Converted { first }
                }
            };
            outcomes.push(outcome);
        }
        (outcomes, increments)
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
