//! `/dashboard`'s lifecycle buttons in a real browser: conclude an experiment
//! with a winner through the confirmation step, and every instance sharing
//! the database serves the winner.

use super::driver::{self, eventually};
use crate::helpers::{TestApp, spawn_app_from, wait_until};
use crate::lifecycle::{TOKEN, config, listed, new_visitor_sees};
use fantoccini::Locator;
use std::time::Duration;

const BLOCK: &str = r#"[data-lifecycle="homepage_cta"]"#;

/// Both instances report B as the winner and serve it to new visitors (a
/// running 50/50 experiment would serve B to eight in a row once in 256).
async fn winner_everywhere(apps: [&TestApp; 2]) -> bool {
    for app in apps {
        if listed(app, "homepage_cta").await["winner"] != "B" {
            return false;
        }
        for _ in 0..8 {
            if new_visitor_sees(app).await != "B" {
                return false;
            }
        }
    }
    true
}

#[tokio::test]
#[cfg_attr(
    not(all(has_postgres, has_browser)),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL, /usr/bin/chromium and chromedriver"
)]
async fn conclude_on_the_dashboard_ships_the_winner_on_every_instance() {
    let Some(url) = crate::postgres::fresh_database().await else {
        return;
    };
    let Some(driver) = driver::start().await else {
        return;
    };
    let one = spawn_app_from(&config(""), Some(url.clone())).await;
    let two = spawn_app_from(&config(""), Some(url)).await;
    let browser = driver.browser().await;
    browser.client.set_window_size(1280, 1600).await.unwrap();
    browser.open(&one.url("/dashboard"), "#token-form").await;
    browser.type_into("#token", TOKEN).await;
    browser.click("#token-form button[type=submit]").await;
    let state = format!("{BLOCK} .lifecycle-state");
    browser
        .text_when(&state, |t| t.starts_with("running — as configured"))
        .await;

    // The button only opens the confirmation; nothing changes yet.
    browser
        .click(&format!(r#"{BLOCK} button[data-action="conclude"]"#))
        .await;
    browser
        .until_displayed(&format!("{BLOCK} .lifecycle-confirm"))
        .await;
    assert_eq!(listed(&one, "homepage_cta").await["status"], "running");
    // A refresh (every 5 s) must not close the open confirmation.
    let refreshed = browser.text("#updated").await;
    browser.text_when("#updated", |t| t != refreshed).await;
    assert!(
        browser
            .displayed(&format!("{BLOCK} .lifecycle-confirm"))
            .await
    );
    let select = browser
        .client
        .find(Locator::Css(&format!(r#"{BLOCK} select[name="winner"]"#)))
        .await
        .unwrap();
    select.select_by_value("B").await.unwrap();
    browser
        .type_into(
            &format!(r#"{BLOCK} input[name="reason"]"#),
            "B wins signups",
        )
        .await;
    browser.screenshot("dashboard-conclude-confirm").await;
    browser
        .click(&format!(r#"{BLOCK} button[data-action="confirm"]"#))
        .await;
    let shown = browser
        .text_when(&state, |t| {
            t.starts_with("concluded: B ships — set at run time")
        })
        .await;
    assert!(shown.ends_with("(B wins signups)"), "{shown}");
    let status = r#"[data-experiment="homepage_cta"] h2 .status"#;
    browser
        .text_when(status, |t| t.eq_ignore_ascii_case("concluded"))
        .await;
    browser.screenshot("dashboard-concluded").await;

    // New visitors get B's content, on this instance at once and on the
    // other within its 1 s poll.
    let body: serde_json::Value = crate::helpers::browser()
        .get(one.url("/get_content"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["button_color"], "green");
    // Counted from the moment the first instance serves B: the other polls
    // every second (POLL_PERIOD); four more seconds of slack for a loaded
    // 2-core machine that also runs Chromium. An instance that never polled
    // fails it.
    wait_until(Duration::from_secs(5), "B on both instances", || {
        winner_everywhere([&one, &two])
    })
    .await;
    let second = listed(&two, "homepage_cta").await;
    assert_eq!(second["winner"], "B");
    assert_eq!(second["source"], "override");

    // Cancel leaves everything as it is.
    browser
        .click(&format!(r#"{BLOCK} button[data-action="pause"]"#))
        .await;
    browser
        .click(&format!(r#"{BLOCK} button[data-action="cancel"]"#))
        .await;
    let still = eventually(|| async {
        browser
            .client
            .find(Locator::Css(&format!("{BLOCK} .lifecycle-confirm")))
            .await
            .is_err()
            .then_some(())
    })
    .await;
    assert!(still.is_some(), "the confirmation closed on Cancel");
    assert_eq!(listed(&one, "homepage_cta").await["status"], "concluded");
    browser.close().await;
}
