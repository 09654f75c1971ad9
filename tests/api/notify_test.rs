//! `splitcast notify-test` through the real binary against mock services.

use splitcast::store::Outbox;
use std::process::Command;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "123456789:AAH-secret-token-value";

#[tokio::test]
async fn notify_test_prints_each_outcome_and_exits_1_when_one_fails() {
    let blip = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/notify"))
        .and(header("authorization", "Bearer blip-key-123"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .expect(1)
        .mount(&blip)
        .await;
    let telegram = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/bot{TOKEN}/sendMessage")))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!(
            {"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}
        )))
        .expect(1)
        .mount(&telegram)
        .await;
    let config = format!(
        "{}\n[notifiers.blip]\nkind = \"bliphq\"\nurl = \"{}/api/notify\"\napi_key = \"blip-key-123\"\n\
         [notifiers.team_chat]\nkind = \"telegram\"\nbot_token = \"{TOKEN}\"\nchat_id = \"-100123\"\napi_base = \"{}\"\n",
        include_str!("../../config/default.toml"),
        blip.uri(),
        telegram.uri()
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("config")).unwrap();
    let config_path = dir.path().join("config/config.toml");
    std::fs::write(&config_path, config).unwrap();
    // The store of this configuration (../data/splitcast.db from its folder),
    // with `blip` paused as a server does after rejected credentials.
    let db = format!(
        "sqlite://{}",
        dir.path().join("data/splitcast.db").display()
    );
    let store = splitcast::store::open(&db.into(), splitcast::store::no_routing())
        .await
        .unwrap();
    store.pause("blip", "401 Unauthorized", 0).await.unwrap();
    store
        .pause("team_chat", "401 Unauthorized", 0)
        .await
        .unwrap();
    let workdir = dir.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_splitcast"))
            .arg("notify-test")
            .arg("--config")
            .arg(&config_path)
            .current_dir(workdir)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stdout.contains("blip: delivered"), "{stdout}");
    assert!(stdout.contains("console: delivered"), "{stdout}");
    assert!(stdout.contains("team_chat: FAILED (permanent)"), "{stdout}");
    assert!(stdout.contains("chat not found"), "{stdout}");
    // Working credentials resume a paused notifier; failing ones do not.
    assert_eq!(store.paused("blip").await.unwrap(), None);
    assert!(store.paused("team_chat").await.unwrap().is_some());
    for secret in [TOKEN, "AAH-secret-token-value", "blip-key-123"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} leaked"
        );
    }
}
