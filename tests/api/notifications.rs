//! Notifications end to end: events recorded through HTTP reach the mock
//! services through the running workers, durably and without slowing a request.

use crate::helpers::Patch;
use crate::helpers::{
    BASE, DEMO, TestApp, browser, events_in_blip_messages, post_status, received_bodies,
    served_variant, spawn_app_from, wait_until,
};
use serde_json::json;
use std::time::{Duration, Instant};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn config(blip: &MockServer, page_view: &str) -> String {
    format!(
        "{BASE}\n{DEMO}\n[notify]\npage_view = \"{page_view}\"\nconversion = \"immediate\"\n\
         digest_interval_secs = 1\nretry_initial_ms = 10\nretry_max_secs = 1\n\
         [notifiers.blip]\nkind = \"bliphq\"\nurl = \"{}/api/notify\"\napi_key = \"blip-api-key\"\n",
        blip.uri()
    )
}

async fn convert(app: &TestApp) -> (String, Duration) {
    let client = browser();
    let variant = served_variant(&client, app.url("/get_content")).await;
    let start = Instant::now();
    let response = client
        .post(app.url("/track_conversion"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(status, 204, "{}", response.text().await.unwrap_or_default());
    (variant, start.elapsed())
}

#[tokio::test]
async fn a_conversion_reaches_the_bliphq_api_with_the_seeds_body() {
    let blip = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/notify"))
        .and(header("authorization", "Bearer blip-api-key"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&blip)
        .await;
    let app = spawn_app_from(&config(&blip, "off"), None).await;
    let client = browser();
    let variant = served_variant(&client, app.url("/get_content")).await;
    for _ in 0..3 {
        let status = post_status(&client, app.url("/track_conversion")).await;
        assert_eq!(status, 204);
    }
    wait_until(Duration::from_secs(10), "the notification", || async {
        !blip.received_requests().await.unwrap().is_empty()
            && app.store.pending("blip").await.unwrap() == 0
    })
    .await;
    let sent = received_bodies(&blip).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["message"], "A/B Test Event: conversion");
    assert_eq!(sent[0]["project"], "ABTestingProject");
    assert_eq!(sent[0]["nickname"], "abtestbot");
    assert_eq!(sent[0]["tags"][0], "abtest");
    assert_eq!(sent[0]["tags"][1], "conversion");
    assert_eq!(sent[0]["tags"][2], json!(variant));
    // The repeated clicks were neither counted nor notified again.
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .contains("splitcast_notifications_total{notifier=\"blip\",outcome=\"delivered\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn page_views_arrive_as_one_digest_with_exact_counts() {
    let blip = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&blip)
        .await;
    let app = spawn_app_from(&config(&blip, "digest"), None).await;
    let variant = app.get("/get_content").await.headers()["x-variant"]
        .to_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        assert_eq!(app.post("/track_view").await.status(), 204);
    }
    wait_until(Duration::from_secs(15), "the digest", || async {
        received_bodies(&blip)
            .await
            .iter()
            .any(|b| b["tags"][2] == "summary")
    })
    .await;
    let sent = received_bodies(&blip).await;
    assert_eq!(
        sent.len(),
        1,
        "one digest, no single page-view messages: {sent:?}"
    );
    assert_eq!(
        sent[0]["message"],
        format!("homepage_cta · page_view: 3 ({variant}: 3)")
    );
    assert_eq!(sent[0]["tags"], json!(["abtest", "page_view", "summary"]));
}

#[tokio::test]
async fn a_notifier_down_for_a_while_slows_no_request_and_gets_every_event_once_back() {
    let blip = MockServer::start().await;
    // Down: it hangs past the request timeout of every other request here.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_secs(2)))
        .mount(&blip)
        .await;
    let app = spawn_app_from(&config(&blip, "off"), None).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..30 {
        let (_, took) = convert(&app).await;
        slowest = slowest.max(took);
    }
    // A request that waited on the notifier would take its 2 s at least:
    // the bound tolerates anything short of that on a loaded machine.
    assert!(
        slowest < Duration::from_secs(2),
        "a request waited {slowest:?} on the notifier"
    );
    wait_until(Duration::from_secs(10), "a failed attempt", || async {
        !blip.received_requests().await.unwrap().is_empty()
    })
    .await;
    // Back up.
    blip.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&blip)
        .await;
    wait_until(Duration::from_secs(30), "all 30 events", || async {
        events_in_blip_messages(&received_bodies(&blip).await) >= 30
    })
    .await;
    let sent = received_bodies(&blip).await;
    assert_eq!(events_in_blip_messages(&sent), 30, "{sent:#?}");
    assert!(
        sent.len() < 30,
        "the backlog was coalesced: {} messages",
        sent.len()
    );
}

#[tokio::test]
async fn a_server_side_conversion_is_notified_like_a_browser_one() {
    let blip = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&blip)
        .await;
    let config =
        config(&blip, "off").patched("[session]", "[ingest]\ntoken = \"ingest-token\"\n[session]");
    let app = spawn_app_from(&config, None).await;
    let response = app
        .client
        .post(app.url("/webhook"))
        .bearer_auth("ingest-token")
        .json(&json!({"user_id": "u1", "version": "B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    wait_until(Duration::from_secs(10), "the notification", || async {
        !blip.received_requests().await.unwrap().is_empty()
    })
    .await;
    let sent = received_bodies(&blip).await;
    assert_eq!(sent[0]["message"], "A/B Test Event: conversion");
    assert_eq!(sent[0]["tags"][2], "B");
}
