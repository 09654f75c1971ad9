use std::time::Duration;

use serde_json::json;
use splitcast::notify::discord::{DiscordNotifier, DiscordSettings};
use splitcast::notify::{DeliveryOutcome, Notifier};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn hook_path() -> String {
    format!("/api/webhooks/1234567890/{DISCORD_TOKEN}")
}

fn notifier_at(url: String, client: reqwest::Client) -> DiscordNotifier {
    let settings = DiscordSettings {
        webhook_url: url.into(),
    };
    DiscordNotifier::new("discord", settings, "abtestbot".into(), client)
}

fn notifier(server: &MockServer) -> DiscordNotifier {
    notifier_at(format!("{}{}", server.uri(), hook_path()), client())
}

fn message(content: &str) -> serde_json::Value {
    json!({"id": "1100000000000000001", "type": 0, "channel_id": "1000000000000000001",
           "content": content, "webhook_id": "1234567890", "mentions": [], "mention_roles": [],
           "author": {"id": "1234567890", "username": "abtestbot", "bot": true}})
}

async fn answer(template: ResponseTemplate) -> (MockServer, DeliveryOutcome) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(hook_path()))
        .respond_with(template)
        .expect(1)
        .mount(&server)
        .await;
    let outcome = notifier(&server)
        .send(&conversion("homepage_cta", "B", None))
        .await;
    (server, outcome)
}

fn rate_limited(body_secs: f64, header: &str) -> ResponseTemplate {
    ResponseTemplate::new(429)
        .insert_header("retry-after", header)
        .insert_header("x-ratelimit-limit", "5")
        .insert_header("x-ratelimit-remaining", "0")
        .insert_header("x-ratelimit-reset-after", header)
        .insert_header("x-ratelimit-bucket", "abcd1234")
        .insert_header("x-ratelimit-scope", "user")
        .set_body_json(json!({"message": "You are being rate limited.",
                              "retry_after": body_secs, "global": false}))
}

#[tokio::test]
async fn a_conversion_is_posted_with_wait_true_escaped_markdown_and_no_mentions() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(hook_path()))
        .and(query_param("wait", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message("x")))
        .expect(1)
        .mount(&server)
        .await;
    let event = conversion("homepage_cta", "@everyone *B*_~|>`<b>&x", Some("signup"));
    assert_eq!(
        notifier(&server).send(&event).await,
        DeliveryOutcome::Delivered
    );

    let all = requests(&server).await;
    assert_eq!(all[0].url.query(), Some("wait=true"));
    assert_eq!(header(&all[0], "content-type"), "application/json");
    let content = "**A/B Test Event: conversion**\nExperiment: homepage\\_cta\n\
                   Variant: **@\u{200B}everyone \\*B\\*\\_\\~\\|\\>\\`\\<b\\>&x**\nGoal: signup";
    assert_eq!(
        all[0].body_json::<serde_json::Value>().unwrap(),
        json!({"username": "abtestbot", "content": content, "allowed_mentions": {"parse": []}})
    );
}

#[tokio::test]
async fn an_existing_query_is_kept_and_wait_true_appended() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(query_param("thread_id", "42"))
        .and(query_param("wait", "true"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let url = format!("{}{}?thread_id=42", server.uri(), hook_path());
    let outcome = notifier_at(url, client()).send(&digest(vec![])).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered);
    assert_eq!(
        requests(&server).await[0].url.query(),
        Some("thread_id=42&wait=true")
    );
}

#[tokio::test]
async fn rate_limits_wait_for_the_larger_of_the_body_and_header_values() {
    for (body, header, want) in [(1.5, "2", 2000), (64.57, "1", 64570), (0.25, "0.5", 500)] {
        let (_s, outcome) = answer(rate_limited(body, header)).await;
        let DeliveryOutcome::Retry { after, reason } = outcome else {
            panic!("expected Retry, got {outcome:?}");
        };
        assert_eq!(after, Some(Duration::from_millis(want)), "{body} {header}");
        assert!(reason.contains("You are being rate limited."), "{reason}");
    }
}

#[tokio::test]
async fn an_unknown_webhook_or_rejected_token_pauses_the_notifier() {
    let unknown = json!({"message": "Unknown Webhook", "code": 10015});
    let invalid = json!({"message": "Invalid Webhook Token", "code": 50027});
    for (status, body) in [(404, unknown), (401, invalid.clone()), (403, invalid)] {
        let (_s, outcome) = answer(ResponseTemplate::new(status).set_body_json(body)).await;
        let DeliveryOutcome::CredentialsRejected { reason } = outcome else {
            panic!("expected CredentialsRejected, got {outcome:?}");
        };
        assert!(reason.contains("Webhook"), "{reason}");
    }
}

#[tokio::test]
async fn an_invalid_form_body_is_permanent_with_discords_errors() {
    let body = json!({"message": "Invalid Form Body", "code": 50035, "errors": {"content":
        {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}]}}});
    let (_s, outcome) = answer(ResponseTemplate::new(400).set_body_json(body)).await;
    let DeliveryOutcome::Permanent { reason } = outcome else {
        panic!("expected Permanent, got {outcome:?}");
    };
    assert!(
        reason.contains("Must be 2000 or fewer in length."),
        "{reason}"
    );
}

#[tokio::test]
async fn server_errors_and_a_hang_are_retried() {
    for status in [500, 502, 503, 504] {
        let (_s, outcome) = answer(ResponseTemplate::new(status)).await;
        assert_eq!(outcome.label(), "retry", "{status}");
    }
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204).set_delay(HANG))
        .mount(&server)
        .await;
    let url = format!("{}{}", server.uri(), hook_path());
    let outcome = notifier_at(url, impatient_client())
        .send(&significance("x"))
        .await;
    assert!(
        matches!(&outcome, DeliveryOutcome::Retry { reason, .. } if reason.contains("timed out")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn content_is_cut_to_2000_characters_without_a_dangling_escape() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(message("x")))
        .mount(&server)
        .await;
    let text = "*_@".repeat(2000);
    let outcome = notifier(&server).send(&significance(&text)).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered);
    let body = only_json(&server).await;
    let content = body["content"].as_str().unwrap();
    assert!((1990..=2000).contains(&content.chars().count()));
    assert!(content.ends_with('…'));
    let before = content.trim_end_matches('…');
    let trailing = before.len() - before.trim_end_matches('\\').len();
    assert_eq!(trailing % 2, 0, "dangling backslash");
    assert!(!content.contains("@e") && !content.contains("@*"));
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
}

#[tokio::test]
async fn a_success_that_spends_the_webhooks_bucket_asks_for_its_reset() {
    let spent = ResponseTemplate::new(200)
        .insert_header("x-ratelimit-limit", "5")
        .insert_header("x-ratelimit-remaining", "0")
        .insert_header("x-ratelimit-reset", "1770000000.913")
        .insert_header("x-ratelimit-reset-after", "1.913")
        .insert_header("x-ratelimit-bucket", "abcd1234")
        .set_body_json(message("ok"));
    let (_s, outcome) = answer(spent).await;
    assert_eq!(
        outcome,
        DeliveryOutcome::DeliveredThenWait {
            wait: Duration::from_millis(1913)
        }
    );
    let left = ResponseTemplate::new(200)
        .insert_header("x-ratelimit-remaining", "4")
        .insert_header("x-ratelimit-reset-after", "1.913")
        .set_body_json(message("ok"));
    assert_eq!(answer(left).await.1, DeliveryOutcome::Delivered);
}
