//! `POST /webhook`: server-side events, authenticated by token or signature.

use crate::helpers::{DEMO, TestApp, error_code, spawn_app, spawn_app_with};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

pub const TOKEN: &str = "ingest-token-for-tests";
pub const KEY: &[u8] = b"splitcast-test-signing-key-32byt";

/// Ingest credentials, the demo experiment, a hash experiment, a paused one
/// and one that enrols nobody.
pub fn config() -> String {
    let secret = format!("whsec_{}", STANDARD.encode(KEY));
    format!(
        r#"
[ingest]
token = "{TOKEN}"
signing_secret = "{secret}"
max_body_bytes = 65536
{DEMO}
[experiments.pricing]
assignment = "hash"
goals = ["purchase"]
variants = [{{ name = "A", weight = 50 }}, {{ name = "B", weight = 50 }}]
[experiments.archived]
status = "paused"
variants = [{{ name = "A", weight = 50 }}, {{ name = "B", weight = 50 }}]
[experiments.closed_beta]
assignment = "hash"
traffic = 0.0
variants = [{{ name = "A", weight = 50 }}, {{ name = "B", weight = 50 }}]
"#
    )
}

async fn spawn() -> TestApp {
    spawn_app_with(&config()).await
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Standard Webhooks v1, written here from the spec rather than with the
/// crate's own signer, so that a shared mistake cannot pass unnoticed.
pub fn sign(id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

pub async fn post_with_token(app: &TestApp, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/webhook"))
        .bearer_auth(TOKEN)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn post_signed(
    app: &TestApp,
    id: &str,
    timestamp: i64,
    signature: &str,
) -> reqwest::Response {
    app.client
        .post(app.url("/webhook"))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(SEED)
        .send()
        .await
        .unwrap()
}

const SEED: &str = r#"{"user_id": "u1", "version": "B"}"#;

async fn summary(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 202);
    response.json().await.unwrap()
}

/// The variant `GET /variant` serves a user in `experiment`.
async fn served_variant(app: &TestApp, experiment: &str, user: &str) -> String {
    let body: Value = app
        .client
        .get(app.url(&format!("/variant?experiment={experiment}")))
        .header("X-User-Id", user)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["variant"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_seed_payload_counts_a_participant_and_a_conversion_of_the_named_variant() {
    let app = spawn().await;
    let response = post_with_token(&app, &json!({"user_id": "u1", "version": "B"})).await;
    assert_eq!(
        summary(response).await,
        json!({"accepted": 1, "duplicates": 0, "ignored": 0, "rejected": []})
    );
    let counters = app.counters().await;
    assert_eq!(counters["homepage_cta/B/participants"], 1);
    assert_eq!(counters["homepage_cta/B/conversions/conversion"], 1);
    assert_eq!(counters.len(), 3, "{counters:?}");
    // The same counts flow into /results (open: no admin token in this config).
    let report: Value = app
        .get("/results?experiment=homepage_cta")
        .await
        .json()
        .await
        .unwrap();
    let variants = &report["experiments"][0]["goals"][0]["variants"];
    let b = variants
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "B")
        .unwrap();
    assert_eq!(b["participants"], 1);
    assert_eq!(b["conversions"], 1);
    assert_eq!(b["rate"], 1.0);
}

#[tokio::test]
async fn a_batch_of_the_full_form_counts_views_and_conversions_item_by_item() {
    let app = spawn().await;
    let batch = json!([
        {"user_id": "u1", "experiment": "homepage_cta", "variant": "A", "event": "page_view"},
        {"user_id": "u1", "experiment": "homepage_cta", "variant": "A", "event": "conversion", "goal": "signup"},
        {"user_id": "u2", "experiment": "homepage_cta", "variant": "B", "event": "page_view", "id": "evt-1"},
        {"user_id": "u3", "experiment": "archived", "variant": "A"},
    ]);
    assert_eq!(
        summary(post_with_token(&app, &batch).await).await,
        json!({"accepted": 3, "duplicates": 0, "ignored": 1, "rejected": []})
    );
    let counters = app.counters().await;
    assert_eq!(counters["homepage_cta/A/participants"], 1);
    assert_eq!(counters["homepage_cta/A/views"], 1);
    assert_eq!(counters["homepage_cta/A/conversions/signup"], 1);
    assert_eq!(counters["homepage_cta/B/participants"], 1);
    assert_eq!(counters["homepage_cta/B/unique_views"], 1);
    assert_eq!(app.total("archived", "participants").await, 0);
}

#[tokio::test]
async fn a_batch_of_500_is_accepted_and_one_more_is_a_400_that_counts_nothing() {
    let app = spawn().await;
    let batch = |n: usize| {
        (0..n)
            .map(|i| json!({"user_id": format!("user-{i}"), "version": "A"}))
            .collect::<Value>()
    };
    let too_many = post_with_token(&app, &batch(501)).await;
    assert_eq!(error_code(too_many, 400).await, "bad_request");
    assert!(app.counters().await.is_empty());
    let full = summary(post_with_token(&app, &batch(500)).await).await;
    assert_eq!(full["accepted"], 500);
    assert_eq!(
        app.counter("homepage_cta/A/conversions/conversion").await,
        500
    );
}

#[tokio::test]
async fn every_rejection_reason_is_reported_per_item_and_counts_nothing() {
    let app = spawn().await;
    let computed = served_variant(&app, "pricing", "u9").await;
    let other = if computed == "A" { "B" } else { "A" };
    let before = app.counters().await;
    let batch = json!([
        {"user_id": "u1", "experiment": "nope", "variant": "A"},
        {"user_id": "u1", "variant": "C"},
        {"user_id": "u1", "variant": "A", "goal": "purchase"},
        {"user_id": "u1", "experiment": "homepage_cta"},
        {"user_id": "u9", "experiment": "pricing", "variant": other, "goal": "purchase"},
        {"user_id": "u1", "experiment": "closed_beta"},
        {"user_id": "u1", "version": "A", "colour": "red"},
        {"user_id": "has \"quotes\"", "version": "A"},
        "not an object",
    ]);
    let response = post_with_token(&app, &batch).await;
    // Nothing taken: the batch as a whole failed (tests/api/webhook_refused.rs).
    assert_eq!(response.status(), 422);
    let answer: Value = response.json().await.unwrap();
    let codes: Vec<&str> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, r)| {
            assert_eq!(r["index"], i);
            assert!(!r["message"].as_str().unwrap().is_empty());
            r["code"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        codes,
        [
            "unknown_experiment",
            "unknown_variant",
            "unknown_goal",
            "variant_required",
            "variant_mismatch",
            "not_enrolled",
            "bad_event",
            "bad_event",
            "bad_event"
        ]
    );
    assert_eq!(answer["accepted"], 0);
    assert_eq!(app.counters().await, before);
}

#[tokio::test]
async fn a_variant_contradicting_the_users_recorded_one_is_rejected_with_a_reason() {
    let app = spawn().await;
    post_with_token(
        &app,
        &json!({"user_id": "u1", "version": "A", "event": "page_view"}),
    )
    .await;
    let single = post_with_token(&app, &json!({"user_id": "u1", "version": "B"})).await;
    assert_eq!(error_code(single, 422).await, "variant_mismatch");
    let batch = post_with_token(&app, &json!([{"user_id": "u1", "version": "B"}])).await;
    assert_eq!(batch.status(), 422);
    let answer: Value = batch.json().await.unwrap();
    assert_eq!(answer["rejected"][0]["code"], "variant_mismatch");
    assert_eq!(answer["accepted"], 0);
    assert_eq!(app.total("homepage_cta", "conversions").await, 0);
    assert_eq!(app.counter("homepage_cta/B/participants").await, 0);
}

#[tokio::test]
async fn a_hash_experiment_without_a_variant_counts_the_one_get_content_serves() {
    let app = spawn().await;
    let served = app
        .client
        .get(app.url("/get_content?experiment=pricing"))
        .header("X-User-Id", "customer-42")
        .send()
        .await
        .unwrap();
    let variant = served.headers()["x-variant"].to_str().unwrap().to_owned();
    let event = json!({"user_id": "customer-42", "experiment": "pricing", "goal": "purchase"});
    let answer = summary(post_with_token(&app, &event).await).await;
    assert_eq!(answer["accepted"], 1);
    assert_eq!(
        app.counter(&format!("pricing/{variant}/conversions/purchase"))
            .await,
        1
    );
    assert_eq!(app.total("pricing", "participants").await, 1);
}

#[tokio::test]
async fn duplicates_by_user_and_goal_or_by_event_id_are_counted_once() {
    let app = spawn().await;
    let conversion = json!({"user_id": "u1", "version": "B"});
    let view = json!({"user_id": "u1", "version": "B", "event": "page_view", "id": "view-1"});
    let batch = json!([conversion, conversion, view, view]);
    assert_eq!(
        summary(post_with_token(&app, &batch).await).await,
        json!({"accepted": 2, "duplicates": 2, "ignored": 0, "rejected": []})
    );
    let again = summary(post_with_token(&app, &batch).await).await;
    assert_eq!(
        (again["accepted"].clone(), again["duplicates"].clone()),
        (json!(0), json!(4))
    );
    let counters = app.counters().await;
    assert_eq!(counters["homepage_cta/B/participants"], 1);
    assert_eq!(counters["homepage_cta/B/conversions/conversion"], 1);
    assert_eq!(counters["homepage_cta/B/views"], 1);
}

#[tokio::test]
async fn a_request_signed_per_the_standard_webhooks_spec_is_accepted() {
    let app = spawn().await;
    let ts = now();
    let response = post_signed(&app, "msg_1", ts, &sign("msg_1", ts, SEED.as_bytes())).await;
    assert_eq!(summary(response).await["accepted"], 1);
    assert_eq!(
        app.counter("homepage_cta/B/conversions/conversion").await,
        1
    );
}

#[tokio::test]
async fn missing_or_wrong_credentials_or_stale_signatures_are_401_and_a_replay_changes_nothing() {
    let app = spawn().await;
    let seed: Value = serde_json::from_str(SEED).unwrap();
    let url = app.url("/webhook");
    let missing = app.client.post(&url).json(&seed).send().await.unwrap();
    assert_eq!(error_code(missing, 401).await, "unauthorized");
    let wrong = app
        .client
        .post(&url)
        .bearer_auth("guess")
        .json(&seed)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(wrong, 401).await, "unauthorized");
    let ts = now();
    let tampered = sign("msg_1", ts, br#"{"user_id": "u1", "version": "A"}"#);
    assert_eq!(
        error_code(post_signed(&app, "msg_1", ts, &tampered).await, 401).await,
        "unauthorized"
    );
    let stale = ts - 301;
    let old = sign("msg_2", stale, SEED.as_bytes());
    assert_eq!(
        error_code(post_signed(&app, "msg_2", stale, &old).await, 401).await,
        "unauthorized"
    );
    assert!(app.counters().await.is_empty());
    let fresh = sign("msg_3", ts, SEED.as_bytes());
    assert_eq!(post_signed(&app, "msg_3", ts, &fresh).await.status(), 202);
    let before = app.counters().await;
    let replay = post_signed(&app, "msg_3", ts, &fresh).await;
    assert_eq!(replay.status(), 200);
    let replay: Value = replay.json().await.unwrap();
    assert_eq!(replay, json!({"duplicate_delivery": true}));
    assert_eq!(app.counters().await, before);
}

#[tokio::test]
async fn without_a_token_or_signing_secret_the_endpoint_is_off() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/webhook"))
        .body(SEED)
        .send()
        .await
        .unwrap();
    // Still a 404, but one that says how to turn the endpoint on.
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "ingest_disabled");
    let message = body["error"]["message"].as_str().unwrap();
    for setting in [
        "ingest.token",
        "SPLITCAST__INGEST__TOKEN",
        "ingest.signing_secret",
        "SPLITCAST__INGEST__SIGNING_SECRET",
    ] {
        assert!(message.contains(setting), "{setting} in {message}");
    }
}

#[tokio::test]
async fn a_body_that_is_not_an_event_or_a_batch_is_400_and_an_oversized_one_413() {
    let app = spawn().await;
    for body in ["{", "\"u1\"", "[]", "42"] {
        let response = app
            .client
            .post(app.url("/webhook"))
            .bearer_auth(TOKEN)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(response, 400).await, "bad_request", "{body}");
    }
    let huge = format!(r#"{{"user_id": "{}"}}"#, "u".repeat(70_000));
    let response = app
        .client
        .post(app.url("/webhook"))
        .bearer_auth(TOKEN)
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 413).await, "payload_too_large");
    assert!(app.counters().await.is_empty());
}

#[tokio::test]
async fn a_signed_delivery_refused_before_its_events_were_written_can_be_retried_with_its_id() {
    let app = spawn().await;
    let ts = now();
    let broken = br#"{"user_id": "u1", "version": "B""#;
    let response = app
        .client
        .post(app.url("/webhook"))
        .header("content-type", "application/json")
        .header("webhook-id", "msg_retry_1")
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sign("msg_retry_1", ts, broken))
        .body(broken.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let retried = post_signed(
        &app,
        "msg_retry_1",
        ts,
        &sign("msg_retry_1", ts, SEED.as_bytes()),
    )
    .await;
    assert_eq!(summary(retried).await["accepted"], 1);
    // Now consumed: the same delivery again changes nothing.
    let replay = post_signed(
        &app,
        "msg_retry_1",
        ts,
        &sign("msg_retry_1", ts, SEED.as_bytes()),
    )
    .await;
    assert_eq!(replay.status(), 200);
    assert_eq!(
        app.counter("homepage_cta/B/conversions/conversion").await,
        1
    );
}
