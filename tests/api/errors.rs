use crate::helpers::{error_code, spawn_app};

#[tokio::test]
async fn unknown_names_are_404_with_their_codes() {
    let app = spawn_app().await;
    assert_eq!(
        error_code(app.get("/get_content?experiment=nope").await, 404).await,
        "unknown_experiment"
    );
    assert_eq!(
        error_code(app.get("/variant?experiment=nope").await, 404).await,
        "unknown_experiment"
    );
    assert_eq!(
        error_code(app.get("/get_content?force=Z").await, 404).await,
        "unknown_variant"
    );
    app.get("/get_content").await;
    assert_eq!(
        error_code(app.post("/track_conversion?goal=refund").await, 404).await,
        "unknown_goal"
    );
    assert_eq!(
        error_code(app.post("/track_view?experiment=nope").await, 404).await,
        "unknown_experiment"
    );
    assert!(app.counters().await.values().all(|v| *v <= 1));
}

#[tokio::test]
async fn malformed_json_is_400_and_loses_nothing() {
    let app = spawn_app().await;
    app.get("/get_content").await;
    for body in ["{", "[1,2", "\"text", "{\"goal\": 5}", "\u{0}\u{1}"] {
        let response = app
            .client
            .post(app.url("/track_conversion"))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(response, 400).await, "bad_request", "{body:?}");
    }
    assert_eq!(app.total("homepage_cta", "conversions").await, 0);
    assert_eq!(app.post("/track_conversion").await.status(), 204);
    assert_eq!(app.total("homepage_cta", "conversions").await, 1);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = spawn_app().await;
    app.get("/get_content").await;
    let big = format!("{{\"goal\": \"{}\"}}", "x".repeat(5000));
    let response = app
        .client
        .post(app.url("/track_conversion"))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 413).await, "payload_too_large");
    let response = app
        .client
        .post(app.url("/track_view"))
        .body(vec![b'a'; 10_000])
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 413).await, "payload_too_large");
    assert_eq!(app.total("homepage_cta", "conversions").await, 0);
}

#[tokio::test]
async fn a_bad_user_id_header_is_400() {
    let app = spawn_app().await;
    for bad in ["", "with space", "quote\"d", &"x".repeat(200)] {
        let response = app
            .client
            .get(app.url("/get_content"))
            .header("X-User-Id", bad)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(response, 400).await, "bad_request", "{bad:?}");
    }
    assert!(app.counters().await.is_empty());
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let app = spawn_app().await;
    assert_eq!(error_code(app.get("/nope").await, 404).await, "not_found");
    assert_eq!(
        error_code(app.get("/track_view").await, 405).await,
        "method_not_allowed"
    );
    assert_eq!(
        error_code(app.post("/get_content").await, 405).await,
        "method_not_allowed"
    );
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), 200);
    let ready: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    app.get("/get_content").await;
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("splitcast_events_total{action=\"enroll\",experiment=\"homepage_cta\""),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_demo_page_and_its_script_are_served() {
    let app = spawn_app().await;
    let page = app.get("/").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("/splitcast.js"));
    let script = app.get("/splitcast.js").await;
    assert_eq!(script.status(), 200);
    assert!(script.text().await.unwrap().contains("/track_conversion"));
}
