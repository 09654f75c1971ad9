//! `notify.block_private_addresses` at send time: a notifier whose host name
//! resolves inside (here `localhost`) is refused before any connection, and
//! the row goes to the dead letters with the reason; the same host listed in
//! `notify.allowed_hosts` is delivered to.

use crate::helpers::{
    BASE, DEMO, TestApp, browser, post_status, served_variant, spawn_app_from, wait_until,
};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn blip() -> MockServer {
    let blip = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&blip)
        .await;
    blip
}

/// An app whose one notifier reaches `blip` by the name `localhost`, with the
/// address block on and `notify_extra` in `[notify]`.
async fn app_with_guard(blip: &MockServer, notify_extra: &str) -> TestApp {
    let port = blip.address().port();
    let config = format!(
        "{BASE}\n{DEMO}\n[notify]\npage_view = \"off\"\nconversion = \"immediate\"\n\
         retry_initial_ms = 10\nretry_max_secs = 1\nblock_private_addresses = true\n{notify_extra}\n\
         [notifiers.blip]\nkind = \"bliphq\"\nurl = \"http://localhost:{port}/api/notify\"\n\
         api_key = \"blip-api-key\"\n"
    );
    spawn_app_from(&config, None).await
}

async fn convert(app: &TestApp) {
    let client = browser();
    served_variant(&client, app.url("/get_content")).await;
    assert_eq!(
        post_status(&client, app.url("/track_conversion")).await,
        204
    );
}

#[tokio::test]
async fn a_host_that_resolves_to_a_private_address_is_refused_and_dead_lettered() {
    let blip = blip().await;
    let app = app_with_guard(&blip, "").await;
    convert(&app).await;
    wait_until(Duration::from_secs(10), "the dead letter", || async {
        !app.store.dead_letters().await.unwrap().is_empty()
    })
    .await;
    let dead = app.store.dead_letters().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 1, "refused once, not retried");
    assert!(
        dead[0]
            .last_error
            .contains("localhost resolves only to private addresses")
            && dead[0].last_error.contains("notify.allowed_hosts"),
        "{}",
        dead[0].last_error
    );
    assert!(blip.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_allowed_host_is_delivered_to_despite_the_block() {
    let blip = blip().await;
    let app = app_with_guard(&blip, "allowed_hosts = [\"LocalHost\"]").await;
    convert(&app).await;
    wait_until(Duration::from_secs(10), "the notification", || async {
        !blip.received_requests().await.unwrap().is_empty()
    })
    .await;
    assert!(app.store.dead_letters().await.unwrap().is_empty());
}
