use std::time::Duration;

use serde_json::json;
use splitcast::notify::bliphq::{BlipNotifier, BlipSettings};
use splitcast::notify::{DeliveryOutcome, EventKind, Notifier};
use wiremock::matchers::{header as has_header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

const API_KEY: &str = "blip-api-key-0123456789";

fn notifier(server: &MockServer, client: reqwest::Client) -> BlipNotifier {
    let settings = BlipSettings {
        url: format!("{}/api/notify", server.uri()),
        api_key: API_KEY.into(),
    };
    BlipNotifier::new(
        "blip",
        settings,
        "ABTestingProject".into(),
        "abtestbot".into(),
        client,
    )
}

async fn accepting_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/notify"))
        .and(has_header(
            "authorization",
            format!("Bearer {API_KEY}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status": "ok"})))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_conversion_is_posted_with_the_bearer_key_and_the_documented_tags() {
    let server = accepting_server().await;
    let n = notifier(&server, client());
    let event = conversion("homepage_cta", "B", Some("conversion"));
    assert_eq!(n.send(&event).await, DeliveryOutcome::Delivered);
    let signup = conversion("homepage_cta", HOSTILE, Some("signup"));
    assert_eq!(n.send(&signup).await, DeliveryOutcome::Delivered);

    let all = requests(&server).await;
    assert_eq!(all.len(), 2);
    assert_eq!(header(&all[0], "content-type"), "application/json");
    let bodies: Vec<serde_json::Value> = all.iter().map(|r| r.body_json().unwrap()).collect();
    assert_eq!(
        bodies[0],
        json!({"message": "A/B Test Event: conversion", "project": "ABTestingProject",
               "nickname": "abtestbot", "tags": ["abtest", "conversion", "B", "homepage_cta"]})
    );
    assert_eq!(
        bodies[1]["tags"],
        json!(["abtest", "conversion", HOSTILE, "signup", "homepage_cta"])
    );
}

#[tokio::test]
async fn a_summary_carries_exact_counts_and_summary_tags() {
    let server = accepting_server().await;
    let n = notifier(&server, client());
    let conversions = line(
        "homepage_cta",
        EventKind::Conversion,
        &[("A", 15), ("B", 22)],
    );
    let views = line("homepage_cta", EventKind::PageView, &[("A", 5), ("B", 7)]);
    assert_eq!(
        n.send(&digest(vec![conversions.clone()])).await,
        DeliveryOutcome::Delivered
    );
    assert_eq!(
        n.send(&digest(vec![conversions, views])).await,
        DeliveryOutcome::Delivered
    );

    let bodies: Vec<serde_json::Value> = requests(&server)
        .await
        .iter()
        .map(|r| r.body_json().unwrap())
        .collect();
    assert_eq!(
        bodies[0]["message"],
        json!("homepage_cta · conversion: 37 (A: 15, B: 22)")
    );
    assert_eq!(
        bodies[0]["tags"],
        json!(["abtest", "conversion", "summary"])
    );
    assert_eq!(
        bodies[1]["message"],
        json!(
            "homepage_cta · conversion: 37 (A: 15, B: 22)\nhomepage_cta · page_view: 12 (A: 5, B: 7)"
        )
    );
    assert_eq!(bodies[1]["tags"], json!(["abtest", "mixed", "summary"]));
}

#[tokio::test]
async fn statuses_are_classified_as_delivered_retry_permanent_or_rejected() {
    let cases = [
        (201, None, "delivered"),
        (202, None, "delivered"),
        (301, None, "permanent"),
        (400, None, "permanent"),
        (401, None, "credentials_rejected"),
        (403, None, "credentials_rejected"),
        (404, None, "permanent"),
        (408, None, "retry"),
        (429, Some("7"), "retry"),
        (500, None, "retry"),
        (501, None, "permanent"),
        (503, Some("120"), "retry"),
    ];
    let server = MockServer::start().await;
    for (status, retry_after, want) in cases {
        server.reset().await;
        let mut template = ResponseTemplate::new(status).set_body_string("{\"error\":\"nope\"}");
        if let Some(secs) = retry_after {
            template = template.insert_header("retry-after", secs);
        }
        Mock::given(method("POST"))
            .respond_with(template)
            .mount(&server)
            .await;
        let outcome = notifier(&server, client())
            .send(&conversion("e", "A", None))
            .await;
        assert_eq!(outcome.label(), want, "{status}: {outcome:?}");
        if let (Some(secs), DeliveryOutcome::Retry { after, .. }) = (retry_after, &outcome) {
            assert_eq!(*after, Some(Duration::from_secs(secs.parse().unwrap())));
        }
        if let DeliveryOutcome::Permanent { reason } = &outcome {
            assert!(reason.contains(&status.to_string()), "{reason}");
        }
    }
}

#[tokio::test]
async fn a_hang_past_the_client_timeout_is_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(HANG))
        .mount(&server)
        .await;
    let outcome = notifier(&server, impatient_client())
        .send(&conversion("e", "A", None))
        .await;
    assert!(
        matches!(&outcome, DeliveryOutcome::Retry { after: None, reason } if reason.contains("timed out")),
        "{outcome:?}"
    );
}
