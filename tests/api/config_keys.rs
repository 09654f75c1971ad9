//! Keys as operators actually write them: wrapped base64 secrets, lists from
//! the environment, and the `[limits]` section.

use crate::config_validation::{DEFAULT, production_config, rejects, run};
use crate::helpers::{DEMO, spawn_app_with};
use crate::webhook::{KEY, now, sign};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// Base64 as `openssl rand -base64` prints it: 64 characters a line.
fn wrapped(bytes: &[u8]) -> String {
    let encoded = STANDARD.encode(bytes);
    let lines: Vec<&str> = encoded
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    lines.join("\n")
}

#[test]
fn a_wrapped_base64_secret_is_accepted_in_every_key_shaped_setting() {
    let session_key = wrapped(&[7u8; 64]);
    assert_eq!(session_key.lines().count(), 2, "as openssl prints it");
    let signing = format!("whsec_{}", wrapped(&[9u8; 48]).replace('\n', "\n "));
    let example = include_str!("../../config/production.example.toml");
    let (status, stdout, stderr) = run(
        &["check-config"],
        example,
        &[
            ("SPLITCAST__SESSION__SECRET_KEY", &session_key),
            ("SPLITCAST__INGEST__SIGNING_SECRET", &signing),
            (
                "SPLITCAST__ADMIN__TOKEN",
                "prod-admin-token-of-32-characters",
            ),
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stdout.contains("signing_secret = \"[redacted]\""),
        "{stdout}"
    );
    let first_line = session_key.lines().next().unwrap();
    assert!(!stdout.contains(first_line) && !stderr.contains(first_line));
    // A notifier's webhook secret, wrapped inside the TOML string.
    let hook = format!(
        "\n[notifiers.hook]\nkind = \"webhook\"\nurl = \"https://hooks.example/ab\"\n\
         secret = \"whsec_{}\"\n",
        wrapped(&[5u8; 48]).replace('\n', "\\n")
    );
    let (status, _, stderr) = run(&["check-config"], &(production_config() + &hook), &[]);
    assert_eq!(status, 0, "{stderr}");
    // What is not base64 is still refused, by key, without the value.
    let (status, _, stderr) = run(
        &["check-config"],
        DEFAULT,
        &[("SPLITCAST__SESSION__SECRET_KEY", "not base64!\nsecretish")],
    );
    assert_eq!(status, 2);
    assert!(stderr.contains("session.secret_key") && !stderr.contains("secretish"));
}

#[tokio::test]
async fn a_wrapped_signing_secret_verifies_what_the_unwrapped_one_signed() {
    let secret = format!("whsec_{}", wrapped(KEY).replace('\n', "\\n "));
    let app = spawn_app_with(&format!("[ingest]\nsigning_secret = \"{secret}\"\n{DEMO}")).await;
    let body = r#"{"user_id": "u1", "version": "B"}"#;
    let ts = now();
    let response = app
        .client
        .post(app.url("/webhook"))
        .header("content-type", "application/json")
        .header("webhook-id", "msg_1")
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sign("msg_1", ts, body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
}

#[test]
fn cors_origins_can_come_from_the_environment_comma_separated() {
    let (status, stdout, stderr) = run(
        &["check-config"],
        DEFAULT,
        &[(
            "SPLITCAST__SERVER__CORS_ALLOWED_ORIGINS",
            "https://www.example.com,https://shop.example.com",
        )],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stdout.contains(
            "cors_allowed_origins = [\n    \"https://www.example.com\",\n    \"https://shop.example.com\",\n]"
        ),
        "{stdout}"
    );
    let (status, _, stderr) = run(
        &["check-config"],
        DEFAULT,
        &[(
            "SPLITCAST__SERVER__CORS_ALLOWED_ORIGINS",
            "https://a.example,www.example.com",
        )],
    );
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("server.cors_allowed_origins"), "{stderr}");
}

/// The `[limits]` table `check-config` prints.
fn printed_limits(stdout: &str) -> &str {
    let start = stdout.find("[limits]").expect("a [limits] table");
    let rest = &stdout[start..];
    rest.find("\n\n").map_or(rest, |end| &rest[..end])
}

#[test]
fn limits_are_on_in_production_off_in_development_and_each_key_is_checked() {
    let (status, stdout, stderr) = run(&["check-config"], DEFAULT, &[]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        printed_limits(&stdout),
        "[limits]\nburst = 60\nenabled = false\ntrusted_proxy_header = \"\"\nwrites_per_second = 20.0\n"
            .trim_end()
    );
    let (status, stdout, stderr) = run(&["check-config"], &production_config(), &[]);
    assert_eq!(status, 0, "{stderr}");
    assert!(
        printed_limits(&stdout).contains("enabled = true"),
        "{stdout}"
    );
    let env = [
        ("SPLITCAST__LIMITS__ENABLED", "true"),
        ("SPLITCAST__LIMITS__WRITES_PER_SECOND", "2.5"),
        ("SPLITCAST__LIMITS__BURST", "10"),
        ("SPLITCAST__LIMITS__TRUSTED_PROXY_HEADER", "X-Real-IP"),
    ];
    let (status, stdout, stderr) = run(&["check-config"], DEFAULT, &env);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(
        printed_limits(&stdout),
        "[limits]\nburst = 10\nenabled = true\ntrusted_proxy_header = \"X-Real-IP\"\nwrites_per_second = 2.5\n"
            .trim_end()
    );
    for (line, key) in [
        ("writes_per_second = 0", "limits.writes_per_second"),
        ("writes_per_second = -3", "limits.writes_per_second"),
        ("burst = 0", "limits.burst"),
        ("burst = -1", "limits.burst"),
        (
            "trusted_proxy_header = \"X Forwarded\"",
            "limits.trusted_proxy_header",
        ),
        ("enabled = \"sometimes\"", "limits.enabled"),
        ("per_client = 3", "per_client"),
    ] {
        rejects(&format!("{DEFAULT}\n[limits]\n{line}\n"), key);
    }
}
