//! Every visitor answer says whether it counted (`X-Splitcast-Counted`, and
//! why not), and another site's page cannot enrol or count a visitor.

use crate::helpers::{BASE, DEMO, spawn_app, spawn_app_from};

const CURL: &str = "curl/8.5.0";

fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
}

fn counted(response: &reqwest::Response) -> (Option<String>, Option<String>) {
    (
        header(response, "x-splitcast-counted"),
        header(response, "x-splitcast-uncounted-reason"),
    )
}

#[tokio::test]
async fn a_browser_is_told_each_request_counted() {
    let app = spawn_app().await;
    for response in [
        app.get("/get_content").await,
        app.get("/variant").await,
        app.post("/track_view").await,
        app.post("/track_conversion").await,
    ] {
        assert!(response.status().is_success(), "{}", response.status());
        assert_eq!(counted(&response), (Some("true".into()), None));
    }
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
}

#[tokio::test]
async fn curl_is_a_bot_and_is_told_so_on_every_endpoint() {
    let app = spawn_app().await;
    let curl = reqwest::Client::builder()
        .user_agent(CURL)
        .cookie_store(true)
        .build()
        .unwrap();
    for (method, path) in [
        ("GET", "/get_content"),
        ("GET", "/variant"),
        ("POST", "/track_view"),
        ("POST", "/track_conversion"),
    ] {
        let request = match method {
            "GET" => curl.get(app.url(path)),
            _ => curl.post(app.url(path)),
        };
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        assert_eq!(
            counted(&response),
            (Some("false".into()), Some("bot".into())),
            "{path}"
        );
    }
    assert!(app.counters().await.is_empty());
}

#[tokio::test]
async fn a_preview_says_it_was_not_counted_and_why() {
    let app = spawn_app().await;
    let response = app.get("/get_content?force=B").await;
    assert_eq!(
        counted(&response),
        (Some("false".into()), Some("preview".into()))
    );
}

#[tokio::test]
async fn a_request_from_a_foreign_origin_is_served_but_enrols_and_counts_nothing() {
    let app = spawn_app().await;
    let foreign = "https://evil.example";
    let response = app
        .client
        .get(app.url("/get_content"))
        .header("Origin", foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        counted(&response),
        (Some("false".into()), Some("origin".into()))
    );
    assert_eq!(response.headers()["x-variant"], "A", "the control");
    // No assignment was kept: the visitor's own page enrols it afresh later.
    let view = app
        .client
        .post(app.url("/track_view"))
        .header("Origin", foreign)
        .send()
        .await
        .unwrap();
    assert_eq!(view.status(), 204);
    assert_eq!(
        counted(&view),
        (Some("false".into()), Some("origin".into()))
    );
    assert!(
        app.counters().await.is_empty(),
        "{:?}",
        app.counters().await
    );
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains(r#"splitcast_uncounted_requests_total{reason="origin"} 2"#),
        "{metrics}"
    );
    // The server's own origin counts.
    let own = app
        .client
        .get(app.url("/get_content"))
        .header("Origin", &app.address)
        .send()
        .await
        .unwrap();
    assert_eq!(counted(&own), (Some("true".into()), None));
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
}

#[tokio::test]
async fn an_allowed_origin_counts_and_may_read_the_counted_headers() {
    let allowed = "https://shop.example";
    let base = BASE.replace(
        "[server]\n",
        &format!("[server]\ncors_allowed_origins = [\"{allowed}\"]\n"),
    );
    let app = spawn_app_from(&format!("{base}\n{DEMO}"), None).await;
    let response = app
        .client
        .get(app.url("/get_content"))
        .header("Origin", allowed)
        .send()
        .await
        .unwrap();
    assert_eq!(counted(&response), (Some("true".into()), None));
    let exposed = header(&response, "access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-splitcast-counted"), "{exposed}");
    assert!(
        exposed.contains("x-splitcast-uncounted-reason"),
        "{exposed}"
    );
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
}
