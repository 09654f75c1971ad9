//! The dashboard and the demo page work under their Content-Security-Policy
//! (`default-src 'self'`): the table, the chart, the lifecycle buttons and
//! the demo's variant all render, and the browser reports no violation.

use super::driver::{self, Browser, eventually};
use super::seed;
use crate::helpers::{DEMO, spawn_app_with};
use crate::lifecycle::listed;

/// The CSP violations the page reported so far: a buffered
/// `ReportingObserver` also gets the reports made before it was created,
/// from the first script of the page on.
async fn violations(browser: &Browser) -> Vec<String> {
    let script = r#"
        const observer = new ReportingObserver(() => {}, {types: ["csp-violation"], buffered: true});
        observer.observe();
        const found = observer.takeRecords()
            .map(r => r.body.effectiveDirective + " " + (r.body.blockedURL || ""));
        observer.disconnect();
        return found;
    "#;
    let found = browser.client.execute(script, vec![]).await.unwrap();
    serde_json::from_value(found).unwrap()
}

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn the_dashboard_and_the_demo_work_under_the_csp() {
    let Some(driver) = driver::start().await else {
        return;
    };
    let app = spawn_app_with(DEMO).await;
    seed(&app, "homepage_cta", "A", 1000, 120).await;
    seed(&app, "homepage_cta", "B", 1000, 150).await;
    let browser = driver.browser().await;
    browser.client.set_window_size(1280, 1600).await.unwrap();

    browser.open(&app.url("/dashboard"), "#experiments").await;
    let row = r#"[data-experiment="homepage_cta"] [data-goal="conversion"] tr[data-variant="B"] .conversions"#;
    assert_eq!(browser.text(row).await, "150");
    let bars = r#"[data-experiment="homepage_cta"] svg.rate-chart g[data-variant]"#;
    assert!(browser.count(bars).await >= 2, "the chart drew its bars");
    // A lifecycle button: the dashboard's own POST passes the Origin and
    // Content-Type checks of the admin API.
    let block = r#"[data-lifecycle="homepage_cta"]"#;
    browser
        .click(&format!(r#"{block} button[data-action="pause"]"#))
        .await;
    browser
        .click(&format!(r#"{block} button[data-action="confirm"]"#))
        .await;
    browser
        .text_when(&format!("{block} .lifecycle-state"), |t| {
            t.starts_with("paused")
        })
        .await;
    assert_eq!(listed(&app, "homepage_cta").await["status"], "paused");
    browser.screenshot("dashboard-under-csp").await;
    assert_eq!(violations(&browser).await, Vec::<String>::new());

    // The detector detects: an inline style attribute is a violation.
    browser
        .client
        .execute(
            r#"const d = document.createElement("div");
               d.setAttribute("style", "color: red");
               document.body.appendChild(d);"#,
            vec![],
        )
        .await
        .unwrap();
    let reported = eventually(|| async {
        let found = violations(&browser).await;
        (!found.is_empty()).then_some(found)
    })
    .await;
    assert!(reported.is_some(), "an inline style was not reported");

    // The demo page: splitcast.js and demo.js ran, and set the colour.
    browser.open(&app.url("/"), "#cta").await;
    let variant = browser.attr("#cta", "data-variant").await;
    assert!(["A", "B"].contains(&variant.as_str()), "{variant}");
    assert_eq!(violations(&browser).await, Vec::<String>::new());
}
