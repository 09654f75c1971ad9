//! Real-browser tests: headless Chromium driven through WebDriver
//! (`fantoccini` and a `chromedriver` of the test's own). Without Chromium or
//! chromedriver each test prints `SKIPPED: <why>` and passes, except under CI
//! (`CI` set), where it fails. Screenshots go to `target/screenshots/`.

mod dashboard;
mod demo;
mod driver;

use crate::helpers::TestApp;
use splitcast::names::{ExperimentName, Goal, VariantName};
use splitcast::store::{Action, Event, Source, Store};

/// Records `participants` new units in `variant` of `experiment` through the
/// store, the first `conversions` of them converted on the goal `conversion`.
async fn seed(
    app: &TestApp,
    experiment: &str,
    variant: &str,
    participants: usize,
    conversions: usize,
) {
    let events: Vec<Event> = (0..participants)
        .map(|i| Event {
            experiment: ExperimentName::parse(experiment).unwrap(),
            variant: VariantName::parse(variant).unwrap(),
            unit_id: uuid::Uuid::new_v4().to_string(),
            action: if i < conversions {
                Action::Convert(Goal::parse("conversion").unwrap())
            } else {
                Action::Enroll
            },
            source: Source::Webhook,
            event_id: None,
            at: 0,
        })
        .collect();
    app.store.apply(&events).await.unwrap();
}
