//! `X-User-Id` is believed only as configured: with a proof the site's
//! backend made (`session.user_id_secret`), from a trusted proxy, or as sent
//! in development. A proven user counts across devices and instances.

use crate::helpers::{BASE, Patch, TestApp, browser, error_code, spawn_app_from};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

const SECRET: &str = "user-id-secret-shared-with-the-site-backend";
const ADMIN: &str = "admin-token-of-at-least-32-characters";

const EXPERIMENT: &str = r#"
[experiments.homepage_cta]
default = true
goals = ["conversion"]
variants = [{ name = "A", weight = 50 }, { name = "B", weight = 50 }]
"#;

/// What the site's backend renders into the page: hex HMAC-SHA256 of the id.
fn proof(id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

fn signed_config() -> String {
    BASE.patched(
        "[session]",
        &format!("[session]\nuser_id_secret = \"{SECRET}\""),
    ) + EXPERIMENT
}

async fn signed_app(storage: Option<String>) -> TestApp {
    spawn_app_from(&signed_config(), storage).await
}

fn get(
    client: &reqwest::Client,
    app: &TestApp,
    user: &str,
    signature: Option<&str>,
) -> reqwest::RequestBuilder {
    let request = client
        .get(app.url("/get_content"))
        .header("X-User-Id", user);
    match signature {
        Some(signature) => request.header("X-User-Id-Signature", signature),
        None => request,
    }
}

#[tokio::test]
async fn an_unproven_or_wrongly_proven_user_id_is_refused_and_counts_nothing() {
    let app = signed_app(None).await;
    let cases = [
        ("customer-42", None),
        ("customer-42", Some(proof("customer-43"))),
        ("customer-42", Some("zz".to_owned())),
        ("customer-42", Some(String::new())),
    ];
    for (user, signature) in &cases {
        let response = get(&browser(), &app, user, signature.as_deref())
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(response, 400).await,
            "unproven_user_id",
            "{signature:?}"
        );
        for path in ["/variant", "/track_view", "/track_conversion"] {
            let mut request = if path == "/variant" {
                browser().get(app.url(path))
            } else {
                app.client.post(app.url(path))
            };
            request = request.header("X-User-Id", *user);
            if let Some(signature) = signature {
                request = request.header("X-User-Id-Signature", signature);
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                error_code(response, 400).await,
                "unproven_user_id",
                "{path}"
            );
        }
    }
    assert!(
        app.counters().await.is_empty(),
        "{:?}",
        app.counters().await
    );
    // Without the header, the visitor is counted by its cookie as always.
    assert_eq!(app.get("/get_content").await.status(), 200);
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
}

#[tokio::test]
async fn a_proven_user_keeps_its_variant_and_converts_once_across_devices() {
    let app = signed_app(None).await;
    let user = "customer-42";
    let first = browser();
    let served = get(&first, &app, user, Some(&proof(user)))
        .send()
        .await
        .unwrap();
    assert_eq!(served.status(), 200);
    let variant = served.headers()["x-variant"].to_str().unwrap().to_owned();
    // The page's JS sends no header afterwards: the session remembers the user.
    assert_eq!(
        first
            .post(app.url("/track_conversion"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    // A second device is served the recorded variant.
    let second = browser();
    for _ in 0..5 {
        let served = get(&second, &app, user, Some(&proof(user)))
            .send()
            .await
            .unwrap();
        assert_eq!(served.headers()["x-variant"], variant.as_str());
    }
    // A third device converts without asking first: the recorded variant counts it.
    let third = browser()
        .post(app.url("/track_conversion"))
        .header("X-User-Id", user)
        .header("X-User-Id-Signature", proof(user))
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 204);
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
    let conversions = format!("homepage_cta/{variant}/conversions/conversion");
    let total = format!("homepage_cta/{variant}/total_conversions/conversion");
    assert_eq!(app.counter(&conversions).await, 1);
    assert_eq!(app.counter(&total).await, 2);
    // A proven user never assigned is not converted by a browser.
    let stranger = "customer-77";
    let response = browser()
        .post(app.url("/track_conversion"))
        .header("X-User-Id", stranger)
        .header("X-User-Id-Signature", proof(stranger))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(response, 409).await, "not_assigned");
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn a_proven_user_counts_across_two_instances_on_one_postgres() {
    let Some(url) = crate::postgres::fresh_database().await else {
        return;
    };
    let one = signed_app(Some(url.clone())).await;
    let two = signed_app(Some(url)).await;
    let user = "customer-7";
    let served = get(&browser(), &one, user, Some(&proof(user)))
        .send()
        .await
        .unwrap();
    let variant = served.headers()["x-variant"].to_str().unwrap().to_owned();
    let other = browser();
    let again = get(&other, &two, user, Some(&proof(user)))
        .send()
        .await
        .unwrap();
    assert_eq!(again.headers()["x-variant"], variant.as_str());
    assert_eq!(
        other
            .post(two.url("/track_conversion"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let conversions = format!("homepage_cta/{variant}/conversions/conversion");
    assert_eq!(one.counter(&conversions).await, 1);
    assert_eq!(one.total("homepage_cta", "participants").await, 1);
}

fn production(session_extra: &str) -> String {
    BASE.patched(
        "environment = \"development\"",
        "environment = \"production\"",
    )
    .patched(
        "[session]",
        &format!("[session]\nsecure = true\n{session_extra}"),
    ) + &format!("[admin]\ntoken = \"{ADMIN}\"\n")
        + EXPERIMENT
}

#[tokio::test]
async fn production_refuses_a_plain_user_id_unless_a_proxy_is_trusted() {
    let strict = spawn_app_from(&production(""), None).await;
    let response = get(&browser(), &strict, "customer-42", None)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unproven_user_id");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("session.user_id_secret"),
        "{body}"
    );
    assert!(strict.counters().await.is_empty());

    let proxied = spawn_app_from(&production("trust_user_id_header = true"), None).await;
    let response = get(&browser(), &proxied, "customer-42", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(proxied.total("homepage_cta", "participants").await, 1);
}

#[tokio::test]
async fn variant_discloses_a_users_variant_only_for_a_proven_id() {
    let app = signed_app(None).await;
    let user = "customer-5";
    let served = get(&browser(), &app, user, Some(&proof(user)))
        .send()
        .await
        .unwrap();
    let variant = served.headers()["x-variant"].to_str().unwrap().to_owned();
    let unproven = browser()
        .get(app.url("/variant"))
        .header("X-User-Id", user)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(unproven, 400).await, "unproven_user_id");
    let proven: Value = browser()
        .get(app.url("/variant"))
        .header("X-User-Id", user)
        .header("X-User-Id-Signature", proof(user))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(proven["variant"], variant.as_str());
}

#[test]
fn the_user_id_settings_are_checked_and_the_secret_never_printed() {
    use crate::config_validation::{DEFAULT, rejects, run};
    let with = |extra: &str| DEFAULT.patched("[session]", &format!("[session]\n{extra}"));
    rejects(
        &with("user_id_secret = \"too-short\""),
        "session.user_id_secret",
    );
    rejects(
        &with(&format!(
            "user_id_secret = \"{SECRET}\"\ntrust_user_id_header = true"
        )),
        "session.trust_user_id_header",
    );
    let (status, stdout, stderr) = run(
        &["check-config"],
        &with(&format!("user_id_secret = \"{SECRET}\"")),
        &[],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        !stdout.contains(SECRET) && !stderr.contains(SECRET),
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains("user_id_secret = \"[redacted]\""),
        "{stdout}"
    );
    // Development without a secret believes the header, and warns at start.
    let settings = splitcast::configuration::Settings::from_toml(DEFAULT).unwrap();
    let warnings = settings.session.start_warnings();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("session.user_id_secret")),
        "{warnings:?}"
    );
    let signed = with(&format!("user_id_secret = \"{SECRET}\""));
    let settings = splitcast::configuration::Settings::from_toml(&signed).unwrap();
    assert!(
        !settings
            .session
            .start_warnings()
            .iter()
            .any(|w| w.contains("user_id_secret"))
    );
}
