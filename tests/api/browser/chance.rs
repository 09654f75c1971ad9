//! The Bayesian chance to beat control on `/dashboard`: kept, but said to be
//! what it is where it is shown, so that nobody reads it as the verdict it
//! can contradict.

use super::driver;
use super::seed;
use crate::helpers::{BASE, DEMO, spawn_app_from};

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn a_high_chance_beside_an_inconclusive_verdict_is_labelled_as_not_a_verdict() {
    let Some(driver) = driver::start().await else {
        return;
    };
    let app = spawn_app_from(&format!("{BASE}\n{DEMO}"), None).await;
    // The counts of the issue: 10.9% against 13.1%.
    seed(&app, "homepage_cta", "A", 2008, 219).await;
    seed(&app, "homepage_cta", "B", 1993, 261).await;
    let browser = driver.browser().await;
    browser.client.set_window_size(1280, 1400).await.unwrap();
    browser.open(&app.url("/dashboard"), "#experiments").await;
    let row = |variant: &str, class: &str| {
        format!(
            r#"[data-experiment="homepage_cta"] [data-goal="conversion"] tr[data-variant="{variant}"] .{class}"#
        )
    };
    let verdict = browser.text(&row("B", "verdict")).await;
    assert!(
        verdict.starts_with("no significant difference yet (p = "),
        "{verdict}"
    );
    let chance = browser.text(&row("B", "chance")).await;
    let percent: f64 = chance.split('%').next().unwrap().parse().unwrap();
    assert!(percent > 95.0, "a chance that reads as a verdict: {chance}");
    assert!(
        chance.ends_with("from the current counts; not a verdict"),
        "{chance}"
    );
    // The control has no chance of its own, and no note.
    assert_eq!(browser.text(&row("A", "chance")).await, "–");
    let header = r#"[data-experiment="homepage_cta"] thead th:nth-child(8)"#;
    assert_eq!(
        browser.text(header).await,
        "Bayesian chance to beat control"
    );
    let explain = browser
        .text(r#"[data-experiment="homepage_cta"] .chance-explain"#)
        .await;
    assert!(
        explain.contains("computed from the current counts")
            && explain.contains("not protected against peeking")
            && explain.ends_with("Act on the verdict."),
        "{explain}"
    );
    browser.screenshot("dashboard-chance").await;
    browser.close().await;
}
