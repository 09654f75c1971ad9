//! The security review's reproduction: a browser cannot enrol made-up user
//! ids in the variant of its choice, nor convert them, nor pin a hash user to
//! a variant the backend's own events would then contradict.

use crate::helpers::{TestApp, browser, error_code, spawn_app_with};
use serde_json::{Value, json};
use splitcast::assignment::hashing;

const INGEST: &str = "ingest-token-for-forgery-tests";

fn config() -> String {
    format!(
        r#"
[ingest]
token = "{INGEST}"
[experiments.homepage_cta]
default = true
goals = ["conversion"]
variants = [{{ name = "A", weight = 50 }}, {{ name = "B", weight = 50 }}]
[experiments.checkout]
assignment = "hash"
goals = ["purchase"]
variants = [{{ name = "A", weight = 50 }}, {{ name = "B", weight = 50 }}]
"#
    )
}

/// `request` claiming to be `user` (believed as sent: development).
async fn as_user(request: reqwest::RequestBuilder, user: &str) -> reqwest::Response {
    request.header("X-User-Id", user).send().await.unwrap()
}

/// A browser whose cookie holds variant `wanted` of `experiment`.
async fn browser_in(app: &TestApp, experiment: &str, wanted: &str) -> reqwest::Client {
    for _ in 0..200 {
        let client = browser();
        let served = client
            .get(app.url(&format!("/get_content?experiment={experiment}")))
            .send()
            .await
            .unwrap();
        if served.headers()["x-variant"] == wanted {
            return client;
        }
    }
    panic!("no browser was served {wanted} in 200 tries");
}

#[tokio::test]
async fn a_b_cookie_converting_two_hundred_made_up_user_ids_counts_nothing() {
    sybils_count_nothing(spawn_app_with(&config()).await).await;
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn made_up_user_ids_count_nothing_on_postgres_either() {
    let Some(url) = crate::postgres::fresh_database().await else {
        return;
    };
    let config = format!("{}\n{}", crate::helpers::BASE, config());
    sybils_count_nothing(crate::helpers::spawn_app_from(&config, Some(url)).await).await;
}

async fn sybils_count_nothing(app: TestApp) {
    let attacker = browser_in(&app, "homepage_cta", "B").await;
    let before = app.counters().await;
    for i in 0..200 {
        let response = as_user(
            attacker.post(app.url("/track_conversion")),
            &format!("sybil-{i}"),
        )
        .await;
        assert_eq!(error_code(response, 409).await, "not_assigned", "sybil-{i}");
        let view = as_user(attacker.post(app.url("/track_view")), &format!("sybil-{i}")).await;
        assert_eq!(error_code(view, 409).await, "not_assigned");
    }
    assert_eq!(app.counters().await, before, "nothing was counted");
    // The cookie's own unit still counts, once.
    let own = attacker
        .post(app.url("/track_conversion"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 204);
    assert_eq!(
        app.counter("homepage_cta/B/conversions/conversion").await,
        1
    );
    assert_eq!(
        app.counters().await.get("homepage_cta/B/participants"),
        before.get("homepage_cta/B/participants"),
    );
}

fn hash_variant(user: &str) -> &'static str {
    if hashing::bucket("checkout", user) < 0.5 {
        "A"
    } else {
        "B"
    }
}

#[tokio::test]
async fn a_hash_experiments_users_cannot_be_pinned_to_the_attackers_variant() {
    let app = spawn_app_with(&config()).await;
    let attacker = browser_in(&app, "checkout", "B").await;
    let enrolled = app.total("checkout", "participants").await;
    let users: Vec<String> = (0..20).map(|i| format!("pinned-{i}")).collect();
    assert!(
        users.iter().any(|u| hash_variant(u) == "A"),
        "the test needs users the hash puts in A"
    );
    for user in &users {
        let response = as_user(
            attacker.post(app.url("/track_conversion?experiment=checkout")),
            user,
        )
        .await;
        assert_eq!(error_code(response, 409).await, "not_assigned", "{user}");
    }
    assert_eq!(app.total("checkout", "conversions").await, 0);
    assert_eq!(app.total("checkout", "participants").await, enrolled);
    // Each user is assigned as a new visitor would be: by the hash.
    for user in &users {
        let answer: Value = browser()
            .get(app.url("/variant?experiment=checkout"))
            .header("X-User-Id", user)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(answer["variant"], hash_variant(user), "{user}");
    }
    // The backend's own conversions for those users are never refused.
    let batch: Vec<Value> = users
        .iter()
        .map(|u| json!({"user_id": u, "experiment": "checkout", "goal": "purchase"}))
        .collect();
    let answer: Value = app
        .client
        .post(app.url("/webhook"))
        .bearer_auth(INGEST)
        .json(&batch)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["accepted"], 20, "{answer}");
    assert_eq!(answer["rejected"], json!([]), "{answer}");
    for variant in ["A", "B"] {
        let expected = users.iter().filter(|u| hash_variant(u) == variant).count() as i64;
        assert_eq!(
            app.counter(&format!("checkout/{variant}/conversions/purchase"))
                .await,
            expected,
            "{variant}"
        );
    }
}

#[tokio::test]
async fn a_backend_conversion_for_a_hash_user_is_accepted_whatever_a_browser_did_first() {
    let app = spawn_app_with(&config()).await;
    let user = (0..100)
        .map(|i| format!("customer-{i}"))
        .find(|u| hash_variant(u) == "A")
        .unwrap();
    // A browser assigned B tries every way it has to put the user in B.
    let attacker = browser_in(&app, "checkout", "B").await;
    for path in ["/track_view", "/track_conversion"] {
        let response = as_user(
            attacker.post(app.url(&format!("{path}?experiment=checkout"))),
            &user,
        )
        .await;
        assert_eq!(error_code(response, 409).await, "not_assigned");
    }
    // Asking for the user's variant assigns it by the hash, cookie or not.
    let served = as_user(
        attacker.get(app.url("/get_content?experiment=checkout")),
        &user,
    )
    .await;
    assert_eq!(served.headers()["x-variant"], "A");
    let event = json!({"user_id": user, "experiment": "checkout", "goal": "purchase"});
    let response = app
        .client
        .post(app.url("/webhook"))
        .bearer_auth(INGEST)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(app.counter("checkout/A/conversions/purchase").await, 1);
    assert_eq!(app.counter("checkout/B/conversions/purchase").await, 0);
}

#[tokio::test]
async fn a_new_user_id_forgets_the_cookies_assignment_and_is_decided_afresh() {
    let app = spawn_app_with(&config()).await;
    let visitor = browser_in(&app, "homepage_cta", "B").await;
    let before = app.counters().await;
    let counted = |key: String| before.get(&key).copied().unwrap_or(0);
    // Many users through one browser: each is drawn, not handed the cookie's B.
    let mut served = Vec::new();
    for i in 0..40 {
        let response = as_user(visitor.get(app.url("/get_content")), &format!("login-{i}")).await;
        served.push(response.headers()["x-variant"].to_str().unwrap().to_owned());
        // The page's JS sends no header: the session's unit converts, in its variant.
        let conversion = visitor
            .post(app.url("/track_conversion"))
            .send()
            .await
            .unwrap();
        assert_eq!(conversion.status(), 204);
    }
    assert!(served.iter().any(|v| v == "A"), "{served:?}");
    for variant in ["A", "B"] {
        let drawn = served.iter().filter(|v| *v == variant).count() as i64;
        let participants = format!("homepage_cta/{variant}/participants");
        let conversions = format!("homepage_cta/{variant}/conversions/conversion");
        assert_eq!(
            app.counter(&participants).await,
            counted(participants) + drawn
        );
        assert_eq!(
            app.counter(&conversions).await,
            counted(conversions) + drawn
        );
    }
}
