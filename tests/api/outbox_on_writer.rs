//! On SQLite the outbox's writes are steps of the event writer's batches
//! (one writer, one fsync per batch; `store/outbox/on_writer.rs`). With the
//! writer thread running and events committed all the while, every row is
//! delivered exactly once, none is left, and no event is lost.

use crate::outbox::{blip, conversion, ok, store, worker};
use splitcast::names::{ExperimentName, VariantName};
use splitcast::notify::routing::outbox_row;
use splitcast::notify::worker::Outcome;
use splitcast::store::{Action, Event, EventWriter, Source};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer};

const ROWS: u32 = 300;
const EVENTS: usize = 600;

fn enrolment(i: usize) -> Event {
    Event {
        experiment: ExperimentName::parse("homepage_cta").unwrap(),
        variant: VariantName::parse(["A", "B"][i % 2]).unwrap(),
        unit_id: format!("unit-{i}"),
        action: Action::Enroll,
        source: Source::Webhook,
        event_id: None,
        at: 1_700_000_000,
    }
}

#[tokio::test]
async fn with_events_committed_meanwhile_every_row_is_delivered_once() {
    let (store, _dir) = store().await;
    let (writer, run) = EventWriter::for_store(store.clone()).unwrap();
    let writer_thread = tokio::spawn(run);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok())
        .mount(&server)
        .await;
    for n in 0..ROWS {
        store
            .enqueue(&outbox_row("blip", &conversion(n, "A")))
            .await
            .unwrap();
    }
    // Events keep the writer busy while the worker claims and deletes rows
    // through the same writer.
    let events = tokio::spawn(async move {
        for i in 0..EVENTS {
            writer.record(enrolment(i)).await.unwrap();
        }
        writer
    });
    // A rate: the token bucket is read and written through the writer too.
    let mut w = worker(blip(&server), &store, Some(1_000_000));
    let mut delivered = 0;
    while delivered < ROWS as usize {
        match w.try_deliver_next().await.unwrap() {
            Outcome::Delivered { rows } => delivered += rows,
            other => panic!("{other:?} after {delivered} rows"),
        }
    }
    assert_eq!(w.try_deliver_next().await.unwrap(), Outcome::Idle);
    let writer = events.await.unwrap();
    assert_eq!(delivered, ROWS as usize);
    assert_eq!(store.pending("blip").await.unwrap(), 0);
    assert!(store.dead_letters().await.unwrap().is_empty());
    let participants = crate::helpers::store_total(store.as_ref(), "participants").await;
    assert_eq!(participants, EVENTS as i64);
    // The writer thread ends once its last handle is gone.
    drop(writer);
    writer_thread.await.unwrap();
    // Rows a rate-limited notifier finds waiting go out merged: at least one
    // message, never more than one per row.
    let messages = server.received_requests().await.unwrap().len();
    assert!((1..=ROWS as usize).contains(&messages), "{messages}");
}
