//! `/dashboard`'s results over time in a real browser: once a few history
//! points exist, each experiment shows its cumulative rate per variant (one
//! line each), the lift interval of each treatment and participants per day.

use super::driver;
use super::seed;
use crate::helpers::{BASE, DEMO, spawn_app_from};
use std::time::{Duration, Instant};

const TOKEN: &str = "s3cret-admin";

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn the_dashboard_draws_the_results_over_time() {
    let Some(driver) = driver::start().await else {
        return;
    };
    let config =
        format!("{BASE}\n[admin]\ntoken = \"{TOKEN}\"\n[history]\ninterval_secs = 1\n{DEMO}");
    let app = spawn_app_from(&config, None).await;
    seed(&app, "homepage_cta", "A", 1000, 100).await;
    seed(&app, "homepage_cta", "B", 1000, 160).await;
    // A few points, through the API the dashboard reads.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let history: serde_json::Value = app
            .get_json_with("/results/history?experiment=homepage_cta", TOKEN)
            .await;
        if history["points"].as_array().unwrap().len() >= 3 {
            break;
        }
        assert!(Instant::now() < deadline, "no history points: {history}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let browser = driver.browser().await;
    browser.client.set_window_size(1280, 2400).await.unwrap();
    browser.open(&app.url("/dashboard"), "#token-form").await;
    browser.type_into("#token", TOKEN).await;
    browser.click("#token-form button[type=submit]").await;

    let section = r#"[data-experiment="homepage_cta"] .history"#;
    let line = |variant: &str| {
        format!(r#"{section} svg.history-rate-chart polyline.rate-line[data-variant="{variant}"]"#)
    };
    // Each line runs through the points (drawn once the fetch answered).
    for variant in ["A", "B"] {
        let points = browser.attr(&line(variant), "points").await;
        assert!(points.split(' ').count() >= 3, "{variant}: {points}");
    }
    let lines = format!("{section} svg.history-rate-chart polyline.rate-line");
    assert_eq!(browser.count(&lines).await, 2);
    let legend = format!("{section} svg.history-rate-chart .legend-item");
    assert_eq!(browser.count(&legend).await, 2);
    // The lift interval of the treatment only, as a band around zero.
    let lift = format!(r#"{section} svg.history-lift-chart[data-variant="B"]"#);
    assert_eq!(browser.count(&format!("{lift} polygon.lift-band")).await, 1);
    assert_eq!(browser.count(&format!("{lift} line.zero")).await, 1);
    let lifts = format!("{section} svg.history-lift-chart");
    assert_eq!(browser.count(&lifts).await, 1);
    // A bar per UTC day with points: one, or two across midnight.
    let bars = format!("{section} svg.history-days-chart rect.day-bar");
    assert!((1..=2).contains(&browser.count(&bars).await));
    browser.screenshot("dashboard-history").await;
    browser.close().await;
}
