//! `/dashboard` in a real browser: the token prompt, counts, verdicts, the
//! chart, the SRM warning and the refresh every 5 seconds.

use super::driver::{self, Browser};
use super::seed;
use crate::helpers::Patch;
use crate::helpers::{BASE, DEMO, spawn_app_from};

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

    let verdict = browser.text(&cell("homepage_cta", "B", "verdict")).await;
    assert_eq!(verdict, "not significant yet (p = 0.058)");
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
    assert_eq!(
        browser.text(&cell("homepage_cta", "B", "lift")).await,
        "+3.0 pts (+25.0%)"
    );
    assert_eq!(
        browser.text(&cell("homepage_cta", "A", "verdict")).await,
        "control"
    );

    let beats = browser.text(&cell("pricing", "B", "verdict")).await;
    assert!(beats.starts_with("B beats A (Holm p"), "{beats}");
    let worse = browser.text(&cell("pricing", "C", "verdict")).await;
    assert!(worse.starts_with("C is worse than A (Holm p"), "{worse}");
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
    let bars = r#"[data-experiment="pricing"] svg.chart g[data-variant]"#;
    assert_eq!(browser.count(bars).await, 3);
    let whiskers = r#"[data-experiment="pricing"] svg.chart g[data-variant="B"] line.ci"#;
    assert_eq!(browser.count(whiskers).await, 3);
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
