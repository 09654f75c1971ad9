//! A background loop caught mid-statement by a database that stops
//! answering gives the statement up after the storage timeout and carries on
//! on a new connection: notifications resume after a fail-over instead of
//! stopping for good with no task dead and nothing in the log.

use crate::helpers::{BASE, DEMO, Patch, events_in_blip_messages, received_bodies, spawn_app_from};
use crate::postgres::fresh_database;
use crate::relay::Relay;
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The text of the delivery worker's claim, sent when a connection first
/// prepares it (sqlx sends a prepared statement's text once per connection).
const CLAIM: &str = "UPDATE outbox SET locked_until";

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn deliveries_resume_after_a_fail_over_that_left_a_claim_unanswered() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let relay = Relay::start("127.0.0.1:5432").await;
    let relayed = url.replacen("127.0.0.1:5432", &format!("127.0.0.1:{}", relay.port), 1);
    let blip = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": true})))
        .mount(&blip)
        .await;
    let config = format!(
        "{BASE}\n[notifiers.blip]\nkind = \"bliphq\"\nurl = \"{}/api/notify\"\napi_key = \"k\"\n\
         [ingest]\ntoken = \"failover-token\"\n{DEMO}",
        blip.uri()
    )
    .patched(
        "[session]",
        "[storage]\npool_size = 3\nwrite_timeout_secs = 2\nread_timeout_secs = 2\n[session]",
    )
    // One worker, so that the one caught by the freeze is the one watched.
    .patched("kind = \"log\"", "kind = \"log\"\nenabled = false");
    let app = spawn_app_from(&config, Some(relayed)).await;
    let convert = |user: &'static str| {
        app.client
            .post(app.url("/webhook"))
            .bearer_auth("failover-token")
            .timeout(Duration::from_secs(15))
            .json(&serde_json::json!({"user_id": user, "variant": "B"}))
            .send()
    };
    let delivered = || async { events_in_blip_messages(&received_bodies(&blip).await) };
    assert_eq!(convert("before").await.unwrap().status(), 202);
    crate::helpers::wait_until(Duration::from_secs(10), "the first delivery", || async {
        delivered().await == 1
    })
    .await;

    // Every connection is cut, so that the worker's next claim is prepared,
    // text and all, on a new one; the network goes silent as it goes by.
    relay.freeze_at(CLAIM);
    relay.stop();
    relay.start_again();
    crate::helpers::wait_until(
        Duration::from_secs(10),
        "a claim to go unanswered",
        || async { relay.is_frozen() },
    )
    .await;
    // The database is back, at the same address for new connections; the
    // claim's connection stays silent for good.
    relay.fail_over();
    crate::helpers::wait_until(Duration::from_secs(20), "writes to recover", || async {
        convert("after").await.unwrap().status() == 202
    })
    .await;
    // Without a bound on the claim the worker would wait on the dead
    // connection forever: no task dies, and no notification goes out again.
    crate::helpers::wait_until(
        Duration::from_secs(15),
        "the worker to give the claim up and deliver on a new connection",
        || async { delivered().await == 2 },
    )
    .await;
}
