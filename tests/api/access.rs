//! Who may read what: the Bearer scheme in any case on every token-guarded
//! endpoint, and `/metrics` (per-variant counts) behind a token in production.

use crate::helpers::{BASE, DEMO, Patch, error_code, spawn_app_from};

const ADMIN: &str = "admin-token-of-at-least-32-characters";
const SCRAPER: &str = "metrics-token-of-at-least-32-chars";

#[tokio::test]
async fn results_accept_the_bearer_scheme_in_any_case() {
    let config = format!("{BASE}\n[admin]\ntoken = \"{ADMIN}\"\n{DEMO}");
    let app = spawn_app_from(&config, None).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let response = app
            .client
            .get(app.url("/results"))
            .header("Authorization", format!("{scheme} {ADMIN}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{scheme}");
    }
    let wrong = app
        .client
        .get(app.url("/results"))
        .header("Authorization", format!("Bearer {ADMIN}x"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(wrong, 401).await, "unauthorized");
}

#[tokio::test]
async fn in_production_metrics_need_the_admin_or_the_metrics_token() {
    let config = format!(
        "{}\n[admin]\ntoken = \"{ADMIN}\"\n[metrics]\ntoken = \"{SCRAPER}\"\n{DEMO}",
        BASE.patched(
            "environment = \"development\"",
            "environment = \"production\""
        )
        .patched("[session]", "[session]\nsecure = true")
    );
    let app = spawn_app_from(&config, None).await;
    let missing = app.get("/metrics").await;
    assert_eq!(error_code(missing, 401).await, "unauthorized");
    for token in [ADMIN, SCRAPER] {
        let response = app
            .client
            .get(app.url("/metrics"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.text().await.unwrap().contains("splitcast_"));
    }
    // The metrics token opens /metrics only, not the results.
    let results = app
        .client
        .get(app.url("/results"))
        .bearer_auth(SCRAPER)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(results, 401).await, "unauthorized");
}
