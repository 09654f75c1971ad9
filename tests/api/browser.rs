//! Real-browser tests: headless Chromium driven through WebDriver
//! (`fantoccini` and a `chromedriver` of the test's own). Without Chromium or
//! chromedriver when the tests were built, each test is ignored with the
//! reason (`build.rs`); one run anyway (`--include-ignored`, or the browser
//! removed since) prints `SKIPPED: <why>`. Under CI (`CI` set) a missing
//! browser fails. Screenshots go to `target/screenshots/`.

mod chance;
mod csp;
mod dashboard;
mod demo;
mod driver;
mod history;
mod lifecycle;
mod logged_in;

use crate::helpers::TestApp;

/// Seeds counts of `variant` in `experiment` (see [`crate::helpers::seed`]).
async fn seed(
    app: &TestApp,
    experiment: &str,
    variant: &str,
    participants: usize,
    conversions: usize,
) {
    crate::helpers::seed(
        app.store.as_ref(),
        experiment,
        variant,
        participants,
        conversions,
    )
    .await;
}
