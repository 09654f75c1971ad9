//! `/dashboard` in a real browser: the token prompt, counts, verdicts in
//! plain words, the analysis, the charts, the fixed-plan progress, the SRM
//! warning and the refresh every 5 seconds.

use super::driver::{self, Browser};
use super::seed;
use crate::helpers::Patch;
use crate::helpers::{BASE, DEMO, seed_at, spawn_app_from};

const TOKEN: &str = "s3cret-admin";

/// A second experiment with two treatments, so that Holm applies.
const PRICING: &str = r#"
[experiments.pricing]
goals = ["conversion"]
[[experiments.pricing.variants]]
name = "A"
weight = 1
content = { price = "9" }
[[experiments.pricing.variants]]
name = "B"
weight = 1
content = { price = "7" }
[[experiments.pricing.variants]]
name = "C"
weight = 1
content = { price = "12" }
"#;

fn config(admin_token: Option<&str>) -> String {
    let base = match admin_token {
        Some(token) => BASE.patched(
            "[session]",
            &format!("[admin]\ntoken = \"{token}\"\n[session]"),
        ),
        None => BASE.to_owned(),
    };
    format!("{base}\n{DEMO}\n{PRICING}")
}

/// The cell of `class` in `variant`'s row of `experiment`'s `conversion` table.
fn cell(experiment: &str, variant: &str, class: &str) -> String {
    format!(
        r#"[data-experiment="{experiment}"] [data-goal="conversion"] tr[data-variant="{variant}"] .{class}"#
    )
}

async fn submit_token(browser: &Browser, token: &str) {
    browser.type_into("#token", token).await;
    browser.click("#token-form button[type=submit]").await;
}

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn the_dashboard_asks_for_the_token_then_shows_counts_verdicts_and_a_chart() {
    let Some(driver) = driver::start().await else {
        return;
    };
    let app = spawn_app_from(&config(Some(TOKEN)), None).await;
    seed(&app, "homepage_cta", "A", 1000, 120).await;
    seed(&app, "homepage_cta", "B", 1000, 150).await;
    seed(&app, "pricing", "A", 1000, 100).await;
    seed(&app, "pricing", "B", 1000, 200).await;
    seed(&app, "pricing", "C", 1000, 60).await;
    let browser = driver.browser().await;
    browser.client.set_window_size(1280, 1700).await.unwrap();
    browser.open(&app.url("/dashboard"), "#token-form").await;
    browser.until_displayed("#token-form").await;
    browser.screenshot("dashboard-token").await;

    submit_token(&browser, "wrong").await;
    browser
        .text_when("#token-error", |t| t.contains("refused"))
        .await;
    assert!(browser.displayed("#token-form").await);
    submit_token(&browser, TOKEN).await;

    // Sequential: p = 0.47 (the fixed-horizon 0.058 is shown for reference only).
    let verdict = browser.text(&cell("homepage_cta", "B", "verdict")).await;
    assert_eq!(verdict, "no significant difference yet (p = 0.47)");
    let test = browser.text(&cell("homepage_cta", "B", "test")).await;
    assert!(test.contains("fixed-horizon p = 0.058"), "{test}");
    let analysis = browser
        .text(r#"[data-experiment="homepage_cta"] .analysis-name"#)
        .await;
    assert_eq!(analysis, "Sequential analysis (N* = 5,000)");
    assert!(!browser.displayed("#token-form").await);
    for (variant, participants, conversions) in [("A", "1000", "120"), ("B", "1000", "150")] {
        let row = |class| cell("homepage_cta", variant, class);
        assert_eq!(browser.text(&row("participants")).await, participants);
        assert_eq!(browser.text(&row("conversions")).await, conversions);
    }
    assert!(
        browser
            .text(&cell("homepage_cta", "A", "rate"))
            .await
            .contains("10.1% – 14.2%")
    );
    let lift = browser.text(&cell("homepage_cta", "B", "lift")).await;
    assert!(lift.starts_with("+3.0 pts (+25.0%)"), "{lift}");
    // The confidence sequence of gbstats: [-0.017693, 0.077693].
    assert!(lift.ends_with("95%: −1.8 to +7.8 pts"), "{lift}");
    assert_eq!(
        browser.text(&cell("homepage_cta", "A", "verdict")).await,
        "control"
    );

    let beats = browser.text(&cell("pricing", "B", "verdict")).await;
    assert!(
        beats.starts_with("B beats A — valid however often you look (Holm p"),
        "{beats}"
    );
    let worse = browser.text(&cell("pricing", "C", "verdict")).await;
    assert!(
        worse.starts_with("C is worse than A — valid however often you look (Holm p"),
        "{worse}"
    );
    // Holm only where there are several treatments.
    assert_eq!(
        browser
            .count(r#"[data-experiment="homepage_cta"] .holm"#)
            .await,
        0
    );
    assert_eq!(
        browser
            .count(r#"[data-experiment="pricing"] td.holm"#)
            .await,
        3
    );
    // One bar per variant, each with an error bar and its two caps.
    let bars = r#"[data-experiment="pricing"] svg.rate-chart g[data-variant]"#;
    assert_eq!(browser.count(bars).await, 3);
    let whiskers = r#"[data-experiment="pricing"] svg.rate-chart g[data-variant="B"] line.ci"#;
    assert_eq!(browser.count(whiskers).await, 3);
    // The lift chart: one interval per treatment, none for the control.
    let lifts = r#"[data-experiment="pricing"] svg.lift-chart g[data-variant]"#;
    assert_eq!(browser.count(lifts).await, 2);
    let interval = r#"[data-experiment="pricing"] svg.lift-chart g[data-variant="C"] line.lift-ci"#;
    assert_eq!(browser.count(interval).await, 3);
    let updated = browser.text("#updated").await;
    assert!(is_clock_stamp(&updated), "{updated}");
    browser.screenshot("dashboard").await;

    // New data shows up without a reload.
    seed(&app, "homepage_cta", "A", 10, 0).await;
    browser
        .text_when(&cell("homepage_cta", "A", "participants"), |t| t == "1010")
        .await;

    // The token lives in sessionStorage: a reload does not ask again.
    browser.client.refresh().await.unwrap();
    browser.text(&cell("pricing", "B", "verdict")).await;
    assert!(!browser.displayed("#token-form").await);
    browser.close().await;
}

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn without_an_admin_token_configured_the_dashboard_shows_results_without_asking() {
    let Some(driver) = driver::start().await else {
        return;
    };
    let app = spawn_app_from(&config(None), None).await;
    // A 600/400 split against 50/50 weights: the split itself is broken.
    seed(&app, "homepage_cta", "A", 600, 0).await;
    seed(&app, "homepage_cta", "B", 400, 0).await;
    let browser = driver.browser().await;
    browser.client.set_window_size(1280, 1500).await.unwrap();
    browser.open(&app.url("/dashboard"), "#experiments").await;
    let warning = browser
        .text(r#"[data-experiment="homepage_cta"] .srm-warning"#)
        .await;
    assert!(warning.starts_with("Sample ratio mismatch"), "{warning}");
    assert_eq!(
        browser.text(&cell("pricing", "B", "verdict")).await,
        "no data yet"
    );
    assert_eq!(
        browser.text(&cell("pricing", "A", "verdict")).await,
        "no data yet"
    );
    assert_eq!(
        browser
            .count(r#"[data-experiment="pricing"] .srm-warning"#)
            .await,
        0
    );
    assert!(!browser.displayed("#token-form").await);
    browser.screenshot("dashboard-srm").await;
    browser.close().await;
}

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn a_fixed_plan_shows_its_progress_and_the_time_left_then_its_verdict() {
    let Some(driver) = driver::start().await else {
        return;
    };
    let fixed = DEMO.patched(
        "default = true",
        "default = true\nanalysis = \"fixed\"\nsample_size = 1000",
    );
    let app = spawn_app_from(&format!("{BASE}\n{fixed}"), None).await;
    // 500 participants in the last hour: 250 per arm, a quarter of the plan.
    let an_hour_ago = splitcast::clock::now_secs() - 3600;
    let store = app.store.as_ref();
    seed_at(store, "homepage_cta", "A", 250, 25, an_hour_ago).await;
    seed_at(store, "homepage_cta", "B", 250, 60, an_hour_ago).await;
    let browser = driver.browser().await;
    browser.client.set_window_size(1280, 1200).await.unwrap();
    browser.open(&app.url("/dashboard"), "#experiments").await;
    let section = r#"[data-experiment="homepage_cta"]"#;
    let name = browser.text(&format!("{section} .analysis-name")).await;
    assert_eq!(
        name,
        "Fixed-horizon analysis: judged once each variant has 1,000 participants"
    );
    let progress = browser.text(&format!("{section} .progress-text")).await;
    assert_eq!(
        progress,
        "25% of the planned 1,000 per variant · 500 participants per hour so far · about 3 h left"
    );
    let fill = format!(r#"{section} .progress-bar[aria-valuenow="25"]"#);
    assert_eq!(browser.count(&fill).await, 1);
    // Significant already, but a fixed plan does not peek.
    assert_eq!(
        browser.text(&cell("homepage_cta", "B", "verdict")).await,
        "waiting for the planned sample (25%)"
    );
    browser.screenshot("dashboard-fixed").await;

    seed_at(store, "homepage_cta", "A", 750, 75, an_hour_ago).await;
    seed_at(store, "homepage_cta", "B", 750, 180, an_hour_ago).await;
    let verdict = browser
        .text_when(&cell("homepage_cta", "B", "verdict"), |t| {
            t.contains("beats")
        })
        .await;
    assert!(
        verdict.starts_with("B beats A at the planned sample (p "),
        "{verdict}"
    );
    let done = browser.text(&format!("{section} .progress-text")).await;
    assert!(
        done.ends_with("plan reached: the verdict below is final"),
        "{done}"
    );
    browser.close().await;
}

/// "updated HH:MM:SS".
fn is_clock_stamp(text: &str) -> bool {
    let Some(clock) = text.strip_prefix("updated ") else {
        return false;
    };
    let bytes = clock.as_bytes();
    bytes.len() == 8
        && bytes.iter().enumerate().all(|(i, b)| match i {
            2 | 5 => *b == b':',
            _ => b.is_ascii_digit(),
        })
}

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn early_intervals_wait_for_the_minimum_sample_and_no_lift_axis_passes_100_points() {
    let Some(driver) = driver::start().await else {
        return;
    };
    let app = spawn_app_from(&config(None), None).await;
    // The issue's counts: 1 and 2 participants, an interval of ±13 (1,300 points).
    seed(&app, "homepage_cta", "A", 1, 0).await;
    seed(&app, "homepage_cta", "B", 2, 1).await;
    let results: serde_json::Value = app.get("/results").await.json().await.unwrap();
    let experiment = &results["experiments"][0];
    assert_eq!(experiment["min_sample_per_variant"], 100);
    let ci = &experiment["goals"][0]["variants"][1]["lift_abs_ci"];
    assert!(
        ci[1].as_f64().unwrap() > 1.0,
        "the JSON keeps its numbers: {ci}"
    );
    let browser = driver.browser().await;
    browser.open(&app.url("/dashboard"), "#experiments").await;
    let lift = browser
        .text_when(&cell("homepage_cta", "B", "lift"), |t| !t.is_empty())
        .await;
    assert!(lift.ends_with("waiting for 100 per variant"), "{lift}");
    assert!(!lift.contains("95%"), "{lift}");
    let chart = r#"[data-experiment="homepage_cta"] svg.lift-chart"#;
    assert_eq!(browser.count(&format!("{chart} line.lift-ci")).await, 0);
    assert_eq!(
        browser
            .text(&format!("{chart} g[data-variant=\"B\"] .waiting"))
            .await,
        "waiting for 100 per variant"
    );
    for tick in browser.texts(&format!("{chart} text.tick")).await {
        let points: f64 = tick
            .trim_start_matches(['+', '−'])
            .trim_end_matches(" pts")
            .parse()
            .unwrap_or_else(|_| panic!("a tick in points: {tick}"));
        assert!(points <= 100.0, "tick {tick}");
    }
    browser.close().await;
}

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn at_1100_pixels_the_tables_fit_and_the_verdict_column_is_in_view() {
    let Some(driver) = driver::start().await else {
        return;
    };
    let app = spawn_app_from(&config(None), None).await;
    seed(&app, "pricing", "A", 1000, 100).await;
    seed(&app, "pricing", "B", 1000, 200).await;
    seed(&app, "pricing", "C", 1000, 60).await;
    let browser = driver.browser().await;
    browser.client.set_window_size(1100, 900).await.unwrap();
    browser.open(&app.url("/dashboard"), "#experiments").await;
    browser
        .text_when(&cell("pricing", "B", "verdict"), |t| t.contains("beats"))
        .await;
    let overflow = browser
        .client
        .execute(
            "return Array.from(document.querySelectorAll('.table-scroll'))\
               .map(function (s) { return s.scrollWidth - s.clientWidth; });",
            vec![],
        )
        .await
        .unwrap();
    let overflow: Vec<i64> = serde_json::from_value(overflow).unwrap();
    assert!(!overflow.is_empty());
    assert!(
        overflow.iter().all(|&o| o <= 0),
        "scrolls sideways by {overflow:?} px"
    );
    let right = browser
        .client
        .execute(
            "var c = document.querySelector(arguments[0]).getBoundingClientRect();\
             return [c.right, document.documentElement.clientWidth];",
            vec![serde_json::json!(cell("pricing", "C", "verdict"))],
        )
        .await
        .unwrap();
    let [right, width]: [f64; 2] = serde_json::from_value(right).unwrap();
    assert!(right <= width, "the verdict ends at {right} px of {width}");
    browser.screenshot("dashboard-1100").await;
    browser.close().await;
}
