//! The admin writes cannot be driven cross-site: a foreign `Origin` is 403,
//! a POST not declared as JSON 415, even in development without a token;
//! and a development server on a reachable address needs a token to start.

use crate::helpers::{BASE, DEMO, Patch, TestApp, error_code, spawn_app_from, spawn_app_with};
use crate::lifecycle::listed;
use reqwest::header::{CONTENT_TYPE, ORIGIN};
use serde_json::json;
use std::time::{Duration, Instant};

const STATUS: &str = "/experiments/homepage_cta/status";
const PAUSE: &str = r#"{"status": "paused"}"#;

/// A POST to `path` with `body`, `content_type` and `origin` when given.
async fn post(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    origin: Option<&str>,
) -> reqwest::Response {
    let mut request = app.client.post(app.url(path)).body(PAUSE);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    if let Some(origin) = origin {
        request = request.header(ORIGIN, origin);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_foreign_page_cannot_drive_the_open_development_admin_api() {
    // Development without an admin token: the endpoints are open.
    let app = spawn_app_with(DEMO).await;
    let evil = Some("https://evil.example");
    // The issue's reproduction: a simple (preflight-free) cross-site POST.
    let plain = post(&app, STATUS, Some("text/plain"), evil).await;
    assert_eq!(error_code(plain, 403).await, "forbidden_origin");
    let json = post(&app, STATUS, Some("application/json"), evil).await;
    assert_eq!(error_code(json, 403).await, "forbidden_origin");
    let null = post(&app, STATUS, Some("application/json"), Some("null")).await;
    assert_eq!(error_code(null, 403).await, "forbidden_origin");
    let delete = app
        .client
        .delete(app.url(STATUS))
        .header(ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(delete, 403).await, "forbidden_origin");
    let reload = post(&app, "/admin/reload", Some("application/json"), evil).await;
    assert_eq!(error_code(reload, 403).await, "forbidden_origin");
    // Without an Origin (curl), the body must still be declared as JSON.
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let answer = post(&app, STATUS, content_type, None).await;
        assert_eq!(error_code(answer, 415).await, "unsupported_media_type");
        let answer = post(&app, "/admin/reload", content_type, None).await;
        assert_eq!(error_code(answer, 415).await, "unsupported_media_type");
    }
    assert_eq!(listed(&app, "homepage_cta").await["status"], "running");

    // The server's own pages (Origin = the Host it was asked on) may.
    let own = app.address.clone();
    let answer = post(
        &app,
        STATUS,
        Some("application/json; charset=utf-8"),
        Some(&own),
    )
    .await;
    assert_eq!(answer.status(), 200);
    assert_eq!(listed(&app, "homepage_cta").await["status"], "paused");
    let answer = post(&app, "/admin/reload", Some("application/json"), None).await;
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn an_origin_listed_in_cors_allowed_origins_may() {
    let partner = "https://admin.example.com";
    let config = BASE.patched(
        "max_body_bytes = 4096",
        &format!("max_body_bytes = 4096\ncors_allowed_origins = [\"{partner}\"]"),
    ) + DEMO;
    let app = spawn_app_from(&config, None).await;
    let answer = post(&app, STATUS, Some("application/json"), Some(partner)).await;
    assert_eq!(answer.status(), 200);
    let other = post(
        &app,
        STATUS,
        Some("application/json"),
        Some("https://example.com"),
    )
    .await;
    assert_eq!(error_code(other, 403).await, "forbidden_origin");
    assert_eq!(
        listed(&app, "homepage_cta").await["status"],
        json!("paused")
    );
}

#[test]
fn development_on_a_reachable_address_needs_an_admin_token_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    let db = format!("sqlite://{}", dir.path().join("x.db").display());
    for host in ["0.0.0.0", "::", "192.168.1.10", "example.com"] {
        let config = format!("{BASE}\n{DEMO}")
            .patched("host = \"127.0.0.1\"", &format!("host = \"{host}\""));
        std::fs::write(&path, config).unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_splitcast"))
            .arg("--config")
            .arg(&path)
            .env("SPLITCAST__STORAGE__URL", &db)
            .env("SPLITCAST__SERVER__PORT", "0")
            .current_dir(dir.path())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let output = exited_within(child, Duration::from_secs(30));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{host}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(lines[0].contains("admin.token"), "{stderr}");
        assert!(lines[0].contains("not a loopback address"), "{stderr}");
    }
    assert!(!dir.path().join("x.db").exists(), "nothing was started");
    // Loopback in any spelling still starts without a token (check-config
    // validates exactly what serve would).
    for host in ["127.0.0.1", "localhost", "::1", "127.0.0.2"] {
        let config = format!("{BASE}\n{DEMO}")
            .patched("host = \"127.0.0.1\"", &format!("host = \"{host}\""));
        std::fs::write(&path, config).unwrap();
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_splitcast"))
            .arg("--config")
            .arg(&path)
            .arg("check-config")
            .output()
            .unwrap();
        assert!(output.status.success(), "{host}: {output:?}");
    }
}

/// The output of `child` once it exited; a server still running after
/// `patience` is killed and fails the test.
fn exited_within(mut child: std::process::Child, patience: Duration) -> std::process::Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > patience {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "the server started: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}
