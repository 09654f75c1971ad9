use std::time::Duration;

use serde_json::json;
use splitcast::notify::telegram::{TelegramNotifier, TelegramSettings};
use splitcast::notify::{DeliveryOutcome, EventKind, Notifier};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

const CHAT: &str = "-1001234567890";

fn notifier(server: &MockServer, client: reqwest::Client) -> TelegramNotifier {
    let settings = TelegramSettings {
        bot_token: BOT_TOKEN.into(),
        chat_id: CHAT.into(),
        api_base: format!("{}/", server.uri()),
    };
    TelegramNotifier::new("team_chat", settings, client)
}

fn send_path() -> String {
    format!("/bot{BOT_TOKEN}/sendMessage")
}

fn sent_message(chat_id: i64, text: &str) -> serde_json::Value {
    json!({"ok": true, "result": {
        "message_id": 42, "date": 1_649_367_553,
        "chat": {"id": chat_id, "title": "A/B team", "type": "supergroup"},
        "from": {"id": 123_456_789, "is_bot": true, "first_name": "abtestbot", "username": "abtestbot"},
        "text": text}})
}

fn error(code: u16, description: &str, parameters: Option<serde_json::Value>) -> ResponseTemplate {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    ResponseTemplate::new(code).set_body_json(body)
}

async fn answer(template: ResponseTemplate) -> (MockServer, DeliveryOutcome) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(send_path()))
        .respond_with(template)
        .expect(1)
        .mount(&server)
        .await;
    let outcome = notifier(&server, client())
        .send(&conversion("homepage_cta", "B", None))
        .await;
    (server, outcome)
}

#[tokio::test]
async fn a_conversion_is_posted_to_the_bot_path_as_escaped_html() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(send_path()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(sent_message(-1_001_234_567_890, "x")),
        )
        .expect(1)
        .mount(&server)
        .await;
    let event = conversion("exp<i>", HOSTILE, Some("g&\"1\""));
    let outcome = notifier(&server, client()).send(&event).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered);

    let all = requests(&server).await;
    let request = &all[0];
    assert_eq!(request.url.path(), send_path());
    assert_eq!(header(request, "content-type"), "application/json");
    assert!(header(request, "user-agent").starts_with("splitcast/"));
    let body: serde_json::Value = request.body_json().unwrap();
    let text = "<b>A/B Test Event: conversion</b>\nExperiment: <code>exp&lt;i&gt;</code>\n\
                Variant: <b>&lt;b&gt;&amp;x</b>\nGoal: g&amp;&quot;1&quot;";
    assert_eq!(
        body,
        json!({"chat_id": -1_001_234_567_890_i64, "text": text, "parse_mode": "HTML",
               "link_preview_options": {"is_disabled": true}})
    );
}

#[tokio::test]
async fn flood_control_asks_for_a_retry_after_telegrams_own_wait() {
    let params = json!({"retry_after": 34});
    let (_s, outcome) = answer(error(
        429,
        "Too Many Requests: retry after 34",
        Some(params),
    ))
    .await;
    let DeliveryOutcome::Retry { after, reason } = outcome else {
        panic!("expected Retry, got {outcome:?}");
    };
    assert_eq!(after, Some(Duration::from_secs(34)));
    assert!(
        reason.contains("Too Many Requests: retry after 34"),
        "{reason}"
    );
}

#[tokio::test]
async fn chat_not_found_is_permanent_with_telegrams_description() {
    let (_s, outcome) = answer(error(400, "Bad Request: chat not found", None)).await;
    let DeliveryOutcome::Permanent { reason } = outcome else {
        panic!("expected Permanent, got {outcome:?}");
    };
    assert!(reason.contains("Bad Request: chat not found"), "{reason}");
}

#[tokio::test]
async fn a_blocked_kicked_or_unauthorized_bot_pauses_the_notifier() {
    for (code, text) in [
        (403, "Forbidden: bot was blocked by the user"),
        (403, "Forbidden: bot was kicked from the supergroup chat"),
        (401, "Unauthorized"),
    ] {
        let (_s, outcome) = answer(error(code, text, None)).await;
        assert!(
            matches!(&outcome, DeliveryOutcome::CredentialsRejected { reason } if reason.contains(text)),
            "{code} {text}: {outcome:?}"
        );
    }
}

#[tokio::test]
async fn an_upgraded_group_reports_the_new_chat_id_which_the_caller_can_follow() {
    let server = MockServer::start().await;
    let params = json!({"migrate_to_chat_id": -1_001_557_912_345_i64});
    let upgraded = "Bad Request: group chat was upgraded to a supergroup chat";
    Mock::given(method("POST"))
        .respond_with(error(400, upgraded, Some(params)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(sent_message(-1_001_557_912_345, "x")),
        )
        .mount(&server)
        .await;
    let old = notifier(&server, client());
    let event = conversion("homepage_cta", "B", None);
    let outcome = old.send(&event).await;
    let DeliveryOutcome::ChatMigrated { new_chat_id } = outcome else {
        panic!("expected ChatMigrated, got {outcome:?}");
    };
    assert_eq!(new_chat_id, -1_001_557_912_345);

    let moved = old.with_chat_id(new_chat_id);
    assert_eq!(moved.chat_id(), "-1001557912345");
    assert_eq!(moved.send(&event).await, DeliveryOutcome::Delivered);
    let all = requests(&server).await;
    let chat_ids: Vec<_> = all
        .iter()
        .map(|r| r.body_json::<serde_json::Value>().unwrap()["chat_id"].clone())
        .collect();
    assert_eq!(
        chat_ids,
        [json!(-1_001_234_567_890_i64), json!(-1_001_557_912_345_i64)]
    );
}

#[tokio::test]
async fn server_errors_and_a_hang_are_retried() {
    let (_s, outcome) = answer(error(500, "Internal Server Error", None)).await;
    assert!(
        matches!(outcome, DeliveryOutcome::Retry { after: None, .. }),
        "{outcome:?}"
    );
    let (_s, outcome) = answer(ResponseTemplate::new(502).insert_header("retry-after", "3")).await;
    assert_eq!(outcome.label(), "retry");
    assert!(
        matches!(outcome, DeliveryOutcome::Retry { after: Some(d), .. } if d == Duration::from_secs(3))
    );

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(sent_message(1, "x"))
                .set_delay(HANG),
        )
        .mount(&server)
        .await;
    let outcome = notifier(&server, impatient_client())
        .send(&conversion("homepage_cta", "B", None))
        .await;
    assert!(
        matches!(&outcome, DeliveryOutcome::Retry { reason, .. } if reason.contains("timed out")),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn only_ok_true_on_http_200_counts_as_delivered() {
    let (_s, outcome) =
        answer(ResponseTemplate::new(200).set_body_json(json!({"ok": false}))).await;
    assert_eq!(outcome.label(), "permanent");
    let (_s, outcome) =
        answer(ResponseTemplate::new(200).set_body_string("<html>proxy</html>")).await;
    assert_eq!(outcome.label(), "permanent");
}

#[tokio::test]
async fn long_messages_are_cut_to_4096_characters_without_breaking_a_tag_or_entity() {
    let lines = (0..400)
        .map(|i| {
            line(
                &format!("{HOSTILE}{i}"),
                EventKind::Conversion,
                &[("A", i), ("B", 1)],
            )
        })
        .collect();
    for notification in [digest(lines), significance(&HOSTILE.repeat(2000))] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(sent_message(1, "x")))
            .mount(&server)
            .await;
        let outcome = notifier(&server, client()).send(&notification).await;
        assert_eq!(outcome, DeliveryOutcome::Delivered);
        let body = only_json(&server).await;
        let text = body["text"].as_str().unwrap();
        let chars = text.chars().count();
        assert!((4080..=4096).contains(&chars), "{chars} characters");
        assert!(text.ends_with('…'), "{}", &text[text.len() - 20..]);
        assert_well_formed_html(text);
    }
}

#[tokio::test]
async fn a_channel_username_is_sent_as_a_string_chat_id() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent_message(1, "x")))
        .mount(&server)
        .await;
    let settings = TelegramSettings {
        bot_token: BOT_TOKEN.into(),
        chat_id: "@abtest_channel".into(),
        api_base: server.uri(),
    };
    let n = TelegramNotifier::new("team_chat", settings, client());
    let test = splitcast::notify::Notification::Test { id: "t".into() };
    assert_eq!(n.send(&test).await, DeliveryOutcome::Delivered);
    let body = only_json(&server).await;
    assert_eq!(body["chat_id"], json!("@abtest_channel"));
    assert_eq!(
        body["text"],
        json!("<b>A/B Test: splitcast test notification</b>")
    );
}

#[tokio::test]
async fn a_lifecycle_change_escapes_its_free_text_reason() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(send_path()))
        .respond_with(ResponseTemplate::new(200).set_body_json(sent_message(1, "x")))
        .mount(&server)
        .await;
    let outcome = notifier(&server, client()).send(&lifecycle("<b>&x")).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered);
    let body: serde_json::Value = requests(&server).await[0].body_json().unwrap();
    assert_eq!(
        body["text"],
        "<b>A/B Test Lifecycle: homepage_cta</b>\nhomepage_cta concluded: B ships — &lt;b&gt;&amp;x"
    );
}

/// Telegram refusing the HTML of every message, as it would markup it
/// cannot parse; what it does with a plain one is `plain`.
async fn refusing_html(plain: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    let refused =
        "Bad Request: can't parse entities: Unsupported start tag \"br\" at byte offset 10";
    Mock::given(method("POST"))
        .and(path(send_path()))
        .and(wiremock::matchers::body_partial_json(
            json!({"parse_mode": "HTML"}),
        ))
        .respond_with(error(400, refused, None))
        .with_priority(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(send_path()))
        .respond_with(plain)
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn markup_telegram_cannot_parse_is_resent_once_as_plain_text() {
    let server =
        refusing_html(ResponseTemplate::new(200).set_body_json(sent_message(1, "x"))).await;
    let outcome = notifier(&server, client()).send(&lifecycle("<b>&x")).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered);
    let plain: serde_json::Value = requests(&server).await[1].body_json().unwrap();
    assert_eq!(plain.get("parse_mode"), None, "{plain}");
    assert_eq!(plain["chat_id"], json!(-1001234567890_i64));
    // Nothing escaped, no tags: the text a reader would have seen.
    assert_eq!(
        plain["text"],
        "A/B Test Lifecycle: homepage_cta\nhomepage_cta concluded: B ships — <b>&x"
    );
}

#[tokio::test]
async fn a_plain_resend_that_fails_too_is_settled_by_its_own_answer() {
    let server = refusing_html(error(400, "Bad Request: chat not found", None)).await;
    let outcome = notifier(&server, client()).send(&lifecycle("x")).await;
    let DeliveryOutcome::Permanent { reason } = outcome else {
        panic!("expected Permanent, got {outcome:?}");
    };
    assert!(reason.contains("chat not found"), "{reason}");
    assert_eq!(requests(&server).await.len(), 2, "one resend, no more");
}

#[tokio::test]
async fn a_plain_resend_is_cut_to_4096_characters_too() {
    let server =
        refusing_html(ResponseTemplate::new(200).set_body_json(sent_message(1, "x"))).await;
    let reason = "é".repeat(5000);
    let outcome = notifier(&server, client()).send(&lifecycle(&reason)).await;
    assert_eq!(outcome, DeliveryOutcome::Delivered);
    let plain: serde_json::Value = requests(&server).await[1].body_json().unwrap();
    let text = plain["text"].as_str().unwrap();
    assert_eq!(text.chars().count(), 4096);
    assert!(text.ends_with("é…"), "{}", &text[text.len() - 20..]);
}
