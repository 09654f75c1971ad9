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

fn close(value: &serde_json::Value, expected: f64, tolerance: f64) -> bool {
    value
        .as_f64()
        .is_some_and(|v| (v - expected).abs() <= tolerance)
}

#[tokio::test]
async fn the_seed_example_is_inconclusive_under_the_default_sequential_analysis() {
    let app = spawn_app().await;
    seed(app.store.as_ref(), "A", 1000, 120).await;
    seed(app.store.as_ref(), "B", 1000, 150).await;
    let report: serde_json::Value = app.get("/results").await.json().await.unwrap();
    let experiment = &report["experiments"][0];
    assert_eq!(experiment["name"], "homepage_cta");
    assert_eq!(experiment["control"], "A");
    assert_eq!(experiment["analysis"], "sequential");
    assert_eq!(experiment["sequential_tuning"], 5000.0);
    assert!(experiment["sample_size"].is_null() && experiment["started_at"].is_null());
    assert_eq!(experiment["srm"]["mismatch"], false);
    let goal = &experiment["goals"][0];
    assert_eq!(goal["goal"], "conversion");
    let (a, b) = (&goal["variants"][0], &goal["variants"][1]);
    assert_eq!(a["participants"], 1000);
    assert_eq!(a["conversions"], 120);
    assert_eq!(a["rate"], 0.12);
    assert!(close(&a["ci_low"], 0.1013, 1e-4), "{a}");
    assert!(close(&a["ci_high"], 0.1416, 1e-4), "{a}");
    assert_eq!(a["analysis"], "sequential");
    for field in [
        "p_value",
        "p_value_holm",
        "lift_abs",
        "test",
        "lift_abs_ci",
        "lift_rel_ci",
        "fixed_horizon",
        "verdict",
        "progress",
    ] {
        assert!(a[field].is_null(), "{field} on the control: {a}");
    }
    // gbstats SequentialTwoSidedTTest, N* = 5000.
    assert_eq!(b["analysis"], "sequential");
    assert_eq!(b["test"], "sequential");
    assert!(close(&b["p_value"], 0.470691, 1e-6), "{b}");
    assert_eq!(b["p_value_holm"], b["p_value"]);
    assert!(close(&b["lift_abs_ci"][0], -0.017693, 1e-6), "{b}");
    assert!(close(&b["lift_abs_ci"][1], 0.077693, 1e-6), "{b}");
    assert!(close(&b["lift_rel_ci"][0], -0.195207, 1e-6), "{b}");
    assert!(close(&b["lift_rel_ci"][1], 0.695207, 1e-6), "{b}");
    assert_eq!(b["verdict"], "inconclusive");
    assert!(b["progress"].is_null());
    // Today's fixed-horizon numbers, kept for reference.
    assert_eq!(b["fixed_horizon"]["test"], "chi2_yates");
    assert!(close(&b["fixed_horizon"]["p_value"], 0.0577, 1e-3), "{b}");
    assert!((b["lift_abs"].as_f64().unwrap() - 0.03).abs() < 1e-12);
    assert!((b["lift_rel"].as_f64().unwrap() - 0.25).abs() < 1e-12);
    let chance = b["chance_to_beat_control"].as_f64().unwrap();
    assert!((chance - 0.975).abs() < 0.01, "{chance}");
    assert!(report["generated_at"].as_i64().unwrap() > 1_700_000_000);
}

#[tokio::test]
async fn a_fixed_plan_waits_for_its_sample_and_then_judges_with_yates() {
    let config = format!(
        "{BASE}\n{}",
        DEMO.replace(
            "default = true",
            "default = true\nanalysis = \"fixed\"\nsample_size = 1000"
        )
    );
    let app = spawn_app_from(&config, None).await;
    seed(app.store.as_ref(), "A", 1000, 120).await;
    seed(app.store.as_ref(), "B", 400, 80).await;
    let report: serde_json::Value = app.get("/results").await.json().await.unwrap();
    let experiment = &report["experiments"][0];
    assert_eq!(experiment["analysis"], "fixed");
    assert_eq!(experiment["sample_size"], 1000);
    assert!(experiment["sequential_tuning"].is_null());
    // The helper records its participants at time 0.
    assert_eq!(experiment["started_at"], 0);
    let b = &experiment["goals"][0]["variants"][1];
    assert_eq!(b["analysis"], "fixed");
    assert_eq!(b["verdict"], "waiting");
    assert_eq!(b["progress"], 0.4);
    assert_eq!(b["test"], b["fixed_horizon"]["test"]);
    assert_eq!(b["p_value"], b["fixed_horizon"]["p_value"]);

    seed(app.store.as_ref(), "B", 600, 120).await;
    let report: serde_json::Value = app.get("/results").await.json().await.unwrap();
    let b = &report["experiments"][0]["goals"][0]["variants"][1];
    assert_eq!(b["progress"], 1.0);
    assert_eq!(b["test"], "chi2_yates");
    assert!(b["p_value"].as_f64().unwrap() < 0.05, "{b}");
    assert_eq!(b["verdict"], "better");
    // gbstats TwoSidedTTest (Welch) on 120/1000 vs 200/1000.
    let [low, high] = [&b["lift_abs_ci"][0], &b["lift_abs_ci"][1]];
    assert!(
        low.as_f64().unwrap() > 0.0 && high.as_f64().unwrap() < 0.2,
        "{b}"
    );
}

#[tokio::test]
async fn degenerate_comparisons_have_a_defined_answer_and_no_nan() {
    let app = spawn_app().await;
    // No one converts anywhere: no variance, no evidence.
    seed(app.store.as_ref(), "A", 500, 0).await;
    seed(app.store.as_ref(), "B", 500, 0).await;
    let body = app.get("/results").await.text().await.unwrap();
    assert!(!body.contains("NaN") && !body.contains("inf"), "{body}");
    let report: serde_json::Value = serde_json::from_str(&body).unwrap();
    let b = &report["experiments"][0]["goals"][0]["variants"][1];
    assert_eq!(b["p_value"], 1.0);
    assert!(
        b["lift_abs_ci"].is_null() && b["lift_rel_ci"].is_null(),
        "{b}"
    );
    assert_eq!(b["verdict"], "inconclusive");
    assert_eq!(b["fixed_horizon"]["p_value"], 1.0);
}

#[tokio::test]
async fn without_participants_every_comparison_waits() {
    let app = spawn_app().await;
    let report: serde_json::Value = app.get("/results").await.json().await.unwrap();
    let b = &report["experiments"][0]["goals"][0]["variants"][1];
    assert_eq!(b["verdict"], "waiting");
    assert!(b["p_value"].is_null() && b["test"].is_null() && b["fixed_horizon"].is_null());
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
