//! The event rules, property-tested through each backend's real executor
//! (`Store::apply`) against a deliberately simple model that applies events
//! one at a time to in-memory maps. Random batches with repeated event and
//! delivery ids, mismatched variants, repeated conversions, enrolments and
//! conversions of one unit in one batch, browser events for units not on
//! record, and a unit's events spread over several batches.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use splitcast::names::{ExperimentName, Goal, VariantName};
use splitcast::store::{
    Action, Applied, DeliveryId, Event, Source, Store, Write, Written, no_routing,
};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The model: what each rule says, one event at a time.
#[derive(Default)]
struct Model {
    ids: HashSet<String>,
    participants: HashMap<String, (String, i64)>,
    conversions: HashMap<(String, String), i64>,
    counters: BTreeMap<(String, String, String), i64>,
}

impl Model {
    /// A batch: its delivery ids are claimed first (a later write with an id
    /// taken earlier, in this batch or before, is a duplicate), then each
    /// write's events in order.
    fn apply(&mut self, writes: &[Write]) -> Vec<Written> {
        let duplicate: Vec<bool> = writes
            .iter()
            .map(|w| match &w.delivery {
                Some(id) => !self.ids.insert(id.as_str().to_owned()),
                None => false,
            })
            .collect();
        let mut out = Vec::new();
        for (write, duplicate) in writes.iter().zip(duplicate) {
            if duplicate {
                out.push(Written::DuplicateDelivery);
                continue;
            }
            let applied: Vec<Applied> = write.events.iter().map(|e| self.event(e)).collect();
            if let (true, Some(id)) = (write.refusable, &write.delivery)
                && !applied.is_empty()
                && applied.iter().all(Applied::is_refusal)
            {
                self.ids.remove(id.as_str());
            }
            out.push(Written::Applied(applied));
        }
        out
    }

    fn count(&mut self, variant: &str, metric: &str, goal: &str) {
        *self
            .counters
            .entry((variant.to_owned(), metric.to_owned(), goal.to_owned()))
            .or_default() += 1;
    }

    fn event(&mut self, e: &Event) -> Applied {
        if let Some(id) = &e.event_id
            && !self.ids.insert(id.clone())
        {
            return Applied::DuplicateId;
        }
        let release = |model: &mut Self| {
            if let Some(id) = &e.event_id {
                model.ids.remove(id);
            }
        };
        let variant = e.variant.as_str().to_owned();
        let new = match self.participants.get(&e.unit_id).cloned() {
            None if e.source == Source::Browser && e.action != Action::Enroll => {
                release(self);
                return Applied::NotAssigned;
            }
            None => {
                self.participants
                    .insert(e.unit_id.clone(), (variant.clone(), 0));
                self.count(&variant, "participants", "");
                true
            }
            Some((recorded, _)) if e.action == Action::Enroll => {
                return Applied::Enrolled {
                    new: false,
                    variant: recorded,
                };
            }
            Some((recorded, _)) if recorded != variant => {
                release(self);
                return Applied::VariantMismatch { recorded };
            }
            Some(_) => false,
        };
        match &e.action {
            Action::Enroll => Applied::Enrolled { new, variant },
            Action::View => {
                let views = &mut self.participants.get_mut(&e.unit_id).unwrap().1;
                *views += 1;
                let unique = *views == 1;
                self.count(&variant, "views", "");
                if unique {
                    self.count(&variant, "unique_views", "");
                }
                Applied::Viewed { unique }
            }
            Action::Convert(goal) => {
                let key = (goal.as_str().to_owned(), e.unit_id.clone());
                let first = !self.conversions.contains_key(&key);
                *self.conversions.entry(key).or_insert(-1) += 1;
                self.count(&variant, "total_conversions", goal.as_str());
                if first {
                    self.count(&variant, "conversions", goal.as_str());
                }
                Applied::Converted { first }
            }
        }
    }
}

fn event() -> impl Strategy<Value = Event> {
    (
        0..4_u8,
        prop_oneof![Just("A"), Just("B")],
        prop_oneof![
            Just(Action::Enroll),
            Just(Action::View),
            Just(Action::Convert(Goal::parse("g1").unwrap())),
            Just(Action::Convert(Goal::parse("g2").unwrap())),
        ],
        prop_oneof![Just(Source::Browser), Just(Source::Webhook)],
        proptest::option::weighted(0.4, 0..4_u8),
    )
        .prop_map(|(unit, variant, action, source, id)| Event {
            experiment: ExperimentName::parse("exp").unwrap(),
            variant: VariantName::parse(variant).unwrap(),
            unit_id: format!("u{unit}"),
            action,
            source,
            event_id: id.map(|i| format!("evt-{i}")),
            at: 1,
        })
}

fn write() -> impl Strategy<Value = Write> {
    (
        proptest::collection::vec(event(), 1..5),
        proptest::option::weighted(0.4, 0..3_u8),
        any::<bool>(),
    )
        .prop_map(|(events, delivery, refusable)| Write {
            delivery: delivery.map(|d| DeliveryId::idempotency_key(&format!("d{d}"))),
            events,
            refusable,
            probe: false,
        })
}

fn batches() -> impl Strategy<Value = Vec<Vec<Write>>> {
    proptest::collection::vec(proptest::collection::vec(write(), 1..6), 1..5)
}

/// The counters the store holds, keyed as the model keys them.
async fn stored(store: &dyn Store) -> BTreeMap<(String, String, String), i64> {
    store
        .counters()
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.value != 0)
        .map(|c| ((c.variant, c.metric, c.goal), c.value))
        .collect()
}

/// Runs `cases` random histories through stores that `open` makes.
fn check<F, Fut>(cases: u32, open: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (std::sync::Arc<dyn Store>, Option<tempfile::TempDir>)>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&batches(), |history| {
            runtime.block_on(async {
                let (store, _dir) = open().await;
                let mut model = Model::default();
                for (n, batch) in history.iter().enumerate() {
                    let expected = model.apply(batch);
                    let written = store.apply(batch).await.unwrap();
                    prop_assert_eq!(&written, &expected, "batch {}", n);
                }
                let counts = stored(store.as_ref()).await;
                prop_assert_eq!(counts, model.counters.clone());
                Ok(())
            })
        })
        .unwrap();
}

#[test]
fn the_sqlite_executor_applies_the_rules_of_the_model() {
    check(200, || async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("rules.db").display());
        let store = splitcast::store::open(&url.into(), no_routing())
            .await
            .unwrap();
        (store as std::sync::Arc<dyn Store>, Some(dir))
    });
}

#[test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
fn the_postgres_executor_applies_the_rules_of_the_model() {
    check(40, || async {
        let url = crate::postgres::fresh_database()
            .await
            .expect("PostgreSQL for this test");
        let store = splitcast::store::open(&url.into(), no_routing())
            .await
            .unwrap();
        (store as std::sync::Arc<dyn Store>, None)
    });
}
