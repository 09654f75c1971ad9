//! A reload checks the file under the running environment's rules: a
//! production process never takes what only development accepts.

use crate::helpers::{Patch, TestApp, error_code, spawn_app_from};
use crate::lifecycle::{TOKEN, answering_blip, blip, config};
use crate::reload::reload;
use serde_json::{Value, json};

fn production() -> String {
    config("")
        .patched(
            "environment = \"development\"",
            "environment = \"production\"",
        )
        .patched("[session]", "[session]\nsecure = true")
}

/// Asserts that the admin API still wants the token.
async fn still_guarded(app: &TestApp) {
    assert_eq!(
        error_code(app.get("/results").await, 401).await,
        "unauthorized"
    );
    let change = app
        .client
        .post(app.url("/experiments/homepage_cta/status"))
        .json(&json!({"status": "paused"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(change, 401).await, "unauthorized");
}

#[tokio::test]
async fn a_file_switched_to_development_is_checked_under_production_rules() {
    let app = spawn_app_from(&production(), None).await;
    let catcher = answering_blip().await;
    let running = std::fs::read_to_string(&app.config_path).unwrap();
    let to_development = running.patched(
        "environment = \"production\"",
        "environment = \"development\"",
    );

    // The reproduction (development, no admin token, a loopback notifier),
    // then each of its two changes alone: each is refused by its key.
    let no_token = to_development.patched(&format!("token = \"{TOKEN}\""), "token = \"\"");
    let loopback = to_development.clone() + &blip(&catcher, None);
    for (text, key) in [
        (
            no_token.clone() + &blip(&catcher, None),
            "notifiers.blip.url",
        ),
        (no_token, "admin.token"),
        (loopback, "notifiers.blip.url"),
    ] {
        std::fs::write(&app.config_path, text).unwrap();
        let answer = reload(&app).await;
        assert_eq!(answer.status(), 422);
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["error"]["code"], "invalid_config");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(key), "{message}");
        still_guarded(&app).await;
    }

    // A file that production's rules accept applies; its environment waits
    // for a restart and the admin API keeps its token.
    std::fs::write(&app.config_path, &to_development).unwrap();
    let answer = reload(&app).await;
    assert_eq!(answer.status(), 200);
    let body: Value = answer.json().await.unwrap();
    let line = body["needs_restart"][0].as_str().unwrap();
    assert!(line.starts_with("environment: "), "{body}");
    assert!(line.contains("production's rules"), "{line}");
    still_guarded(&app).await;
    assert!(catcher.received_requests().await.unwrap().is_empty());
}
