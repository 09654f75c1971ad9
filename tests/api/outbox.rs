//! The delivery worker, driven step by step against a real SQLite outbox and
//! wiremock services: retries, waits the service asked for, dead letters,
//! pauses, chat migration, coalescing and expiry — without sleeping.

use crate::helpers::received_bodies;
use serde_json::json;
use splitcast::notify::bliphq::{BlipNotifier, BlipSettings};
use splitcast::notify::retry::Backoff;
use splitcast::notify::routing::outbox_row;
use splitcast::notify::telegram::{TelegramNotifier, TelegramSettings};
use splitcast::notify::worker::{DeliveryWorker, Outcome};
use splitcast::notify::{EventKind, Notification, Notifier};
use splitcast::store::SqlStore;
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "123456789:AAH-outbox-test-token";

pub async fn store() -> (Arc<SqlStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("outbox.db").display());
    let store = splitcast::store::open(&url.into(), splitcast::store::no_routing())
        .await
        .unwrap();
    (store, dir)
}

fn client() -> reqwest::Client {
    splitcast::notify::http::client(Duration::from_secs(5), None)
}

pub fn blip(server: &MockServer) -> Arc<dyn Notifier> {
    let settings = BlipSettings {
        url: format!("{}/notify", server.uri()),
        api_key: "k".to_owned().into(),
    };
    Arc::new(BlipNotifier::new(
        "blip",
        settings,
        "ABTestingProject".into(),
        "abtestbot".into(),
        client(),
    ))
}

fn telegram(server: &MockServer) -> Arc<dyn Notifier> {
    let settings = TelegramSettings {
        bot_token: TOKEN.to_owned().into(),
        chat_id: "-100".into(),
        api_base: server.uri(),
    };
    Arc::new(TelegramNotifier::new("team_chat", settings, client()))
}

pub fn worker(
    notifier: Arc<dyn Notifier>,
    store: &Arc<SqlStore>,
    rate: Option<u32>,
) -> DeliveryWorker {
    let backoff = Backoff {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(100),
    };
    DeliveryWorker::new(
        notifier,
        store.clone(),
        splitcast::metrics::Metrics::new(),
        rate,
        backoff,
        Duration::from_secs(3600),
    )
}

pub fn conversion(n: u32, variant: &str) -> Notification {
    Notification::Event {
        id: format!("evt-{n}"),
        event: EventKind::Conversion,
        experiment: "homepage_cta".into(),
        variant: variant.into(),
        goal: Some("conversion".into()),
        unit_count: 1,
        occurred_at: 0,
    }
}

/// The service answers `first` once, then succeeds.
async fn answers_once_then_ok(server: &MockServer, first: ResponseTemplate) {
    Mock::given(method("POST"))
        .respond_with(first)
        .up_to_n_times(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(server)
        .await;
}

pub fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"ok": true, "result": {"message_id": 1}}))
}

#[tokio::test]
async fn a_delivered_row_leaves_the_outbox_and_an_empty_outbox_is_idle() {
    let (store, _dir) = store().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .expect(1)
        .mount(&server)
        .await;
    store
        .enqueue(&outbox_row("blip", &conversion(1, "B")))
        .await
        .unwrap();
    let mut w = worker(blip(&server), &store, None);
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Delivered { rows: 1 }
    );
    assert_eq!(w.try_deliver_next().await.unwrap(), Outcome::Idle);
    assert_eq!(store.pending("blip").await.unwrap(), 0);
    let body = &received_bodies(&server).await[0];
    assert_eq!(body["message"], "A/B Test Event: conversion");
    assert_eq!(
        body["tags"].as_array().unwrap()[0..3],
        [json!("abtest"), json!("conversion"), json!("B")]
    );
}

#[tokio::test]
async fn telegrams_retry_after_is_honoured_never_earlier() {
    let (store, _dir) = store().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({
            "ok": false, "error_code": 429,
            "description": "Too Many Requests: retry after 2282",
            "parameters": {"retry_after": 2282}
        })))
        .expect(1)
        .mount(&server)
        .await;
    store
        .enqueue(&outbox_row("team_chat", &conversion(1, "A")))
        .await
        .unwrap();
    let mut w = worker(telegram(&server), &store, None);
    match w.try_deliver_next().await.unwrap() {
        Outcome::Retrying { wait } => assert!(wait >= Duration::from_secs(2282), "{wait:?}"),
        other => panic!("{other:?}"),
    }
    // The next steps wait instead of sending, and the row is kept.
    assert!(
        matches!(w.try_deliver_next().await.unwrap(), Outcome::Waiting { wait } if wait > Duration::from_secs(2200))
    );
    assert_eq!(store.pending("team_chat").await.unwrap(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_until_delivered() {
    let (store, _dir) = store().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&server)
        .await;
    store
        .enqueue(&outbox_row("blip", &conversion(1, "A")))
        .await
        .unwrap();
    let mut w = worker(blip(&server), &store, None);
    let mut outcomes = Vec::new();
    for _ in 0..1000 {
        let outcome = w.try_deliver_next().await.unwrap();
        match outcome {
            Outcome::Waiting { wait } => tokio::time::sleep(wait).await, // the backoff itself
            Outcome::Delivered { .. } => {
                outcomes.push(outcome);
                break;
            }
            other => outcomes.push(other),
        }
    }
    assert!(matches!(outcomes[0], Outcome::Retrying { wait } if wait <= Duration::from_millis(10)));
    assert!(matches!(outcomes[1], Outcome::Retrying { wait } if wait <= Duration::from_millis(20)));
    assert_eq!(outcomes[2], Outcome::Delivered { rows: 1 });
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_permanent_error_dead_letters_the_row_which_can_be_requeued() {
    let (store, _dir) = store().await;
    let server = MockServer::start().await;
    answers_once_then_ok(
        &server,
        ResponseTemplate::new(400).set_body_json(json!({
            "ok": false, "error_code": 400, "description": "Bad Request: chat not found"
        })),
    )
    .await;
    store
        .enqueue(&outbox_row("team_chat", &conversion(1, "A")))
        .await
        .unwrap();
    let mut w = worker(telegram(&server), &store, None);
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::DeadLettered { rows: 1 }
    );
    assert_eq!(w.try_deliver_next().await.unwrap(), Outcome::Idle);
    let dead = store.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].last_error.contains("chat not found"),
        "{:?}",
        dead[0]
    );
    assert!(!dead[0].last_error.contains("AAH-outbox-test-token"));
    assert_eq!(
        store
            .requeue(Some(dead[0].id), splitcast::clock::now_millis())
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Delivered { rows: 1 }
    );
    for request in server.received_requests().await.unwrap() {
        assert_eq!(request.url.path(), format!("/bot{TOKEN}/sendMessage"));
    }
}

#[tokio::test]
async fn rejected_credentials_pause_the_notifier_and_keep_its_rows() {
    let (store, _dir) = store().await;
    let server = MockServer::start().await;
    answers_once_then_ok(
        &server,
        ResponseTemplate::new(401).set_body_json(json!({
            "ok": false, "error_code": 401, "description": "Unauthorized"
        })),
    )
    .await;
    store
        .enqueue(&outbox_row("team_chat", &conversion(1, "A")))
        .await
        .unwrap();
    store
        .enqueue(&outbox_row("team_chat", &conversion(2, "B")))
        .await
        .unwrap();
    let mut w = worker(telegram(&server), &store, None);
    assert_eq!(w.try_deliver_next().await.unwrap(), Outcome::Paused);
    // Paused: no more requests hammer the service.
    assert_eq!(w.try_deliver_next().await.unwrap(), Outcome::Paused);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert_eq!(store.pending("team_chat").await.unwrap(), 2);
    store.resume(Some("team_chat")).await.unwrap();
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Delivered { rows: 2 }
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_migrated_telegram_chat_is_followed() {
    let (store, _dir) = store().await;
    let server = MockServer::start().await;
    answers_once_then_ok(
        &server,
        ResponseTemplate::new(400).set_body_json(json!({
            "ok": false, "error_code": 400,
            "description": "Bad Request: group chat was upgraded to a supergroup chat",
            "parameters": {"migrate_to_chat_id": -1001557912345_i64}
        })),
    )
    .await;
    store
        .enqueue(&outbox_row("team_chat", &conversion(1, "A")))
        .await
        .unwrap();
    let mut w = worker(telegram(&server), &store, None);
    assert_eq!(w.try_deliver_next().await.unwrap(), Outcome::Migrated);
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Delivered { rows: 1 }
    );
    let sent = received_bodies(&server).await;
    assert_eq!(sent[1]["chat_id"], json!(-1001557912345_i64));
}

#[tokio::test]
async fn a_backlog_larger_than_the_rate_allows_is_merged_into_one_summary_with_exact_counts() {
    let (store, _dir) = store().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&server)
        .await;
    for n in 0..37 {
        store
            .enqueue(&outbox_row(
                "blip",
                &conversion(n, if n < 15 { "A" } else { "B" }),
            ))
            .await
            .unwrap();
    }
    let mut w = worker(blip(&server), &store, Some(1));
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Delivered { rows: 37 }
    );
    assert_eq!(store.pending("blip").await.unwrap(), 0);
    let sent = received_bodies(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]["message"],
        "homepage_cta · conversion: 37 (A: 15, B: 22)"
    );
    assert_eq!(sent[0]["tags"], json!(["abtest", "conversion", "summary"]));
}

#[tokio::test]
async fn a_small_backlog_within_the_burst_goes_out_one_by_one_then_the_rate_limit_waits() {
    let (store, _dir) = store().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&server)
        .await;
    for n in 0..5 {
        store
            .enqueue(&outbox_row("blip", &conversion(n, "A")))
            .await
            .unwrap();
    }
    let mut w = worker(blip(&server), &store, Some(1));
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Delivered { rows: 5 }
    );
    // One message per event, not a summary.
    for body in received_bodies(&server).await {
        assert_eq!(body["message"], "A/B Test Event: conversion");
    }
    store
        .enqueue(&outbox_row("blip", &conversion(9, "A")))
        .await
        .unwrap();
    assert!(
        matches!(w.try_deliver_next().await.unwrap(), Outcome::Waiting { wait } if wait > Duration::from_secs(50))
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
}

#[tokio::test]
async fn rows_older_than_the_maximum_age_are_dead_lettered() {
    let (store, _dir) = store().await;
    let server = MockServer::start().await;
    store
        .enqueue(&outbox_row("blip", &conversion(1, "A")))
        .await
        .unwrap();
    let backoff = Backoff::default();
    let mut w = DeliveryWorker::new(
        blip(&server),
        store.clone(),
        splitcast::metrics::Metrics::new(),
        None,
        backoff,
        Duration::ZERO,
    );
    // With a maximum age of zero the row is too old once the clock has ticked
    // past its creation; the worker checks ages on its first step.
    let enqueued = splitcast::clock::now_millis();
    crate::helpers::wait_until(Duration::from_secs(1), "a clock tick", || async {
        splitcast::clock::now_millis() > enqueued
    })
    .await;
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::DeadLettered { rows: 1 }
    );
    assert!(server.received_requests().await.unwrap().is_empty());
    assert!(
        store.dead_letters().await.unwrap()[0]
            .last_error
            .contains("max_age_hours")
    );
}

#[tokio::test]
async fn a_failure_in_the_middle_of_a_batch_keeps_the_order_of_what_follows() {
    let (store, _dir) = store().await;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .up_to_n_times(1)
        .mount(&server)
        .await;
    answers_once_then_ok(&server, ResponseTemplate::new(500)).await;
    for n in 0..3 {
        store
            .enqueue(&outbox_row(
                "blip",
                &conversion(n, if n == 2 { "B" } else { "A" }),
            ))
            .await
            .unwrap();
    }
    let mut w = worker(blip(&server), &store, None);
    // The first is delivered, the second fails, the third is not tried before it.
    assert!(matches!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Retrying { .. }
    ));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    assert_eq!(store.pending("blip").await.unwrap(), 2);
    let outcome = loop {
        match w.try_deliver_next().await.unwrap() {
            Outcome::Waiting { wait } => tokio::time::sleep(wait).await, // the backoff itself
            other => break other,
        }
    };
    assert_eq!(outcome, Outcome::Delivered { rows: 2 });
    let sent = received_bodies(&server).await;
    let variants: Vec<&str> = sent
        .iter()
        .map(|b| b["tags"][2].as_str().unwrap())
        .collect();
    assert_eq!(variants, ["A", "A", "A", "B"]);
}
