use serde_json::json;
use splitcast::notify::discord::{DiscordNotifier, DiscordSettings};
use splitcast::notify::telegram::{TelegramNotifier, TelegramSettings};
use splitcast::notify::{DeliveryOutcome, Notifier};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;

fn telegram(base: &str, client: reqwest::Client) -> TelegramNotifier {
    let settings = TelegramSettings {
        bot_token: BOT_TOKEN.into(),
        chat_id: "-100123".into(),
        api_base: base.into(),
    };
    TelegramNotifier::new("team_chat", settings, client)
}

fn discord(base: &str, client: reqwest::Client) -> DiscordNotifier {
    let settings = DiscordSettings {
        webhook_url: format!("{base}/api/webhooks/1234567890/{DISCORD_TOKEN}").into(),
    };
    DiscordNotifier::new("discord", settings, "abtestbot".into(), client)
}

/// Error answers of every class, including ones that echo the request path
/// back, as some proxies and frameworks do (both paths, so one list serves both).
fn error_answers() -> Vec<ResponseTemplate> {
    let echo = format!(
        "Cannot POST /bot{BOT_TOKEN}/sendMessage or /api/webhooks/1234567890/{DISCORD_TOKEN}"
    );
    let tg = |code: u16, text: &str| json!({"ok": false, "error_code": code, "description": text});
    vec![
        ResponseTemplate::new(404).set_body_string(echo.clone()),
        ResponseTemplate::new(400).set_body_string(echo.replace(':', "%3A")),
        ResponseTemplate::new(502).set_body_string(echo.clone()),
        ResponseTemplate::new(400).set_body_json(json!({"ok": false, "description": echo})),
        ResponseTemplate::new(429).set_body_json(json!({"ok": false, "error_code": 429,
            "description": "Too Many Requests: retry after 34", "parameters": {"retry_after": 34}})),
        ResponseTemplate::new(403).set_body_json(tg(403, "Forbidden: bot was blocked by the user")),
        ResponseTemplate::new(401).set_body_json(tg(401, "Unauthorized")),
        ResponseTemplate::new(404).set_body_json(json!({"message": "Unknown Webhook", "code": 10015})),
        ResponseTemplate::new(200).set_body_json(json!({"ok": false})),
        ResponseTemplate::new(500),
        ResponseTemplate::new(200).set_delay(HANG),
    ]
}

/// Sends once and checks that neither the outcome nor the notifier's `Debug`
/// shows a token: the notifier's own (which it could scrub) nor, for a
/// response it did not provoke, any other.
async fn check(notifier: &dyn Notifier) -> DeliveryOutcome {
    let outcome = notifier.send(&conversion("homepage_cta", "B", None)).await;
    let bot_secret = BOT_TOKEN.split_once(':').unwrap().1;
    let own: &[&str] = if notifier.name() == "team_chat" {
        &[BOT_TOKEN, bot_secret]
    } else {
        &[DISCORD_TOKEN]
    };
    for (what, text) in [
        ("outcome", format!("{outcome:?}")),
        ("notifier", format!("{notifier:?}")),
    ] {
        for secret in own {
            assert!(!text.contains(secret), "{what} leaks a token: {text}");
        }
    }
    outcome
}

#[tokio::test]
async fn no_outcome_or_debug_output_ever_contains_a_token() {
    let closed = closed_port_base();
    for notifier in [
        Box::new(telegram(&closed, client())) as Box<dyn Notifier>,
        Box::new(discord(&closed, client())),
    ] {
        let outcome = check(notifier.as_ref()).await;
        assert!(
            matches!(&outcome, DeliveryOutcome::Retry { reason, .. } if reason.contains("connection failed")),
            "{outcome:?}"
        );
    }

    let server = MockServer::start().await;
    for answer in error_answers() {
        server.reset().await;
        Mock::given(method("POST"))
            .respond_with(answer)
            .mount(&server)
            .await;
        let uri = server.uri();
        let tg = check(&telegram(&uri, impatient_client())).await;
        check(&discord(&uri, impatient_client())).await;
        assert_ne!(tg, DeliveryOutcome::Delivered);
    }
}

#[tokio::test]
async fn a_malformed_discord_url_is_reported_without_echoing_it() {
    let outcome = check(&discord("not a url", client())).await;
    assert_eq!(outcome.label(), "credentials_rejected");
}
