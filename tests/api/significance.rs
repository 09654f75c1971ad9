//! Decision notifications: once per comparison, never per event, never taken back.

use crate::helpers::Patch;
use crate::helpers::{BASE, DEMO, seed, spawn_app_from, wait_until};
use splitcast::configuration::Settings;
use splitcast::live::Live;
use splitcast::notify::Notification;
use splitcast::significance::SignificanceWatcher;
use splitcast::store::SqlStore;
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn texts(queued: &[Notification]) -> Vec<String> {
    queued
        .iter()
        .map(|n| match n {
            Notification::Significance { text, .. } => text.clone(),
            other => panic!("{other:?}"),
        })
        .collect()
}

async fn watcher_for(config: &str) -> (tempfile::TempDir, Arc<SqlStore>, SignificanceWatcher) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("v.db").display());
    let store = splitcast::store::open(&url.into(), splitcast::store::no_routing())
        .await
        .unwrap();
    let watcher = SignificanceWatcher::new(store.clone(), live(config));
    (dir, store, watcher)
}

/// `BASE` with `config`'s experiments and a notifier named `chat`.
fn live(config: &str) -> Arc<Live> {
    let text = format!("{BASE}\n[notifiers.chat]\nkind = \"log\"\n{config}");
    Arc::new(Live::new(Settings::from_toml(&text).unwrap()))
}

/// The demo experiment with a fixed-horizon plan of `sample_size` per arm.
fn fixed(sample_size: u64) -> String {
    DEMO.patched(
        "default = true",
        &format!("default = true\nanalysis = \"fixed\"\nsample_size = {sample_size}"),
    )
}

#[tokio::test]
async fn a_sequential_verdict_is_notified_once_and_never_taken_back() {
    let (_dir, store, watcher) = watcher_for(DEMO).await;

    // Below the minimum sample: a huge difference is not a verdict yet.
    seed(store.as_ref(), "homepage_cta", "A", 99, 0).await;
    seed(store.as_ref(), "homepage_cta", "B", 99, 90).await;
    assert!(watcher.tick().await.unwrap().is_empty());

    seed(store.as_ref(), "homepage_cta", "A", 901, 100).await;
    seed(store.as_ref(), "homepage_cta", "B", 901, 110).await;
    let queued = texts(&watcher.tick().await.unwrap());
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert!(
        queued[0].starts_with("B beats A on conversion: 20.0% vs 10.0%, p = 0.000, n = 2,000"),
        "{}",
        queued[0]
    );
    assert!(queued[0].contains("sequential analysis"), "{}", queued[0]);
    // Nothing changed: nothing is sent again.
    assert!(watcher.tick().await.unwrap().is_empty());

    // A catches up (2,000 at 20% against B's 1,000 at 20%): an always-valid
    // verdict is not taken back, so nothing is sent.
    seed(store.as_ref(), "homepage_cta", "A", 1000, 300).await;
    assert!(watcher.tick().await.unwrap().is_empty());
    assert_eq!(store.pending("chat").await.unwrap(), 1);
}

#[tokio::test]
async fn the_seed_example_is_no_sequential_verdict_although_yates_is_close() {
    let (_dir, store, watcher) = watcher_for(DEMO).await;
    seed(store.as_ref(), "homepage_cta", "A", 1000, 120).await;
    seed(store.as_ref(), "homepage_cta", "B", 1000, 150).await;
    assert!(watcher.tick().await.unwrap().is_empty());
    assert_eq!(store.pending("chat").await.unwrap(), 0);
}

#[tokio::test]
async fn a_fixed_plan_is_notified_once_per_comparison_when_reached_whatever_the_result() {
    let (_dir, store, watcher) = watcher_for(&fixed(1500)).await;
    // Significant long before the plan: fixed mode waits.
    seed(store.as_ref(), "homepage_cta", "A", 1000, 100).await;
    seed(store.as_ref(), "homepage_cta", "B", 1499, 300).await;
    assert!(watcher.tick().await.unwrap().is_empty());

    seed(store.as_ref(), "homepage_cta", "A", 500, 50).await;
    seed(store.as_ref(), "homepage_cta", "B", 1, 0).await;
    let mut queued = texts(&watcher.tick().await.unwrap());
    queued.sort();
    assert_eq!(queued.len(), 2, "one per goal: {queued:?}");
    assert!(
        queued[0].starts_with(
            "homepage_cta reached its planned 1,500 per arm: B beats A on conversion: 20.0% vs 10.0%"
        ),
        "{}",
        queued[0]
    );
    assert!(
        queued[0].ends_with("(fixed-horizon analysis, chi-square with Yates' correction)"),
        "{}",
        queued[0]
    );
    // No conversions on `signup` at all: announced all the same.
    assert!(
        queued[1].starts_with(
            "homepage_cta reached its planned 1,500 per arm: no significant difference between B and A on signup"
        ),
        "{}",
        queued[1]
    );
    seed(store.as_ref(), "homepage_cta", "A", 1000, 900).await;
    assert!(watcher.tick().await.unwrap().is_empty());
    assert_eq!(store.pending("chat").await.unwrap(), 2);
}

#[tokio::test]
async fn the_running_server_sends_the_verdict_through_the_notifiers() {
    let blip = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&blip)
        .await;
    let config = format!(
        "{BASE}\n{DEMO}\n[notify]\nsignificance_check_secs = 1\n\
         [notifiers.blip]\nkind = \"bliphq\"\nurl = \"{}/n\"\napi_key = \"k\"\nevents = [\"significance\"]\n",
        blip.uri()
    );
    let app = spawn_app_from(&config, None).await;
    seed(app.store.as_ref(), "homepage_cta", "A", 1000, 100).await;
    seed(app.store.as_ref(), "homepage_cta", "B", 1000, 200).await;
    wait_until(
        Duration::from_secs(15),
        "the significance message",
        || async { !blip.received_requests().await.unwrap().is_empty() },
    )
    .await;
    let body: serde_json::Value = blip.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(message.contains("B beats A on conversion"), "{message}");
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn two_instances_on_one_postgres_announce_a_verdict_once() {
    let Some(url) = crate::postgres::fresh_database().await else {
        return;
    };
    let store = splitcast::store::open(&url.into(), splitcast::store::no_routing())
        .await
        .unwrap();
    let watcher = || SignificanceWatcher::new(store.clone(), live(DEMO));
    let (one, two) = (watcher(), watcher());
    seed(store.as_ref(), "homepage_cta", "A", 1000, 100).await;
    seed(store.as_ref(), "homepage_cta", "B", 1000, 200).await;
    let (first, second) = tokio::join!(one.tick(), two.tick());
    let sent = first.unwrap().len() + second.unwrap().len();
    assert_eq!(sent, 1);
    assert!(one.tick().await.unwrap().is_empty());
    assert_eq!(store.pending("chat").await.unwrap(), 1);
}

#[tokio::test]
async fn switching_to_a_fixed_plan_still_announces_the_plan_once() {
    let (_dir, store, sequential) = watcher_for(DEMO).await;
    seed(store.as_ref(), "homepage_cta", "A", 1000, 100).await;
    seed(store.as_ref(), "homepage_cta", "B", 1000, 200).await;
    assert_eq!(sequential.tick().await.unwrap().len(), 1);
    // The same store, the experiment now on a plan of 1,000 per arm (reached).
    let planned = SignificanceWatcher::new(store.clone(), live(&fixed(1000)));
    // One per comparison: the demo's two goals.
    let queued = texts(&planned.tick().await.unwrap());
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert!(
        queued[0].contains("B beats A on conversion"),
        "{}",
        queued[0]
    );
    assert!(queued.iter().all(|t| t.contains("fixed-horizon analysis")));
    assert!(planned.tick().await.unwrap().is_empty());
    assert!(sequential.tick().await.unwrap().is_empty());
    assert_eq!(store.pending("chat").await.unwrap(), 3);
}
