use crate::helpers::Patch;
use crate::helpers::{BASE, browser, spawn_app, spawn_app_with};
use futures_util::StreamExt;
use splitcast::assignment::hashing;

#[tokio::test]
async fn get_content_answers_the_variants_content_unchanged_with_its_headers() {
    let app = spawn_app().await;
    let response = app.get("/get_content").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["x-experiment"], "homepage_cta");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["vary"], "Cookie");
    assert!(headers.contains_key("set-cookie"));
    let variant = headers["x-variant"].to_str().unwrap().to_owned();
    let content: serde_json::Value = response.json().await.unwrap();
    let expected = if variant == "A" {
        serde_json::json!({"button_color": "blue", "headline": "Welcome to our amazing service!"})
    } else {
        serde_json::json!({"button_color": "green", "headline": "Discover the power of our platform!"})
    };
    assert_eq!(content, expected);
    assert_eq!(
        app.counter(&format!("homepage_cta/{variant}/participants"))
            .await,
        1
    );
}

#[tokio::test]
async fn a_returning_visitor_keeps_the_same_variant_and_is_counted_once() {
    let app = spawn_app().await;
    let first = app.get("/get_content").await.headers()["x-variant"].clone();
    for _ in 0..20 {
        let response = app.get("/get_content").await;
        assert_eq!(response.headers()["x-variant"], first);
        let variant: serde_json::Value = app.get("/variant").await.json().await.unwrap();
        assert_eq!(variant["variant"], first.to_str().unwrap());
        assert_eq!(variant["experiment"], "homepage_cta");
    }
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
}

#[tokio::test]
async fn variant_assigns_exactly_like_get_content_for_a_new_visitor() {
    let app = spawn_app().await;
    let variant: serde_json::Value = app.get("/variant").await.json().await.unwrap();
    let content = app.get("/get_content").await;
    assert_eq!(
        content.headers()["x-variant"],
        variant["variant"].as_str().unwrap()
    );
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
}

async fn split(extra: &str, visitors: usize) -> (usize, usize) {
    let app = spawn_app_with(extra).await;
    let url = app.url("/get_content");
    let variants: Vec<String> = futures_util::stream::iter(0..visitors)
        .map(|_| {
            let url = url.clone();
            async move {
                let response = browser().get(url).send().await.unwrap();
                response.headers()["x-variant"].to_str().unwrap().to_owned()
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let a = variants.iter().filter(|v| *v == "A").count();
    assert_eq!(app.total("exp", "participants").await, visitors as i64);
    (a, visitors - a)
}

fn weights(a: u32, b: u32) -> String {
    format!(
        r#"[experiments.exp]
[[experiments.exp.variants]]
name = "A"
weight = {a}
content = {{}}
[[experiments.exp.variants]]
name = "B"
weight = {b}
content = {{}}"#
    )
}

#[tokio::test]
async fn new_visitors_split_evenly_for_50_50_weights() {
    let n = 3000;
    let (a, _) = split(&weights(50, 50), n).await;
    // Five standard deviations (sqrt(n p q) ~ 27): fails by chance about once in 3.5 million runs.
    assert!((a as f64 - 1500.0).abs() < 5.0 * 27.4, "A got {a} of {n}");
}

#[tokio::test]
async fn new_visitors_split_by_weight_for_90_10() {
    let n = 3000;
    let (a, _) = split(&weights(90, 10), n).await;
    // Five standard deviations (sqrt(3000 * 0.9 * 0.1) ~ 16.4).
    assert!((a as f64 - 2700.0).abs() < 5.0 * 16.4, "A got {a} of {n}");
}

const HASHED: &str = r#"
[experiments.checkout]
assignment = "hash"
[[experiments.checkout.variants]]
name = "A"
weight = 50
content = { price = 10 }
[[experiments.checkout.variants]]
name = "B"
weight = 50
content = { price = 12 }
"#;

fn expected_hash_variant(user: &str) -> &'static str {
    if hashing::bucket("checkout", user) < 0.5 {
        "A"
    } else {
        "B"
    }
}

#[tokio::test]
async fn hash_assignment_is_stable_without_cookies_and_across_instances() {
    let first = spawn_app_with(HASHED).await;
    let second = spawn_app_with(HASHED).await;
    for i in 0..40 {
        let user = format!("user-{i}");
        let expected = expected_hash_variant(&user);
        for app in [&first, &second] {
            // A fresh client each time: no cookie to remember anything.
            let response = browser()
                .get(app.url("/get_content"))
                .header("X-User-Id", &user)
                .send()
                .await
                .unwrap();
            assert_eq!(response.headers()["x-variant"], expected, "user {user}");
        }
    }
    assert_eq!(first.total("checkout", "participants").await, 40);
}

#[tokio::test]
async fn a_user_id_decides_a_hash_variant_even_over_an_older_cookie() {
    let app = spawn_app_with(HASHED).await;
    let users: Vec<String> = (0..100).map(|i| format!("u{i}")).collect();
    let a_user = users
        .iter()
        .find(|u| expected_hash_variant(u) == "A")
        .unwrap();
    let b_user = users
        .iter()
        .find(|u| expected_hash_variant(u) == "B")
        .unwrap();
    let send = |user: &str| {
        app.client
            .get(app.url("/get_content"))
            .header("X-User-Id", user.to_owned())
            .send()
    };
    assert_eq!(send(a_user).await.unwrap().headers()["x-variant"], "A");
    assert_eq!(send(b_user).await.unwrap().headers()["x-variant"], "B");
    // Without the header the cookie now remembers the last user's variant.
    assert_eq!(app.get("/get_content").await.headers()["x-variant"], "B");
}

#[tokio::test]
async fn paused_experiments_serve_the_control_and_concluded_ones_the_winner_without_counting() {
    let config = format!(
        "{}\n{}",
        weights(50, 50).patched(
            "[experiments.exp]",
            "[experiments.exp]\nstatus = \"paused\"\ncontrol = \"B\"\ndefault = true"
        ),
        weights(50, 50)
            .patched("experiments.exp", "experiments.done")
            .patched(
                "[experiments.done]",
                "[experiments.done]\nstatus = \"concluded\"\nwinner = \"B\""
            )
    );
    let app = spawn_app_with(&config).await;
    for _ in 0..10 {
        let paused = browser().get(app.url("/get_content")).send().await.unwrap();
        assert_eq!(paused.headers()["x-variant"], "B");
        let done = browser()
            .get(app.url("/get_content?experiment=done"))
            .send()
            .await
            .unwrap();
        assert_eq!(done.headers()["x-variant"], "B");
    }
    assert_eq!(app.post("/track_view").await.status(), 204);
    assert_eq!(
        app.post("/track_conversion?experiment=done").await.status(),
        204
    );
    assert!(app.counters().await.is_empty());
}

#[tokio::test]
async fn visitors_outside_the_traffic_share_see_the_control_and_are_not_counted() {
    let config = weights(50, 50).patched("[experiments.exp]", "[experiments.exp]\ntraffic = 0.0");
    let app = spawn_app_with(&config).await;
    for _ in 0..5 {
        assert_eq!(app.get("/get_content").await.headers()["x-variant"], "A");
        assert_eq!(app.post("/track_conversion").await.status(), 204);
    }
    assert!(app.counters().await.is_empty());
}

#[tokio::test]
async fn bots_get_the_control_and_are_never_counted() {
    let app = spawn_app().await;
    for _ in 0..5 {
        let response = app
            .client
            .get(app.url("/get_content"))
            .header(
                "User-Agent",
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            )
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["x-variant"], "A");
        assert!(!response.headers().contains_key("set-cookie"));
    }
    assert!(app.counters().await.is_empty());
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("splitcast_bot_requests_total 5"),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_forced_preview_shows_the_variant_and_records_nothing() {
    let app = spawn_app().await;
    for variant in ["A", "B", "B"] {
        let response = app.get(&format!("/get_content?force={variant}")).await;
        assert_eq!(response.headers()["x-variant"], variant);
        assert!(!response.headers().contains_key("set-cookie"));
        assert_eq!(
            app.post(&format!("/track_view?force={variant}"))
                .await
                .status(),
            204
        );
    }
    assert!(app.counters().await.is_empty());
}

#[tokio::test]
async fn several_experiments_are_assigned_independently() {
    let config = format!(
        "{}\n{}",
        weights(50, 50).patched("[experiments.exp]", "[experiments.exp]\ndefault = true"),
        weights(0, 1).patched("experiments.exp", "experiments.other")
    );
    let app = spawn_app_with(&config).await;
    app.get("/get_content").await;
    let other = app.get("/get_content?experiment=other").await;
    assert_eq!(other.headers()["x-experiment"], "other");
    assert_eq!(other.headers()["x-variant"], "B");
    assert_eq!(app.total("exp", "participants").await, 1);
    assert_eq!(app.counter("other/B/participants").await, 1);
    let _ = BASE;
}
