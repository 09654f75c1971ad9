//! Run-time lifecycle through the admin API: pause, resume and conclude an
//! experiment without a restart, on every instance, announced once.

use crate::helpers::{
    BASE, DEMO, TestApp, browser, error_code, post_status, received_bodies, served_variant,
    spawn_app_from, stays_true, wait_until,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const TOKEN: &str = "admin-token-for-the-lifecycle-tests";

/// `BASE` with an admin token, `extra` sections and the demo experiment.
pub fn config(extra: &str) -> String {
    format!("{BASE}\n[admin]\ntoken = \"{TOKEN}\"\n{extra}\n{DEMO}")
}

/// A BlipHQ notifier at `server` that wants `events` (all when `None`).
pub fn blip(server: &MockServer, events: Option<&str>) -> String {
    let events = events.map_or(String::new(), |e| format!("events = {e}\n"));
    format!(
        "[notifiers.blip]\nkind = \"bliphq\"\nurl = \"{}/api/notify\"\napi_key = \"blip-key\"\n{events}",
        server.uri()
    )
}

pub async fn answering_blip() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/notify"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

/// `POST /experiments/{name}/status` with the admin token.
pub async fn set_status(app: &TestApp, name: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/experiments/{name}/status")))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn clear_status(app: &TestApp, name: &str) -> reqwest::Response {
    app.client
        .delete(app.url(&format!("/experiments/{name}/status")))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
}

/// The entry of `name` in `GET /experiments`.
pub async fn listed(app: &TestApp, name: &str) -> Value {
    let body: Value = app.get_json_with("/experiments", TOKEN).await;
    body["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .cloned()
        .unwrap()
}

/// The variant a brand-new visitor is served.
pub async fn new_visitor_sees(app: &TestApp) -> String {
    served_variant(&browser(), app.url("/get_content")).await
}

fn lifecycle_messages(bodies: &[Value]) -> Vec<&Value> {
    bodies
        .iter()
        .filter(|b| b["tags"].as_array().unwrap().contains(&json!("lifecycle")))
        .collect()
}

#[tokio::test]
async fn concluding_serves_the_winner_to_everyone_and_counts_nothing() {
    let app = spawn_app_from(&config(""), None).await;
    let returning = browser();
    let url = app.url("/get_content");
    let before = served_variant(&returning, url.clone()).await;
    let participants = app.total("homepage_cta", "participants").await;
    assert_eq!(participants, 1);

    let response = set_status(
        &app,
        "homepage_cta",
        json!({"status": "concluded", "winner": "B", "reason": "B won on conversion"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "concluded");
    assert_eq!(body["winner"], "B");
    assert_eq!(body["source"], "override");
    assert_eq!(body["reason"], "B won on conversion");
    assert_eq!(body["changed"], true);
    let changed_at = body["changed_at"].as_str().unwrap();
    time::OffsetDateTime::parse(changed_at, &time::format_description::well_known::Rfc3339)
        .expect("changed_at is RFC 3339");
    assert_eq!(
        body["variants"],
        json!([{"name": "A", "weight": 50.0}, {"name": "B", "weight": 50.0}])
    );
    assert_eq!(listed(&app, "homepage_cta").await, {
        let mut listed = body.clone();
        listed.as_object_mut().unwrap().remove("changed");
        listed
    });

    // The results as they stood at the change are a point of their history.
    let history: Value = app
        .get_json_with("/results/history?experiment=homepage_cta", TOKEN)
        .await;
    let points = history["points"].as_array().unwrap();
    assert_eq!(points.len(), 1, "{history}");
    let rfc3339 = |text: &str| {
        time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
    };
    assert_eq!(
        rfc3339(points[0]["at"].as_str().unwrap()),
        rfc3339(changed_at)
    );
    let participants: i64 = points[0]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["participants"].as_i64().unwrap())
        .sum();
    assert_eq!(participants, 1);

    // Everyone sees the winner now, the returning visitor too, and nothing counts.
    for _ in 0..5 {
        assert_eq!(new_visitor_sees(&app).await, "B");
    }
    assert_eq!(served_variant(&returning, url).await, "B", "was {before}");
    let status = post_status(&returning, app.url("/track_conversion")).await;
    assert_eq!(status, 204);
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
    assert_eq!(app.total("homepage_cta", "conversions").await, 0);
}

#[tokio::test]
async fn pausing_serves_the_control_and_delete_returns_to_the_file() {
    let app = spawn_app_from(&config(""), None).await;
    let paused = set_status(&app, "homepage_cta", json!({"status": "paused"})).await;
    assert_eq!(paused.status(), 200);
    for _ in 0..5 {
        assert_eq!(new_visitor_sees(&app).await, "A");
    }
    assert_eq!(app.total("homepage_cta", "participants").await, 0);
    // The same status again changes nothing.
    let again: Value = set_status(&app, "homepage_cta", json!({"status": "paused"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["changed"], false);

    let cleared: Value = clear_status(&app, "homepage_cta")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["status"], "running");
    assert_eq!(cleared["source"], "config");
    assert_eq!(cleared["changed_at"], Value::Null);
    assert_eq!(cleared["changed"], true);
    let again: Value = clear_status(&app, "homepage_cta")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["changed"], false);
    // Running again: visitors are counted.
    new_visitor_sees(&app).await;
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
}

#[tokio::test]
async fn bad_changes_are_json_errors_and_change_nothing() {
    let app = spawn_app_from(&config(""), None).await;
    let status_url = app.url("/experiments/homepage_cta/status");
    let no_token = app
        .client
        .post(&status_url)
        .json(&json!({"status": "paused"}));
    assert_eq!(
        error_code(no_token.send().await.unwrap(), 401).await,
        "unauthorized"
    );
    let wrong = app
        .client
        .get(app.url("/experiments"))
        .bearer_auth("not-the-token");
    assert_eq!(
        error_code(wrong.send().await.unwrap(), 401).await,
        "unauthorized"
    );
    let unknown = set_status(&app, "nope", json!({"status": "paused"})).await;
    assert_eq!(error_code(unknown, 404).await, "unknown_experiment");
    for invalid in [
        json!({"status": "concluded"}),
        json!({"status": "concluded", "winner": "C"}),
        json!({"status": "paused", "winner": "B"}),
        json!({"status": "stopped"}),
        json!({"status": "paused", "reason": "x".repeat(501)}),
        json!({"status": "paused", "reason": "two\nlines"}),
    ] {
        let response = set_status(&app, "homepage_cta", invalid.clone()).await;
        assert_eq!(
            error_code(response, 422).await,
            "invalid_change",
            "{invalid}"
        );
    }
    for malformed in [
        "{",
        "{\"status\": 1}",
        "{\"status\": \"paused\", \"extra\": 1}",
    ] {
        let response = app
            .client
            .post(&status_url)
            .bearer_auth(TOKEN)
            .header("content-type", "application/json")
            .body(malformed)
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(response, 400).await,
            "bad_request",
            "{malformed}"
        );
    }
    let delete = app.client.delete(&status_url).send().await.unwrap();
    assert_eq!(error_code(delete, 401).await, "unauthorized");
    let state = listed(&app, "homepage_cta").await;
    assert_eq!(state["source"], "config");
    assert_eq!(state["status"], "running");
}

#[tokio::test]
async fn a_change_is_announced_once_to_the_notifiers_that_want_it() {
    let wants = answering_blip().await;
    let ignores = answering_blip().await;
    let ignoring =
        blip(&ignores, Some("[\"conversion\"]")).replace("[notifiers.blip]", "[notifiers.quiet]");
    let app = spawn_app_from(
        &config(&format!("{}\n{ignoring}", blip(&wants, None))),
        None,
    )
    .await;
    let change = json!({"status": "concluded", "winner": "B", "reason": "clear winner"});
    assert_eq!(
        set_status(&app, "homepage_cta", change.clone())
            .await
            .status(),
        200
    );
    let repeated: Value = set_status(&app, "homepage_cta", change)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(repeated["changed"], false);
    assert_eq!(clear_status(&app, "homepage_cta").await.status(), 200);

    wait_until(
        Duration::from_secs(10),
        "two lifecycle messages",
        || async { lifecycle_messages(&received_bodies(&wants).await).len() >= 2 },
    )
    .await;
    let bodies = received_bodies(&wants).await;
    let messages = lifecycle_messages(&bodies);
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(
        messages[0]["message"],
        "homepage_cta concluded: B ships — clear winner"
    );
    assert_eq!(
        messages[0]["tags"],
        json!(["abtest", "lifecycle", "concluded", "B", "homepage_cta"])
    );
    assert_eq!(
        messages[1]["message"],
        "homepage_cta back to its configured status: running"
    );
    // The notifier that only wants conversions was told nothing; its
    // worker has long passed these rows if it had any.
    assert!(lifecycle_messages(&received_bodies(&ignores).await).is_empty());
}

#[tokio::test]
async fn an_override_survives_a_restart() {
    let first = spawn_app_from(&config(""), None).await;
    let paused = json!({"status": "paused", "reason": "bug in B"});
    assert_eq!(
        set_status(&first, "homepage_cta", paused).await.status(),
        200
    );
    let db = first._dir.as_ref().unwrap().path().join("splitcast.db");
    // A new process on the same file reads the override at start.
    let second = spawn_app_from(&config(""), Some(format!("sqlite://{}", db.display()))).await;
    let state = listed(&second, "homepage_cta").await;
    assert_eq!(state["status"], "paused");
    assert_eq!(state["reason"], "bug in B");
    assert_eq!(new_visitor_sees(&second).await, "A");
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn two_instances_on_postgres_apply_a_change_within_two_seconds_and_announce_it_once() {
    let Some(url) = crate::postgres::fresh_database().await else {
        return;
    };
    let blip_server = answering_blip().await;
    let text = config(&blip(&blip_server, Some("[\"lifecycle\"]")));
    let one = spawn_app_from(&text, Some(url.clone())).await;
    let two = spawn_app_from(&text, Some(url)).await;
    assert_eq!(new_visitor_sees(&two).await.len(), 1);

    // The same change sent to both at once: recorded and announced once.
    let change = json!({"status": "concluded", "winner": "B"});
    let (a, b) = tokio::join!(
        set_status(&one, "homepage_cta", change.clone()),
        set_status(&two, "homepage_cta", change)
    );
    let changed_at = Instant::now();
    let a: Value = a.json().await.unwrap();
    let b: Value = b.json().await.unwrap();
    assert_eq!(a["status"], "concluded");
    assert_eq!(b["status"], "concluded");
    let changed = [&a, &b].iter().filter(|r| r["changed"] == true).count();
    assert_eq!(changed, 1, "{a} {b}");

    // Then a pause through one; the other serves the control within 2 s.
    assert_eq!(
        set_status(&one, "homepage_cta", json!({"status": "paused"}))
            .await
            .status(),
        200
    );
    let paused_at = Instant::now();
    wait_until(
        Duration::from_secs(3),
        "the second instance to pause",
        || async {
            new_visitor_sees(&two).await == "A"
                && listed(&two, "homepage_cta").await["status"] == "paused"
        },
    )
    .await;
    assert!(
        paused_at.elapsed() <= Duration::from_secs(2),
        "{:?}",
        paused_at.elapsed()
    );

    wait_until(Duration::from_secs(10), "two announcements", || async {
        lifecycle_messages(&received_bodies(&blip_server).await).len() >= 2
    })
    .await;
    // Nothing more arrives: each change was sent once, cluster-wide. A
    // second instance announcing too would do so on its next 1 s poll, then
    // through the outbox: three seconds cover both instances' polls twice.
    stays_true(Duration::from_secs(3), "two announcements only", || async {
        lifecycle_messages(&received_bodies(&blip_server).await).len() == 2
    })
    .await;
    let bodies = received_bodies(&blip_server).await;
    let messages = lifecycle_messages(&bodies);
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert_eq!(messages[0]["message"], "homepage_cta concluded: B ships");
    assert_eq!(messages[1]["message"], "homepage_cta paused");
    let _ = changed_at;
}
