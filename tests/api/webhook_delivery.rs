//! A webhook delivery is applied exactly once and atomically: its events and
//! its delivery id commit together, so concurrent copies, retries and a kill
//! mid-request never count an event twice or half a batch.

use crate::helpers::Patch;
use crate::helpers::{BASE, TestApp, error_code, spawn_app_from, spawn_app_with};
use crate::postgres::fresh_database;
use crate::webhook::{TOKEN, config, now, post_with_token, sign};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Barrier;

/// A batch of page views by `users` distinct users, with no item ids: only
/// the delivery id protects it from being counted twice.
fn views(users: usize, tag: &str) -> Vec<u8> {
    let items: Vec<Value> = (0..users)
        .map(|i| json!({"user_id": format!("{tag}-{i}"), "version": "B", "event": "page_view"}))
        .collect();
    serde_json::to_vec(&items).unwrap()
}

async fn post_signed_body(url: &str, id: &str, body: &[u8]) -> reqwest::Response {
    let ts = now();
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sign(id, ts, body))
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

/// Sends `copies` identical signed deliveries at once, spread over `apps`,
/// and returns the statuses and bodies.
async fn send_together(apps: &[&TestApp], copies: usize, body: Vec<u8>) -> Vec<(u16, Value)> {
    let barrier = Arc::new(Barrier::new(copies));
    let body = Arc::new(body);
    let mut tasks = Vec::new();
    for copy in 0..copies {
        let url = apps[copy % apps.len()].url("/webhook");
        let (barrier, body) = (barrier.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let response = post_signed_body(&url, "msg_concurrent", &body).await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

fn assert_applied_once(answers: &[(u16, Value)], items: usize) {
    let applied: Vec<_> = answers.iter().filter(|(s, _)| *s == 202).collect();
    assert_eq!(applied.len(), 1, "{answers:?}");
    assert_eq!(applied[0].1["accepted"], items);
    for (status, body) in answers.iter().filter(|(s, _)| *s != 202) {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body, &json!({"duplicate_delivery": true}));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_copies_of_one_delivery_count_once() {
    let app = spawn_app_with(&config()).await;
    let answers = send_together(&[&app], 20, views(50, "c")).await;
    assert_applied_once(&answers, 50);
    assert_eq!(app.counter("homepage_cta/B/views").await, 50);
    assert_eq!(app.counter("homepage_cta/B/participants").await, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn concurrent_copies_across_two_postgres_instances_count_once() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let toml = format!("{BASE}\n{}", config());
    let one = spawn_app_from(&toml, Some(url.clone())).await;
    let two = spawn_app_from(&toml, Some(url)).await;
    let answers = send_together(&[&one, &two], 10, views(50, "pg")).await;
    assert_applied_once(&answers, 50);
    assert_eq!(two.counter("homepage_cta/B/views").await, 50);
}

#[tokio::test]
async fn an_idempotency_key_makes_a_token_senders_retry_change_nothing() {
    let app = spawn_app_with(&config()).await;
    let send = |key: &'static str| {
        app.client
            .post(app.url("/webhook"))
            .bearer_auth(TOKEN)
            .header("Idempotency-Key", key)
            .body(views(3, "idem"))
            .send()
    };
    assert_eq!(send("order-17").await.unwrap().status(), 202);
    let again = send("order-17").await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(
        again.json::<Value>().await.unwrap()["duplicate_delivery"],
        true
    );
    assert_eq!(app.counter("homepage_cta/B/views").await, 3);
    // Another key is another delivery: its views count.
    assert_eq!(send("order-18").await.unwrap().status(), 202);
    assert_eq!(app.counter("homepage_cta/B/views").await, 6);
    let bad = app
        .client
        .post(app.url("/webhook"))
        .bearer_auth(TOKEN)
        .header("Idempotency-Key", "has space")
        .body(views(1, "bad"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(bad, 400).await, "bad_request");
    assert_eq!(app.counter("homepage_cta/B/views").await, 6);
}

#[tokio::test]
async fn a_single_rejected_event_is_a_4xx_with_its_code_and_counts_nothing() {
    let app = spawn_app_with(&config()).await;
    let cases = [
        (
            json!({"user_id": "u1", "experiment": "nope", "variant": "A"}),
            404,
            "unknown_experiment",
        ),
        (
            json!({"user_id": "u1", "variant": "C"}),
            404,
            "unknown_variant",
        ),
        (
            json!({"user_id": "u1", "variant": "A", "goal": "purchase"}),
            404,
            "unknown_goal",
        ),
        (
            json!({"user_id": "u1", "experiment": "homepage_cta"}),
            422,
            "variant_required",
        ),
        (
            json!({"user_id": "u1", "experiment": "closed_beta"}),
            422,
            "not_enrolled",
        ),
        (
            json!({"user_id": "u1", "version": "A", "colour": "red"}),
            422,
            "bad_event",
        ),
    ];
    for (item, status, code) in cases {
        let response = post_with_token(&app, &item).await;
        assert_eq!(error_code(response, status).await, code, "{item}");
    }
    let duplicate_keys = app
        .client
        .post(app.url("/webhook"))
        .bearer_auth(TOKEN)
        .body(r#"{"user_id": "u1", "version": "B", "version": "A"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(duplicate_keys, 422).await, "bad_event");
    assert!(app.counters().await.is_empty());
}

#[tokio::test]
async fn a_single_event_refused_by_the_store_does_not_consume_its_delivery_id() {
    let app = spawn_app_with(&config()).await;
    let url = app.url("/webhook");
    let view = br#"{"user_id": "u1", "version": "A", "event": "page_view"}"#;
    assert_eq!(post_signed_body(&url, "msg_a", view).await.status(), 202);
    // u1 is a participant of A: B is refused, and the id stays usable.
    let wrong = br#"{"user_id": "u1", "version": "B", "event": "page_view"}"#;
    let refused = post_signed_body(&url, "msg_b", wrong).await;
    assert_eq!(error_code(refused, 422).await, "variant_mismatch");
    let corrected = br#"{"user_id": "u1", "version": "A", "event": "page_view"}"#;
    assert_eq!(
        post_signed_body(&url, "msg_b", corrected).await.status(),
        202
    );
    assert_eq!(app.counter("homepage_cta/A/views").await, 2);
    assert_eq!(app.counter("homepage_cta/B/views").await, 0);
}

/// Rounds at most, before concluding that no kill landed on one side of
/// the commit (each round starts the binary twice: about a second).
const MAX_ROUNDS: usize = 16;

/// Kills the real binary while it applies 500-item deliveries, restarts it,
/// and retries each delivery with its id as a sender would: every item counts
/// exactly once, whether or not the killed attempt had committed. The kill
/// moment is bisected between one that came before the commit (the retry
/// applies the batch: 202) and one after it (the retry is a duplicate: 200),
/// so the kills close in on the transaction; the test fails unless both
/// sides were hit.
async fn kill_mid_batch_then_retry(storage_url: &str) {
    use crate::durability::start_server_with;
    let dir = tempfile::tempdir().unwrap();
    let config = include_str!("../../config/default.toml").patched("port = 8080", "port = 0");
    assert!(config.contains("port = 0"));
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, config).unwrap();
    let secret = format!("whsec_{}", {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(crate::webhook::KEY)
    });
    let env = [
        ("SPLITCAST__STORAGE__URL", storage_url),
        ("SPLITCAST__INGEST__SIGNING_SECRET", secret.as_str()),
    ];
    let (mut before, mut after) = (0, 0);
    // Kill delays known to fall before and after the commit.
    let (mut early_ms, mut late_ms): (u64, Option<u64>) = (0, None);
    let mut delay_ms = 0;
    let mut rounds = 0;
    while rounds < MAX_ROUNDS && (rounds < 6 || before == 0 || after == 0) {
        let round = rounds;
        rounds += 1;
        let body = views(500, &format!("kill{round}"));
        let id = format!("msg_kill_{round}");
        let mut server = start_server_with(&config_path, dir.path(), &env);
        let url = format!("{}/webhook", server.address());
        let in_flight = {
            let (url, id, body) = (url.clone(), id.clone(), body.clone());
            tokio::spawn(async move {
                let ts = now();
                // The kill usually cuts it off: no answer is expected.
                let _ = reqwest::Client::new()
                    .post(url)
                    .header("content-type", "application/json")
                    .header("webhook-id", &id)
                    .header("webhook-timestamp", ts.to_string())
                    .header("webhook-signature", sign(&id, ts, &body))
                    .body(body)
                    .send()
                    .await;
            })
        };
        // Fault injection at a different moment of each round: whichever it
        // is, the retry below must complete the delivery exactly once.
        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
        server.kill();
        let _ = in_flight.await;
        let mut restarted = start_server_with(&config_path, dir.path(), &env);
        let url = format!("{}/webhook", restarted.address());
        let retry = post_signed_body(&url, &id, &body).await;
        match retry.status().as_u16() {
            200 => {
                after += 1;
                late_ms = Some(delay_ms);
            }
            202 => {
                before += 1;
                early_ms = delay_ms;
            }
            other => panic!("the retry answered {other}"),
        }
        restarted.kill();
        delay_ms = match late_ms {
            Some(late) if late > early_ms + 1 => (early_ms + late) / 2,
            // Adjacent milliseconds: alternate sides to confirm both.
            Some(late) if delay_ms == late => early_ms,
            Some(late) => late,
            // A 500-item commit takes tens of milliseconds; 2 s is past any.
            None => (early_ms * 2).clamp(8, 2_000),
        };
    }
    let store = splitcast::store::open(
        &storage_url.to_owned().into(),
        splitcast::store::no_routing(),
    )
    .await
    .unwrap();
    use splitcast::store::Store;
    let counters = store.counters().await.unwrap();
    let count = |metric: &str| {
        counters
            .iter()
            .filter(|c| c.metric == metric)
            .map(|c| c.value)
            .sum::<i64>()
    };
    eprintln!(
        "{after} of {rounds} killed deliveries had committed; commit between {early_ms} and {late_ms:?} ms"
    );
    assert!(
        before > 0 && after > 0,
        "kills landed only on one side of the commit ({before} before, {after} after)"
    );
    assert_eq!(count("views"), 500 * rounds as i64);
    assert_eq!(count("participants"), 500 * rounds as i64);
}

#[tokio::test]
async fn sigkill_mid_batch_then_a_retry_counts_every_item_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("kill.db").display());
    kill_mid_batch_then_retry(&url).await;
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn sigkill_mid_batch_then_a_retry_counts_every_item_once_on_postgres() {
    let Some(url) = fresh_database().await else {
        return;
    };
    kill_mid_batch_then_retry(&url).await;
}
