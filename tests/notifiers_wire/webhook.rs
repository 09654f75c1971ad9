use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use splitcast::notify::webhook::{WebhookNotifier, WebhookSettings};
use splitcast::notify::{DeliveryOutcome, EventKind, Notifier};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn notifier(server: &MockServer) -> WebhookNotifier {
    let settings = WebhookSettings {
        url: format!("{}/hooks/abtest", server.uri()),
        secret: SECRET.into(),
    };
    WebhookNotifier::new("hooks", settings, client()).expect("valid secret")
}

/// HMAC-SHA256 computed here, without the crate's signing code.
fn independent_signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Checks the three `webhook-*` headers of `request`; returns its id.
fn assert_signed(request: &Request) -> String {
    let id = header(request, "webhook-id").to_owned();
    let timestamp = header(request, "webhook-timestamp");
    let ts: i64 = timestamp.parse().expect("integer timestamp");
    assert!(
        (now() - ts).abs() <= 5,
        "timestamp {ts} is not the attempt time"
    );
    let want = independent_signature(SECRET, &id, timestamp, &request.body);
    assert_eq!(header(request, "webhook-signature"), want);
    assert_eq!(header(request, "content-type"), "application/json");
    id
}

#[test]
fn the_independent_hmac_reproduces_the_standard_webhooks_vector() {
    let body = br#"{"email":"test@example.com","username":"test_user"}"#;
    let sig = independent_signature(
        "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
        "1649367553",
        body,
    );
    assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
}

#[tokio::test]
async fn a_conversion_is_posted_as_typed_json_signed_per_standard_webhooks() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hooks/abtest"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let event = conversion("homepage_cta", HOSTILE, Some("signup"));
    assert_eq!(
        notifier(&server).send(&event).await,
        DeliveryOutcome::Delivered
    );

    let request = &requests(&server).await[0];
    assert_eq!(assert_signed(request), "evt_0001");
    let secret = SECRET.into();
    let headers = (
        header(request, "webhook-id"),
        header(request, "webhook-timestamp"),
        header(request, "webhook-signature"),
    );
    splitcast::standard_webhooks::verify(&secret, headers, &request.body, now(), 300)
        .expect("the crate's verifier accepts its own signature");
    assert_eq!(
        request.body_json::<serde_json::Value>().unwrap(),
        json!({"type": "abtest.conversion", "timestamp": "2022-04-07T21:39:13Z", "data": {
            "experiment": "homepage_cta", "variant": HOSTILE, "goal": "signup",
            "event": "conversion", "unit_count": 1, "occurred_at": 1_649_367_553}})
    );
}

#[tokio::test]
async fn the_webhook_id_stays_the_same_across_two_attempts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "5"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let n = notifier(&server);
    let event = conversion("homepage_cta", "B", None);
    let first = n.send(&event).await;
    assert!(
        matches!(first, DeliveryOutcome::Retry { after: Some(d), .. } if d == Duration::from_secs(5))
    );
    assert_eq!(n.send(&event).await, DeliveryOutcome::Delivered);

    let all = requests(&server).await;
    assert_eq!(all.len(), 2);
    let ids: Vec<String> = all.iter().map(assert_signed).collect();
    assert_eq!(ids, ["evt_0001", "evt_0001"]);
}

#[tokio::test]
async fn a_summary_is_typed_abtest_summary_with_exact_counts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let lines = vec![
        line(
            "homepage_cta",
            EventKind::Conversion,
            &[("A", 15), ("B", 22)],
        ),
        line("homepage_cta", EventKind::PageView, &[("A", 5), ("B", 7)]),
    ];
    assert_eq!(
        notifier(&server).send(&digest(lines)).await,
        DeliveryOutcome::Delivered
    );
    let request = &requests(&server).await[0];
    assert_eq!(assert_signed(request), "sum_0001");
    let body: serde_json::Value = request.body_json().unwrap();
    assert_eq!(body["type"], json!("abtest.summary"));
    assert_eq!(body["timestamp"], json!("2022-04-07T21:39:20Z"));
    assert_eq!(
        body["data"],
        json!({"reason": "digest", "since": 1_649_367_500, "until": 1_649_367_560,
            "counts": {"A": 15, "B": 22}, "lines": [
            {"experiment": "homepage_cta", "event": "conversion", "goal": null,
             "counts": {"A": 15, "B": 22}, "total": 37},
            {"experiment": "homepage_cta", "event": "page_view", "goal": null,
             "counts": {"A": 5, "B": 7}, "total": 12}]})
    );
}

#[tokio::test]
async fn gone_pauses_the_endpoint_and_other_statuses_classify_as_usual() {
    let server = MockServer::start().await;
    Mock::given(path("/elsewhere"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let redirect = ResponseTemplate::new(302).insert_header("location", "/elsewhere");
    for (template, want) in [
        (ResponseTemplate::new(410), "credentials_rejected"),
        (
            ResponseTemplate::new(429).insert_header("retry-after", "1"),
            "retry",
        ),
        (ResponseTemplate::new(500), "retry"),
        (ResponseTemplate::new(400), "permanent"),
        (redirect, "permanent"),
    ] {
        let mock = Mock::given(path("/hooks/abtest")).respond_with(template);
        let guard = mock.mount_as_scoped(&server).await;
        let outcome = notifier(&server).send(&significance("B beats A")).await;
        assert_eq!(outcome.label(), want, "{outcome:?}");
        drop(guard);
    }
}

#[test]
fn an_unusable_secret_is_refused_at_construction_without_echoing_it() {
    let settings = WebhookSettings {
        url: "http://127.0.0.1:9/".into(),
        secret: "whsec_not!base64-secretish".into(),
    };
    let err = WebhookNotifier::new("hooks", settings, client()).unwrap_err();
    assert!(!format!("{err} {err:?}").contains("secretish"));
}

#[tokio::test]
async fn a_lifecycle_change_is_typed_abtest_lifecycle() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let outcome = notifier(&server).send(&lifecycle("won")).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered);
    let request = &requests(&server).await[0];
    assert_eq!(assert_signed(request), "life_0001");
    let body: serde_json::Value = request.body_json().unwrap();
    assert_eq!(body["type"], json!("abtest.lifecycle"));
    assert_eq!(body["timestamp"], json!("2022-04-07T21:39:20Z"));
    assert_eq!(
        body["data"],
        json!({"experiment": "homepage_cta", "status": "concluded", "winner": "B",
               "reason": "won", "source": "override",
               "text": "homepage_cta concluded: B ships — won"})
    );
}
