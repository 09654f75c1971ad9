//! PostgreSQL going away: writes answer 503 `store_unavailable` promptly,
//! `/readyz` turns 503 promptly (see [`PROMPTLY`] for the margin), new visitors get the control's content
//! (200, uncounted), returning visitors keep their variant, and everything
//! recovers by itself when the database is back. The database "goes away"
//! behind a TCP relay the test controls: refused and reset connections, as
//! a stopped server gives.

use crate::helpers::{BASE, DEMO, browser, error_code, spawn_app_from};
use crate::postgres::fresh_database;
use crate::relay::Relay;
use std::time::{Duration, Instant};

/// README promises that every caller hears within about a second (the 1 s
/// acquire timeout, then 500 ms of refusing without trying). The bound is
/// 4 s: three seconds of slack for a loaded 2-core machine, still far below
/// what a broken path costs (the 10 s write timeout, the OS's connect
/// timeout, or a hang).
const PROMPTLY: Duration = Duration::from_secs(4);

/// A 2 s statement timeout fires after 2 s, never before; the upper end
/// gives six seconds of slack for a loaded machine, still below the
/// request's own 15 s timeout that a hang would meet.
const AFTER_THE_TIMEOUT: std::ops::Range<Duration> = Duration::from_secs(2)..Duration::from_secs(8);

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn with_postgres_down_writes_fail_fast_pages_still_work_and_all_recovers() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let relay = Relay::start("127.0.0.1:5432").await;
    let relayed = url.replacen("127.0.0.1:5432", &format!("127.0.0.1:{}", relay.port), 1);
    assert_ne!(relayed, url, "the test database URL names 127.0.0.1:5432");
    let config = format!("{BASE}\n[ingest]\ntoken = \"down-test-token\"\n{DEMO}");
    let app = spawn_app_from(&config, Some(relayed)).await;
    let returning = browser();
    let kept = crate::helpers::served_variant(&returning, app.url("/get_content")).await;

    relay.stop();
    let stopped = Instant::now();
    let track = returning
        .post(app.url("/track_conversion"))
        .send()
        .await
        .unwrap();
    assert!(stopped.elapsed() < PROMPTLY, "{:?}", stopped.elapsed());
    assert_eq!(track.headers()["retry-after"], "1");
    assert_eq!(error_code(track, 503).await, "store_unavailable");
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(error_code(ready, 503).await, "store_unavailable");
    assert!(
        stopped.elapsed() < PROMPTLY,
        "readyz took {:?}",
        stopped.elapsed()
    );
    let started = Instant::now();
    let webhook = app
        .client
        .post(app.url("/webhook"))
        .bearer_auth("down-test-token")
        .json(&serde_json::json!({"user_id": "u1", "version": "B"}))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < PROMPTLY, "{:?}", started.elapsed());
    assert_eq!(webhook.headers()["retry-after"], "1");
    assert_eq!(error_code(webhook, 503).await, "store_unavailable");
    // A run-time status change is refused, not half made.
    let started = Instant::now();
    let pause = app
        .client
        .post(app.url("/experiments/homepage_cta/status"))
        .json(&serde_json::json!({"status": "paused"}))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < PROMPTLY, "{:?}", started.elapsed());
    assert_eq!(error_code(pause, 503).await, "store_unavailable");
    let variant: serde_json::Value = browser()
        .get(app.url("/variant"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        variant["variant"], "A",
        "a new visitor's /variant: the control"
    );
    for _ in 0..5 {
        let started = Instant::now();
        let response = browser().get(app.url("/get_content")).send().await.unwrap();
        assert!(started.elapsed() < PROMPTLY, "{:?}", started.elapsed());
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["x-variant"],
            "A",
            "the control, uncounted"
        );
        let content: serde_json::Value = response.json().await.unwrap();
        assert_eq!(content["button_color"], "blue");
    }
    assert_eq!(
        crate::helpers::served_variant(&returning, app.url("/get_content")).await,
        kept
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"splitcast_uncounted_requests_total{reason="store_unavailable"} 6"#),
        "{metrics}"
    );
    let view = returning.post(app.url("/track_view")).send().await.unwrap();
    assert_eq!(error_code(view, 503).await, "store_unavailable");

    relay.start_again();
    crate::helpers::wait_until(Duration::from_secs(10), "writes to recover", || async {
        returning
            .post(app.url("/track_conversion"))
            .send()
            .await
            .unwrap()
            .status()
            == 204
    })
    .await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(
        app.counter(&format!("homepage_cta/{kept}/conversions/conversion"))
            .await,
        1
    );
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
    let listed: serde_json::Value = app.get("/experiments").await.json().await.unwrap();
    assert_eq!(listed["experiments"][0]["source"], "config");
    assert_eq!(listed["experiments"][0]["status"], "running");
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn a_database_that_stops_answering_mid_way_is_a_503_after_the_timeouts() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let relay = Relay::start("127.0.0.1:5432").await;
    let relayed = url.replacen("127.0.0.1:5432", &format!("127.0.0.1:{}", relay.port), 1);
    let config = format!("{BASE}\n[ingest]\ntoken = \"frozen-test-token\"\n{DEMO}").replace(
        "[session]",
        "[storage]\npool_size = 2\nwrite_timeout_secs = 2\nread_timeout_secs = 2\n[session]",
    );
    let app = spawn_app_from(&config, Some(relayed)).await;
    let send = |user: &'static str| {
        app.client
            .post(app.url("/webhook"))
            .bearer_auth("frozen-test-token")
            .timeout(Duration::from_secs(15))
            .json(&serde_json::json!({"user_id": user, "variant": "B"}))
            .send()
    };
    assert_eq!(send("before").await.unwrap().status(), 202);

    // The network goes silent between the batch's last statement and its COMMIT.
    relay.freeze_at("COMMIT");
    let frozen = Instant::now();
    let answer = send("during").await.expect("an answer, not a hang");
    let waited = frozen.elapsed();
    assert_eq!(error_code(answer, 503).await, "store_unavailable");
    assert!(AFTER_THE_TIMEOUT.contains(&waited), "{waited:?}");

    relay.thaw();
    // The stuck connection was closed, never reused: writes recover.
    crate::helpers::wait_until(Duration::from_secs(20), "writes to recover", || async {
        send("after").await.unwrap().status() == 202
    })
    .await;

    // A read, and a run-time status change, that the network leaves
    // unanswered mid-way give up too, after their own timeouts.
    for (what, freeze_at, request) in [
        (
            "GET /results",
            "FROM counters",
            app.client.get(app.url("/results")),
        ),
        (
            "a status change",
            "INSERT INTO experiment_overrides",
            app.client
                .post(app.url("/experiments/homepage_cta/status"))
                .json(&serde_json::json!({"status": "paused"})),
        ),
    ] {
        relay.freeze_at(freeze_at);
        let started = Instant::now();
        let answer = request
            .timeout(Duration::from_secs(15))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: an answer, not a hang: {e}"));
        let waited = started.elapsed();
        assert_eq!(error_code(answer, 503).await, "store_unavailable", "{what}");
        assert!(AFTER_THE_TIMEOUT.contains(&waited), "{what}: {waited:?}");
        relay.thaw();
        crate::helpers::wait_until(Duration::from_secs(20), "reads to recover", || async {
            app.get("/results").await.status() == 200
        })
        .await;
    }
    // The unacknowledged write never committed, nor the refused pause.
    assert_eq!(app.total("homepage_cta", "participants").await, 2);
    let listed = app
        .get("/experiments")
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(listed["experiments"][0]["status"], "running");
}
