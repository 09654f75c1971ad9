use crate::helpers::Patch;
use crate::helpers::{BASE, DEMO, error_code, spawn_app, spawn_app_from};

async fn seed(
    store: &dyn splitcast::store::Store,
    variant: &str,
    participants: usize,
    conversions: usize,
) {
    crate::helpers::seed(store, "homepage_cta", variant, participants, conversions).await;
}

#[tokio::test]
async fn results_need_the_admin_token_when_one_is_configured() {
    let config = format!(
        "{}\n{DEMO}",
        BASE.patched("[session]", "[admin]\ntoken = \"s3cret-admin\"\n[session]")
    );
    let app = spawn_app_from(&config, None).await;
    assert_eq!(
        error_code(app.get("/results").await, 401).await,
        "unauthorized"
    );
    let wrong = app
        .client
        .get(app.url("/results"))
        .bearer_auth("nope")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(wrong, 401).await, "unauthorized");
    let right = app
        .client
        .get(app.url("/results"))
        .bearer_auth("s3cret-admin")
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
}

#[tokio::test]
async fn the_seed_example_is_not_significant_with_yates_correction() {
    let app = spawn_app().await;
    seed(app.store.as_ref(), "A", 1000, 120).await;
    seed(app.store.as_ref(), "B", 1000, 150).await;
    let report: serde_json::Value = app.get("/results").await.json().await.unwrap();
    let experiment = &report["experiments"][0];
    assert_eq!(experiment["name"], "homepage_cta");
    assert_eq!(experiment["control"], "A");
    assert_eq!(experiment["srm"]["mismatch"], false);
    let goal = &experiment["goals"][0];
    assert_eq!(goal["goal"], "conversion");
    let (a, b) = (&goal["variants"][0], &goal["variants"][1]);
    assert_eq!(a["participants"], 1000);
    assert_eq!(a["conversions"], 120);
    assert_eq!(a["rate"], 0.12);
    assert!((a["ci_low"].as_f64().unwrap() - 0.1013).abs() < 1e-4, "{a}");
    assert!(
        (a["ci_high"].as_f64().unwrap() - 0.1416).abs() < 1e-4,
        "{a}"
    );
    assert!(a["p_value"].is_null() && a["lift_abs"].is_null() && a["test"].is_null());
    assert_eq!(b["test"], "chi2_yates");
    let p = b["p_value"].as_f64().unwrap();
    assert!(p > 0.05 && (p - 0.0577).abs() < 1e-3, "{p}");
    assert_eq!(b["p_value_holm"].as_f64().unwrap(), p);
    assert!((b["lift_abs"].as_f64().unwrap() - 0.03).abs() < 1e-12);
    assert!((b["lift_rel"].as_f64().unwrap() - 0.25).abs() < 1e-12);
    let chance = b["chance_to_beat_control"].as_f64().unwrap();
    assert!((chance - 0.975).abs() < 0.01, "{chance}");
}

#[tokio::test]
async fn browser_events_show_up_in_the_results() {
    let app = spawn_app().await;
    let variant = app.get("/get_content").await.headers()["x-variant"]
        .to_str()
        .unwrap()
        .to_owned();
    app.post("/track_view").await;
    app.post("/track_view").await;
    app.post("/track_conversion").await;
    app.post("/track_conversion").await;
    let report: serde_json::Value = app
        .get("/results?experiment=homepage_cta")
        .await
        .json()
        .await
        .unwrap();
    let variants = report["experiments"][0]["goals"][0]["variants"]
        .as_array()
        .unwrap();
    let row = variants
        .iter()
        .find(|v| v["name"] == variant.as_str())
        .unwrap();
    assert_eq!(row["participants"], 1);
    assert_eq!(row["views"], 2);
    assert_eq!(row["unique_views"], 1);
    assert_eq!(row["conversions"], 1);
    assert_eq!(row["total_conversions"], 2);
    assert_eq!(row["rate"], 1.0);
    assert_eq!(
        error_code(app.get("/results?experiment=nope").await, 404).await,
        "unknown_experiment"
    );
}

#[tokio::test]
async fn a_lopsided_split_is_flagged_as_a_sample_ratio_mismatch() {
    let app = spawn_app().await;
    seed(app.store.as_ref(), "A", 600, 0).await;
    seed(app.store.as_ref(), "B", 400, 0).await;
    let report: serde_json::Value = app.get("/results").await.json().await.unwrap();
    let srm = &report["experiments"][0]["srm"];
    assert_eq!(srm["mismatch"], true, "{srm}");
    assert!(srm["p_value"].as_f64().unwrap() < 0.001);
}
