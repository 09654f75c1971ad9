//! The demo page in a real browser: the variant's content, one conversion
//! per visitor however often it clicks, and profiles as separate visitors.

use super::driver::{self, Browser};
use crate::helpers::{BASE, TestApp, spawn_app, spawn_app_from, spawn_app_with};

/// What each demo variant shows: its headline and the button's computed colour.
fn shown(variant: &str) -> (&'static str, &'static str) {
    match variant {
        "A" => ("Welcome to our amazing service!", "0, 0, 255"),
        "B" => ("Discover the power of our platform!", "0, 128, 0"),
        other => panic!("the demo has no variant {other}"),
    }
}

/// "r, g, b" of a computed colour, which WebDriver gives as `rgba(r, g, b, 1)`
/// or `rgb(r, g, b)` depending on the browser.
fn rgb(computed: &str) -> String {
    let inner = computed
        .trim_start_matches("rgba(")
        .trim_start_matches("rgb(")
        .trim_end_matches(')');
    inner.trim_end_matches(", 1").to_owned()
}

/// The demo experiment with weights that send every new visitor to `variant`.
fn everyone_to(variant: &str) -> String {
    let (a, b) = if variant == "A" { (1, 0) } else { (0, 1) };
    format!(
        r#"
[experiments.homepage_cta]
default = true
[[experiments.homepage_cta.variants]]
name = "A"
weight = {a}
content = {{ button_color = "blue", headline = "Welcome to our amazing service!" }}
[[experiments.homepage_cta.variants]]
name = "B"
weight = {b}
content = {{ button_color = "green", headline = "Discover the power of our platform!" }}
"#
    )
}

/// Opens the demo page and waits until splitcast.js has applied a variant,
/// which it then names on the button.
async fn visit(browser: &Browser, app: &TestApp) -> String {
    browser.open(&app.url("/"), "#cta").await;
    browser.attr("#cta", "data-variant").await
}

/// Checks that the page shows `variant`'s headline and button colour.
async fn assert_shows(browser: &Browser, variant: &str) {
    let (headline, colour) = shown(variant);
    assert_eq!(browser.text("#headline").await, headline);
    assert_eq!(rgb(&browser.css("#cta", "background-color").await), colour);
}

/// The one variant the store has a participant in.
async fn recorded_variant(app: &TestApp) -> String {
    let a = app.counter("homepage_cta/A/participants").await;
    let b = app.counter("homepage_cta/B/participants").await;
    match (a, b) {
        (1, 0) => "A".into(),
        (0, 1) => "B".into(),
        other => panic!("expected one participant, got (A, B) = {other:?}"),
    }
}

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn the_demo_page_shows_the_headline_and_colour_of_the_variant_the_server_recorded() {
    let Some(driver) = driver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let browser = driver.browser().await;
    let variant = visit(&browser, &app).await;
    // The store is the judge: the page must show what the server counted.
    assert_eq!(variant, recorded_variant(&app).await);
    assert_shows(&browser, &variant).await;
    browser.screenshot("demo").await;
    browser.close().await;
}

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn clicking_the_button_twice_records_exactly_one_conversion() {
    let Some(driver) = driver::start().await else {
        return;
    };
    let app = spawn_app().await;
    let browser = driver.browser().await;
    let variant = visit(&browser, &app).await;
    browser.click("#cta").await;
    browser.click("#cta").await;
    // The page thanks once the conversion is acknowledged, that is stored; the
    // view was stored before the click could be sent at all.
    browser
        .text_when("#status", |t| t.contains("counted"))
        .await;
    browser.screenshot("demo-converted").await;
    let counters = app.counters().await;
    let count = |key: &str| counters.get(key).copied().unwrap_or(0);
    let of = |metric: &str| format!("homepage_cta/{variant}/{metric}");
    assert_eq!(count(&of("participants")), 1, "{counters:?}");
    assert_eq!(count(&of("views")), 1, "{counters:?}");
    assert_eq!(count(&of("conversions/conversion")), 1, "{counters:?}");
    assert_eq!(
        count(&of("total_conversions/conversion")),
        1,
        "{counters:?}"
    );
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
    browser.close().await;
}

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn a_second_browser_profile_is_a_new_visitor_and_lands_in_the_other_variant() {
    let Some(driver) = driver::start().await else {
        return;
    };
    // Random assignment would make "the other variant" a coin toss. Instead
    // two instances share the session key and the database, as in
    // production, but their weights send every new visitor to A and to B
    // respectively. Cookies ignore the port, so a profile carries its cookie
    // from one instance to the other: the first profile keeps A on the B-only
    // instance (its cookie decides), while a second profile has no cookie, is
    // new there, and gets B.
    let a_only = spawn_app_with(&everyone_to("A")).await;
    let shared = a_only._dir.as_ref().unwrap().path().join("splitcast.db");
    let b_only = spawn_app_from(
        &format!("{BASE}\n{}", everyone_to("B")),
        Some(format!("sqlite://{}", shared.display())),
    )
    .await;
    let first = driver.browser().await;
    assert_eq!(visit(&first, &a_only).await, "A");
    assert_eq!(visit(&first, &b_only).await, "A");
    assert_shows(&first, "A").await;
    let second = driver.browser().await;
    assert_eq!(visit(&second, &b_only).await, "B");
    assert_shows(&second, "B").await;
    second.screenshot("demo-second-profile").await;
    // One participant per profile: the first was not enrolled again.
    assert_eq!(b_only.counter("homepage_cta/A/participants").await, 1);
    assert_eq!(b_only.counter("homepage_cta/B/participants").await, 1);
    first.close().await;
    second.close().await;
}

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn headless_chromium_is_told_its_click_was_not_counted_because_it_is_a_bot() {
    let Some(driver) = driver::start().await else {
        return;
    };
    let app = spawn_app().await;
    // Chromium's own headless user agent, as a newcomer's script runs it.
    let browser = driver.browser_as(None).await;
    browser.open(&app.url("/"), "#cta").await;
    browser.click("#cta").await;
    let status = browser.text_when("#status", |t| t.contains("click")).await;
    assert_eq!(status, "Your click was not counted (reason: bot).");
    assert!(
        app.counters().await.is_empty(),
        "{:?}",
        app.counters().await
    );
    browser.close().await;
}
