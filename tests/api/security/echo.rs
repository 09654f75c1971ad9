//! An error answer repeats at most a short head of what the client sent:
//! a 40,000-character name must not come back whole.

use crate::helpers::{BASE, DEMO, spawn_app_from};
use reqwest::Method;
use serde_json::{Value, json};

const TOKEN: &str = "ingest-token-of-the-echo-tests";

/// The longest error message accepted here (the answer was 40 KB).
const SHORT: usize = 400;

#[tokio::test]
async fn error_messages_cut_what_the_client_sent() {
    let config = format!("{BASE}\n[ingest]\ntoken = \"{TOKEN}\"\n{DEMO}");
    let app = spawn_app_from(&config, None).await;
    let long = "x".repeat(40_000);
    let mut requests: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/get_content?experiment={long}"), None),
        (Method::GET, format!("/variant?experiment={long}"), None),
        (Method::GET, format!("/get_content?force={long}"), None),
        (Method::POST, format!("/track_view?experiment={long}"), None),
        (Method::POST, format!("/track_conversion?goal={long}"), None),
        (Method::GET, format!("/results?experiment={long}"), None),
        (Method::GET, format!("/results?format={long}"), None),
        (
            Method::GET,
            format!("/results/history?experiment={long}"),
            None,
        ),
        (Method::GET, format!("/results/history?goal={long}"), None),
        (
            Method::GET,
            format!("/get_content?{long}=1&experiment=a&experiment=b"),
            None,
        ),
        (
            Method::POST,
            format!("/experiments/{long}/status"),
            Some(json!({"status": "paused"})),
        ),
        (Method::DELETE, format!("/experiments/{long}/status"), None),
        (
            Method::POST,
            "/experiments/homepage_cta/status".to_owned(),
            Some(json!({"status": long})),
        ),
        (
            Method::POST,
            "/experiments/homepage_cta/status".to_owned(),
            Some(json!({"status": "concluded", "winner": long})),
        ),
    ];
    // The webhook: a long experiment, goal, variant, key and user id.
    for item in [
        json!({"user_id": "u1", "experiment": long, "variant": "A"}),
        json!({"user_id": "u1", "goal": long, "variant": "A"}),
        json!({"user_id": "u1", "variant": long}),
        json!({"user_id": long, "variant": "A"}),
        json!({"user_id": "u1", "variant": "A", long.as_str(): 1}),
        json!({"user_id": 7, "variant": long}),
    ] {
        requests.push((Method::POST, "/webhook".to_owned(), Some(item.clone())));
        requests.push((Method::POST, "/webhook".to_owned(), Some(json!([item]))));
    }
    // The case: the name is cut to its first 64 characters and marked.
    let answer = app.get(&format!("/get_content?experiment={long}")).await;
    let body: Value = answer.json().await.unwrap();
    let expected = format!("unknown experiment \"{}…\"", "x".repeat(64));
    assert_eq!(body["error"]["message"], expected.as_str());
    for (method, path, body) in requests {
        let mut request = app.client.request(method.clone(), app.url(&path));
        if path == "/webhook" {
            request = request.bearer_auth(TOKEN);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer = request.send().await.unwrap();
        let status = answer.status();
        let text = answer.text().await.unwrap();
        let shown = &text[..text.len().min(200)];
        assert!(
            status.is_client_error() || status == 202,
            "{method} {}: {status} {shown}",
            &path[..path.len().min(60)]
        );
        let body: Value = serde_json::from_str(&text).unwrap();
        let message = body["error"]["message"]
            .as_str()
            .or_else(|| body["rejected"][0]["message"].as_str())
            .unwrap_or_else(|| panic!("no message: {shown}"));
        assert!(
            message.chars().count() <= SHORT,
            "{method} {}: a message of {} characters: {}…",
            &path[..path.len().min(60)],
            message.len(),
            &message[..200]
        );
    }
}
