//! A refused credential answers the same bare 401 whatever was wrong, but
//! the operator's log says what (at INFO), never the secret; and `/metrics`
//! is guarded as soon as `admin.token` is, as the configuration table says.

use crate::durability::start_server_with;
use crate::helpers::{BASE, DEMO, error_code, spawn_app_with, wait_until};
use crate::webhook::{config as ingest_config, now, sign};
use std::time::Duration;

const ADMIN: &str = "admin-token-of-the-auth-log-tests-0123";
const WRONG: &str = "wrong-token-that-must-not-be-logged-42";

#[tokio::test]
async fn each_refusal_is_logged_with_its_reason_and_without_any_secret() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.toml");
    let config = format!("{BASE}\n[admin]\ntoken = \"{ADMIN}\"\n{}", ingest_config());
    std::fs::write(&config_path, config).unwrap();
    let db = format!("sqlite://{}", dir.path().join("events.db").display());
    let env = [
        ("RUST_LOG", "info"),
        ("SPLITCAST__STORAGE__URL", db.as_str()),
        ("SPLITCAST__SERVER__PORT", "0"),
    ];
    let mut server = start_server_with(&config_path, dir.path(), &env);
    let client = reqwest::Client::new();
    let url = |path: &str| format!("{}{path}", server.address());

    let wrong = client
        .get(url("/results"))
        .bearer_auth(WRONG)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(wrong, 401).await, "unauthorized");
    let bare = client.get(url("/metrics")).send().await.unwrap();
    assert_eq!(error_code(bare, 401).await, "unauthorized");
    // Validly signed ten minutes ago: a replay window's worth too old.
    let body =
        br#"{"experiment":"homepage_cta","user_id":"u1","event":"conversion","variant":"A"}"#;
    let stale = now() - 600;
    let old = client
        .post(url("/webhook"))
        .header("content-type", "application/json")
        .header("webhook-id", "msg_stale")
        .header("webhook-timestamp", stale.to_string())
        .header("webhook-signature", sign("msg_stale", stale, body))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let message = old.text().await.unwrap();
    assert!(
        message.contains("missing or invalid credentials"),
        "{message}"
    );
    let token = client
        .post(url("/webhook"))
        .bearer_auth(WRONG)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 401);

    let log = server.log.clone();
    let refusals = || {
        log.lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains("credentials refused"))
            .cloned()
            .collect::<Vec<_>>()
    };
    wait_until(Duration::from_secs(10), "four logged refusals", || async {
        refusals().len() >= 4
    })
    .await;
    let lines = refusals();
    let with = |endpoint: &str, reason: &str| {
        lines
            .iter()
            .any(|l| l.contains(" INFO ") && l.contains(endpoint) && l.contains(reason))
    };
    assert!(
        with("/results", "the Bearer token is not the configured one"),
        "{lines:#?}"
    );
    assert!(with("/metrics", "no Authorization header"), "{lines:#?}");
    assert!(
        with("/webhook", "webhook-timestamp is too old"),
        "{lines:#?}"
    );
    assert!(
        with("/webhook", "the Bearer token is not the configured one"),
        "{lines:#?}"
    );
    let everything = server.log.lock().unwrap().join("\n");
    for secret in [ADMIN, WRONG, crate::webhook::TOKEN, "whsec_"] {
        assert!(
            !everything.contains(secret),
            "{secret} logged:\n{everything}"
        );
    }
    server.kill();
}

#[tokio::test]
async fn metrics_need_the_admin_token_in_development_once_it_is_set() {
    let open = spawn_app_with(DEMO).await;
    assert_eq!(open.get("/metrics").await.status(), 200);
    let guarded = spawn_app_with(&format!("[admin]\ntoken = \"{ADMIN}\"\n{DEMO}")).await;
    let bare = guarded.get("/metrics").await;
    assert_eq!(error_code(bare, 401).await, "unauthorized");
    let with_token = guarded
        .client
        .get(guarded.url("/metrics"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status(), 200);
}
