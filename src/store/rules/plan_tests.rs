//! The plan against hand-written states of the database.

use super::*;
use crate::names::{ExperimentName, Goal, VariantName};
use crate::store::Source;

fn event(unit: &str, variant: &str, action: Action, id: Option<&str>) -> Event {
    Event {
        experiment: ExperimentName::parse("exp").unwrap(),
        variant: VariantName::parse(variant).unwrap(),
        unit_id: unit.to_owned(),
        action,
        source: Source::Webhook,
        event_id: id.map(str::to_owned),
        at: 1,
    }
}

fn convert() -> Action {
    Action::Convert(Goal::parse("goal").unwrap())
}

/// Resolves `events` as if the database answered what the plan implies.
fn resolve(events: &[Event], before: &Before, views: i64, repeats: i64) -> Vec<Applied> {
    let refs: Vec<&Event> = events.iter().collect();
    let plan = Plan::new(&refs, before);
    let views_after = plan
        .views
        .iter()
        .map(|(u, n)| ((u.0.to_owned(), u.1.to_owned()), views + n))
        .collect();
    let repeats_after = plan
        .conversions
        .iter()
        .map(|(c, (_, n))| {
            (
                (c.0.to_owned(), c.1.to_owned(), c.2.to_owned()),
                repeats + n,
            )
        })
        .collect();
    plan.outcomes(&refs, &views_after, &repeats_after).0
}

#[test]
fn a_new_units_enrolment_then_its_conversions_resolve_in_order() {
    let events = [
        event("u1", "A", Action::Enroll, None),
        event("u1", "A", convert(), None),
        event("u1", "A", convert(), None),
        event("u1", "B", Action::View, None),
    ];
    // A new conversion row holds `n - 1` repeats after the batch.
    let outcomes = resolve(&events, &Before::default(), 0, -1);
    assert_eq!(
        outcomes,
        [
            Applied::Enrolled {
                new: true,
                variant: "A".into()
            },
            Applied::Converted { first: true },
            Applied::Converted { first: false },
            Applied::VariantMismatch {
                recorded: "A".into()
            },
        ]
    );
}

#[test]
fn an_id_given_back_by_a_mismatch_is_usable_later_in_the_batch() {
    let mut before = Before::default();
    before
        .participants
        .insert(("exp".into(), "u1".into()), "A".into());
    let events = [
        event("u1", "B", Action::View, Some("e1")),
        event("u1", "A", Action::View, Some("e1")),
        event("u1", "A", Action::View, Some("e1")),
    ];
    let refs: Vec<&Event> = events.iter().collect();
    let plan = Plan::new(&refs, &before);
    assert!(plan.released_ids.is_empty());
    let outcomes = resolve(&events, &before, 3, 0);
    assert_eq!(
        outcomes,
        [
            Applied::VariantMismatch {
                recorded: "A".into()
            },
            Applied::Viewed { unique: false },
            Applied::DuplicateId,
        ]
    );
}

#[test]
fn an_id_recorded_before_makes_a_duplicate_and_is_never_released() {
    let mut before = Before::default();
    before.recorded_ids.insert("e1".into());
    before
        .participants
        .insert(("exp".into(), "u1".into()), "A".into());
    let events = [
        event("u1", "A", Action::View, Some("e1")),
        event("u1", "B", Action::View, Some("e2")),
    ];
    let refs: Vec<&Event> = events.iter().collect();
    let plan = Plan::new(&refs, &before);
    assert_eq!(plan.released_ids, ["e2"]);
    assert!(plan.enrolments.is_empty());
    assert_eq!(resolve(&events, &before, 0, 0)[0], Applied::DuplicateId);
}

#[test]
fn a_browsers_view_or_conversion_never_enrols_but_counts_once_the_unit_is_assigned() {
    let browser = |unit: &str, variant: &str, action: Action| Event {
        source: Source::Browser,
        ..event(unit, variant, action, None)
    };
    let events = [
        browser("sybil", "B", convert()),
        browser("sybil", "B", Action::View),
        browser("u1", "A", Action::Enroll),
        browser("u1", "A", convert()),
    ];
    let outcomes = resolve(&events, &Before::default(), 0, -1);
    assert_eq!(
        outcomes,
        [
            Applied::NotAssigned,
            Applied::NotAssigned,
            Applied::Enrolled {
                new: true,
                variant: "A".into()
            },
            Applied::Converted { first: true },
        ]
    );
    let refs: Vec<&Event> = events.iter().collect();
    let plan = Plan::new(&refs, &Before::default());
    assert_eq!(plan.enrolments.len(), 1, "only u1 enrols");
    assert!(plan.views.is_empty());
}
