//! `[limits]`: a client that causes too many durable writes (enrolments,
//! tracked events) is answered 429 with `Retry-After`, and nothing of the
//! refused requests is recorded.

use crate::helpers::{DEMO, TestApp, browser, error_code, spawn_app, spawn_app_with, wait_until};
use std::time::{Duration, Instant};

/// A limit that does not refill within a test: `burst` writes per client.
fn limits(burst: u32, header: &str) -> String {
    format!(
        "{DEMO}\n[limits]\nenabled = true\nwrites_per_second = 0.001\nburst = {burst}\n\
         trusted_proxy_header = \"{header}\"\n"
    )
}

/// A request from a client without cookies (a new visitor every time),
/// whose address the proxy header names.
async fn anonymous(app: &TestApp, path: &str, from: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(app.url(path))
        .header("X-Forwarded-For", from)
        .send()
        .await
        .unwrap()
}

/// `splitcast_rate_limited_requests_total` for one endpoint.
async fn limited(app: &TestApp, endpoint: &str) -> u64 {
    let text = app.get("/metrics").await.text().await.unwrap();
    let prefix = format!("splitcast_rate_limited_requests_total{{endpoint=\"{endpoint}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0, |n| n.parse().unwrap())
}

#[tokio::test]
async fn new_visitors_over_the_limit_are_429_with_retry_after_and_not_enrolled() {
    let app = spawn_app_with(&limits(3, "X-Forwarded-For")).await;
    let client = "1.1.1.1, 198.51.100.1";
    for _ in 0..3 {
        assert_eq!(anonymous(&app, "/get_content", client).await.status(), 200);
    }
    assert_eq!(limited(&app, "get_content").await, 0);
    let refused = anonymous(&app, "/get_content", client).await;
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1, "{retry_after}");
    assert_eq!(error_code(refused, 429).await, "rate_limited");
    // /variant enrols the same way and draws on the same bucket.
    let refused = anonymous(&app, "/variant", client).await;
    assert_eq!(error_code(refused, 429).await, "rate_limited");
    // The client's own left-hand entries do not give it another bucket.
    let spoofed = anonymous(&app, "/get_content", "7.7.7.7, 198.51.100.1").await;
    assert_eq!(spoofed.status(), 429);
    assert_eq!(app.total("homepage_cta", "participants").await, 3);
    assert_eq!(limited(&app, "get_content").await, 2);
    assert_eq!(limited(&app, "variant").await, 1);
    // Another client behind the same proxy is unaffected.
    let other = anonymous(&app, "/get_content", "198.51.100.2").await;
    assert_eq!(other.status(), 200);
    assert_eq!(app.total("homepage_cta", "participants").await, 4);
}

#[tokio::test]
async fn tracked_events_over_the_limit_are_429_and_not_counted() {
    let app = spawn_app_with(&limits(3, "X-Real-IP")).await;
    let visitor = browser();
    let send = |request: reqwest::RequestBuilder| request.header("X-Real-IP", "203.0.113.5").send();
    let served = send(visitor.get(app.url("/get_content"))).await.unwrap();
    let variant = served.headers()["x-variant"].to_str().unwrap().to_owned();
    for _ in 0..2 {
        let view = send(visitor.post(app.url("/track_view"))).await.unwrap();
        assert_eq!(view.status(), 204);
    }
    let conversion = send(visitor.post(app.url("/track_conversion")))
        .await
        .unwrap();
    // One write per 1000 s: the next one is about 1000 s away.
    let retry_after: u64 = conversion.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((900..=1000).contains(&retry_after), "{retry_after}");
    assert_eq!(error_code(conversion, 429).await, "rate_limited");
    let view = send(visitor.post(app.url("/track_view"))).await.unwrap();
    assert_eq!(error_code(view, 429).await, "rate_limited");
    let counters = app.counters().await;
    let key = |m: &str| format!("homepage_cta/{variant}/{m}");
    assert_eq!(counters[&key("participants")], 1);
    assert_eq!(counters[&key("views")], 2);
    assert_eq!(counters.get(&key("conversions/conversion")), None);
    assert_eq!(limited(&app, "track_conversion").await, 1);
    assert_eq!(limited(&app, "track_view").await, 1);
}

#[tokio::test]
async fn a_returning_visitor_is_never_limited() {
    let app = spawn_app_with(&limits(1, "X-Forwarded-For")).await;
    let visitor = browser();
    let from = "198.51.100.3";
    let get = |path: &str| {
        visitor
            .get(app.url(path))
            .header("X-Forwarded-For", from)
            .send()
    };
    let first = get("/get_content").await.unwrap();
    assert_eq!(first.status(), 200);
    let variant = first.headers()["x-variant"].clone();
    // The bucket is empty now: a new visitor from there is refused...
    assert_eq!(anonymous(&app, "/get_content", from).await.status(), 429);
    // ...while the returning one, who writes nothing, is served as before.
    for _ in 0..20 {
        let again = get("/get_content").await.unwrap();
        assert_eq!(again.status(), 200);
        assert_eq!(again.headers()["x-variant"], variant);
        assert_eq!(get("/variant").await.unwrap().status(), 200);
    }
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
}

#[tokio::test]
async fn without_a_trusted_header_a_client_cannot_pick_its_bucket() {
    let app = spawn_app_with(&limits(2, "")).await;
    // Every request comes from 127.0.0.1, whatever it claims.
    for (n, claimed) in ["198.51.100.4", "198.51.100.5", "198.51.100.6"]
        .iter()
        .enumerate()
    {
        let status = anonymous(&app, "/get_content", claimed).await.status();
        assert_eq!(status, if n < 2 { 200 } else { 429 }, "{claimed}");
    }
    assert_eq!(app.total("homepage_cta", "participants").await, 2);
}

#[tokio::test]
async fn tokens_come_back_over_time() {
    let config = format!("{DEMO}\n[limits]\nenabled = true\nwrites_per_second = 4\nburst = 1\n");
    let app = spawn_app_with(&config).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    // However slow the machine, a 429 comes once requests outrun the refill...
    let mut admitted = 0;
    loop {
        let response = anonymous(&app, "/get_content", "").await;
        if response.status() == 429 {
            assert_eq!(response.headers()["retry-after"], "1");
            break;
        }
        assert_eq!(response.status(), 200);
        admitted += 1;
        assert!(Instant::now() < deadline, "never limited");
    }
    // ...and the next token is back within about a quarter of a second.
    wait_until(Duration::from_secs(10), "a token back", || async {
        anonymous(&app, "/get_content", "").await.status() == 200
    })
    .await;
    assert_eq!(
        app.total("homepage_cta", "participants").await,
        admitted + 1
    );
}

#[tokio::test]
async fn the_limit_is_off_in_development_unless_enabled() {
    let app = spawn_app().await;
    // Beyond the default burst of 60, from one address.
    for _ in 0..80 {
        assert_eq!(anonymous(&app, "/get_content", "").await.status(), 200);
    }
    assert_eq!(app.total("homepage_cta", "participants").await, 80);
}
