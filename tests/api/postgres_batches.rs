//! The PostgreSQL write path resolves a batch in memory and writes it one
//! statement per table; the SQLite writer applies it event by event. Both
//! must give the same answers and counts for the same writes: checked here
//! through `/webhook` and, with generated batches, through the store.

use crate::helpers::{BASE, TestApp, spawn_app_from};
use crate::postgres::fresh_database;
use crate::webhook::{TOKEN, config, now, sign};
use serde_json::{Value, json};
use splitcast::names::{ExperimentName, Goal, VariantName};
use splitcast::store::{
    Action, Applied, DeliveryId, Event, Source, SqlStore, Store, Write, Written, no_routing,
};
use std::sync::Arc;

/// Users enrolled, viewed and converted before the large delivery.
fn seed_items() -> Vec<Value> {
    let mut items = Vec::new();
    for i in 0..60 {
        let variant = if i % 2 == 0 { "A" } else { "B" };
        items.push(
            json!({"user_id": format!("old-{i}"), "version": variant, "id": format!("seed-{i}")}),
        );
        if i < 20 {
            items.push(
                json!({"user_id": format!("old-{i}"), "version": variant, "event": "page_view"}),
            );
        }
    }
    items
}

/// 500 items: new users enrolled then viewed and converted again in the same
/// delivery, returning users' repeated conversions, event ids seen before and
/// twice within the delivery, variant mismatches whose ids a later item
/// reuses, hash-assigned users, an unknown goal and a paused experiment.
fn large_delivery() -> Vec<Value> {
    (0..500)
        .map(|i| {
            let new_user = format!("new-{}", i / 10);
            let new_variant = if (i / 10) % 2 == 0 { "B" } else { "A" };
            let old = (i * 7) % 60;
            let old_user = format!("old-{old}");
            let (old_variant, other) = if old % 2 == 0 { ("A", "B") } else { ("B", "A") };
            match i % 10 {
                0 => json!({"user_id": new_user, "version": new_variant}),
                1 => json!({"user_id": new_user, "version": new_variant, "event": "page_view"}),
                2 => json!({"user_id": new_user, "version": new_variant, "goal": "signup"}),
                3 => json!({"user_id": new_user, "version": new_variant}),
                4 => json!({"user_id": old_user, "version": old_variant, "goal": if i % 20 == 4 { "signup" } else { "conversion" }}),
                5 => json!({"user_id": old_user, "version": old_variant, "event": "page_view", "id": format!("seed-{old}")}),
                6 => json!({"user_id": old_user, "version": old_variant, "event": "page_view", "id": format!("twice-{}", i / 20)}),
                7 => json!({"user_id": format!("p-{}", i % 30), "experiment": "pricing", "goal": "purchase"}),
                8 if i >= 10 => json!({"user_id": old_user, "version": old_variant, "id": format!("mm-{}", i - 9)}),
                8 => json!({"user_id": "u-x", "version": "A", "goal": "nope"}),
                _ if i % 50 == 9 => json!({"user_id": old_user, "experiment": "archived", "version": "A"}),
                _ => json!({"user_id": old_user, "version": other, "id": format!("mm-{i}")}),
            }
        })
        .collect()
}

async fn post_signed(app: &TestApp, id: &str, items: &[Value]) -> (u16, Value) {
    let body = serde_json::to_vec(items).unwrap();
    let ts = now();
    let response = app
        .client
        .post(app.url("/webhook"))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sign(id, ts, &body))
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// Everything a sender and a reader can see of the deliveries.
async fn replay(app: &TestApp) -> Vec<Value> {
    let mut seen = Vec::new();
    let seed = app
        .client
        .post(app.url("/webhook"))
        .bearer_auth(TOKEN)
        .json(&seed_items())
        .send()
        .await
        .unwrap();
    seen.push(seed.json().await.unwrap());
    for id in ["msg_large", "msg_large", "msg_again"] {
        let (status, body) = post_signed(app, id, &large_delivery()).await;
        seen.push(json!({"status": status, "body": body}));
    }
    let mut results: serde_json::Value = app.get("/results").await.json().await.unwrap();
    // When the report was made is the one thing the two stores may differ in.
    results.as_object_mut().unwrap().remove("generated_at");
    seen.push(results);
    seen.push(json!(app.counters().await));
    seen
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn a_500_item_delivery_answers_and_counts_the_same_on_postgres_as_on_sqlite() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let toml = format!("{BASE}\n{}", config());
    let sqlite = replay(&spawn_app_from(&toml, None).await).await;
    let postgres = replay(&spawn_app_from(&toml, Some(url)).await).await;
    // The delivery really has what it claims, so that the comparison means something.
    let answer = &sqlite[1]["body"];
    assert_eq!(sqlite[1]["status"], 202);
    assert!(answer["duplicates"].as_u64().unwrap() > 50, "{answer}");
    let codes: Vec<&str> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"variant_mismatch") && codes.contains(&"unknown_goal"));
    assert_eq!(sqlite[2]["body"], json!({"duplicate_delivery": true}));
    for (sqlite, postgres) in sqlite.iter().zip(&postgres) {
        assert_eq!(sqlite, postgres);
    }
}

/// A tiny deterministic generator: the same batches on every run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn event(dice: &mut Dice) -> Event {
    let action = match dice.below(3) {
        0 => Action::Enroll,
        1 => Action::View,
        _ => Action::Convert(Goal::parse(["g1", "g2"][dice.below(2) as usize]).unwrap()),
    };
    Event {
        experiment: ExperimentName::parse(["e1", "e2"][dice.below(2) as usize]).unwrap(),
        variant: VariantName::parse(["A", "B"][dice.below(2) as usize]).unwrap(),
        unit_id: format!("u{}", dice.below(25)),
        action,
        source: Source::Webhook,
        event_id: dice.chance(40).then(|| format!("event:{}", dice.below(40))),
        at: 1_700_000_000 + dice.below(1000) as i64,
    }
}

fn write(dice: &mut Dice) -> Write {
    let events: Vec<Event> = (0..=dice.below(12)).map(|_| event(dice)).collect();
    Write {
        delivery: dice
            .chance(40)
            .then(|| DeliveryId::signed(&format!("d{}", dice.below(30)))),
        refusable: dice.chance(50),
        events,
        probe: false,
    }
}

async fn open(url: String) -> Arc<SqlStore> {
    splitcast::store::open(&url.into(), no_routing())
        .await
        .unwrap()
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn generated_batches_give_the_same_outcomes_on_postgres_as_on_sqlite() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = open(format!("sqlite://{}", dir.path().join("same.db").display())).await;
    let postgres = open(url).await;
    let mut dice = Dice(10);
    for _ in 0..150 {
        let batch: Vec<Write> = (0..=dice.below(5)).map(|_| write(&mut dice)).collect();
        let expected = sqlite.apply(&batch).await.unwrap();
        assert_eq!(postgres.apply(&batch).await.unwrap(), expected, "{batch:?}");
    }
    // More rows than PostgreSQL takes parameters in one statement.
    let large = Write::events(
        (0..20_000)
            .map(|i| Event {
                unit_id: format!("many-{}", i % 15_000),
                ..event(&mut dice)
            })
            .collect(),
    );
    let batch = [large];
    let expected = sqlite.apply(&batch).await.unwrap();
    assert_eq!(postgres.apply(&batch).await.unwrap(), expected);
    assert_eq!(
        postgres.counters().await.unwrap(),
        sqlite.counters().await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn two_instances_enrolling_the_same_new_units_at_once_count_each_once() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let stores = [open(url.clone()).await, open(url).await];
    let mut tasks = Vec::new();
    for round in 0..20 {
        for (n, store) in stores.iter().enumerate() {
            let store = store.clone();
            let events: Vec<Event> = (0..30)
                .map(|i| Event {
                    experiment: ExperimentName::parse("e1").unwrap(),
                    variant: VariantName::parse(["A", "B"][n]).unwrap(),
                    unit_id: format!("r{round}-u{i}"),
                    action: Action::Convert(Goal::parse("g1").unwrap()),
                    source: Source::Webhook,
                    event_id: None,
                    at: 1,
                })
                .collect();
            tasks.push(tokio::spawn(async move {
                store.apply(&[Write::events(events)]).await.unwrap()
            }));
        }
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        let Written::Applied(applied) = task.await.unwrap().remove(0) else {
            panic!("no delivery id, no duplicate delivery");
        };
        outcomes.extend(applied);
    }
    // Each unit converts once in the variant that enrolled it; the other
    // instance's event contradicts it.
    let converted = outcomes
        .iter()
        .filter(|o| **o == Applied::Converted { first: true })
        .count();
    let mismatched = outcomes
        .iter()
        .filter(|o| matches!(o, Applied::VariantMismatch { .. }))
        .count();
    assert_eq!((converted, mismatched), (600, 600));
    let counters = stores[0].counters().await.unwrap();
    let sum = |metric: &str| -> i64 {
        counters
            .iter()
            .filter(|c| c.metric == metric)
            .map(|c| c.value)
            .sum()
    };
    assert_eq!((sum("participants"), sum("conversions")), (600, 600));
}

/// New visitors are inserted before they are looked up: two instances
/// enrolling the same units at once still enrol each once, and both answer
/// the variant on record.
#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn two_instances_inserting_the_same_new_visitors_at_once_enrol_each_once() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let stores = [open(url.clone()).await, open(url).await];
    let mut tasks = Vec::new();
    for round in 0..20 {
        for (n, store) in stores.iter().enumerate() {
            let store = store.clone();
            let events: Vec<Event> = (0..30)
                .map(|i| Event {
                    experiment: ExperimentName::parse("e1").unwrap(),
                    variant: VariantName::parse(["A", "B"][n]).unwrap(),
                    unit_id: format!("r{round}-u{i}"),
                    action: Action::Enroll,
                    source: Source::Browser,
                    event_id: None,
                    at: 1,
                })
                .collect();
            tasks.push(tokio::spawn(async move {
                let written = store.apply(&[Write::events(events.clone())]).await;
                (events, written.unwrap().remove(0))
            }));
        }
    }
    let mut recorded: std::collections::HashMap<String, String> = Default::default();
    let mut new = 0;
    for task in tasks {
        let (events, Written::Applied(applied)) = task.await.unwrap() else {
            panic!("no delivery id, no duplicate delivery");
        };
        for (event, outcome) in events.iter().zip(applied) {
            let Applied::Enrolled {
                new: is_new,
                variant,
            } = outcome
            else {
                panic!("{outcome:?}");
            };
            new += usize::from(is_new);
            // Both instances answer the one variant on record.
            let on_record = recorded
                .entry(event.unit_id.clone())
                .or_insert(variant.clone());
            assert_eq!(*on_record, variant, "{}", event.unit_id);
        }
    }
    assert_eq!((recorded.len(), new), (600, 600));
    let participants = crate::helpers::store_total(stores[0].as_ref(), "participants").await;
    assert_eq!(participants, 600);
}
