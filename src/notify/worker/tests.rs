//! The worker against an in-memory outbox and a notifier that answers what
//! each test scripts: no database, no HTTP, no sleeping.

use super::fakes::{FakeNotifier, FakeOutbox};
use super::{DeliveryWorker, Outcome};
use crate::clock::now_millis;
use crate::metrics::Metrics;
use crate::notify::retry::Backoff;
use crate::notify::{DeliveryOutcome, EventKind, Notification, SummaryReason};
use crate::store::Outbox;
use std::sync::Arc;
use std::time::Duration;

fn conversion(n: u32) -> Notification {
    Notification::Event {
        id: format!("evt-{n}"),
        event: EventKind::Conversion,
        experiment: "homepage_cta".into(),
        variant: "A".into(),
        goal: Some("conversion".into()),
        unit_count: 1,
        occurred_at: 0,
    }
}

fn worker(
    notifier: &Arc<FakeNotifier>,
    outbox: &Arc<FakeOutbox>,
    rate: Option<u32>,
    backoff: Backoff,
) -> DeliveryWorker {
    DeliveryWorker::new(
        notifier.clone(),
        outbox.clone(),
        Metrics::new(),
        rate,
        backoff,
        Duration::from_secs(3600),
    )
}

/// No wait between attempts, so that a test steps through retries at once.
const NO_WAIT: Backoff = Backoff {
    initial: Duration::ZERO,
    max: Duration::ZERO,
};

fn retry(after: Option<Duration>) -> DeliveryOutcome {
    DeliveryOutcome::Retry {
        after,
        reason: "503 Service Unavailable".into(),
    }
}

#[tokio::test]
async fn a_delivered_row_is_completed_and_an_empty_outbox_is_idle() {
    let outbox = FakeOutbox::with(&[conversion(1)]);
    let notifier = FakeNotifier::answering([]);
    let mut w = worker(&notifier, &outbox, None, NO_WAIT);
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Delivered { rows: 1 }
    );
    assert!(outbox.rows().is_empty());
    assert_eq!(notifier.sent(), [conversion(1)]);
    assert_eq!(w.try_deliver_next().await.unwrap(), Outcome::Idle);
}

#[tokio::test]
async fn a_retryable_failure_is_retried_until_delivered() {
    let outbox = FakeOutbox::with(&[conversion(1)]);
    let notifier = FakeNotifier::answering([retry(None), retry(None)]);
    let mut w = worker(&notifier, &outbox, None, NO_WAIT);
    for _ in 0..2 {
        let outcome = w.try_deliver_next().await.unwrap();
        assert_eq!(
            outcome,
            Outcome::Retrying {
                wait: Duration::ZERO
            }
        );
    }
    assert_eq!(outbox.rows()[0].attempts, 2);
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Delivered { rows: 1 }
    );
    assert_eq!(notifier.sent().len(), 3);
    assert!(outbox.rows().is_empty());
}

#[tokio::test]
async fn a_retry_waits_at_least_as_long_as_the_service_asked() {
    let outbox = FakeOutbox::with(&[conversion(1)]);
    let asked = Duration::from_secs(90);
    let notifier = FakeNotifier::answering([retry(Some(asked))]);
    // The backoff's own draw stays far below what the service asked.
    let backoff = Backoff {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(100),
    };
    let mut w = worker(&notifier, &outbox, None, backoff);
    let before = now_millis();
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Retrying { wait: asked }
    );
    let row = &outbox.rows()[0];
    assert!(row.next_attempt_ms >= before + 90_000, "{row:?}");
    assert_eq!((row.attempts, row.locked_until), (1, 0));
    let Outcome::Waiting { wait } = w.try_deliver_next().await.unwrap() else {
        panic!("the worker waits for the service");
    };
    // The worker reads the real clock: 10 s of slack for a loaded machine
    // between the two calls, far above the backoff's own 100 ms draw.
    assert!(wait > Duration::from_secs(80) && wait <= asked, "{wait:?}");
    assert_eq!(
        notifier.sent().len(),
        1,
        "no attempt before the wait is over"
    );
}

#[tokio::test]
async fn a_permanent_4xx_is_dead_lettered_with_its_reason() {
    let outbox = FakeOutbox::with(&[conversion(1)]);
    let reason = "400 Bad Request: chat not found".to_owned();
    let notifier = FakeNotifier::answering([DeliveryOutcome::Permanent {
        reason: reason.clone(),
    }]);
    let mut w = worker(&notifier, &outbox, None, NO_WAIT);
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::DeadLettered { rows: 1 }
    );
    assert_eq!(outbox.rows()[0].dead, Some(reason));
    assert_eq!(w.try_deliver_next().await.unwrap(), Outcome::Idle);
    assert_eq!(notifier.sent().len(), 1);
}

#[tokio::test]
async fn rejected_credentials_pause_the_notifier_and_keep_its_rows() {
    let outbox = FakeOutbox::with(&[conversion(1), conversion(2)]);
    let notifier = FakeNotifier::answering([DeliveryOutcome::CredentialsRejected {
        reason: "401 Unauthorized".into(),
    }]);
    let mut w = worker(&notifier, &outbox, None, NO_WAIT);
    assert_eq!(w.try_deliver_next().await.unwrap(), Outcome::Paused);
    assert_eq!(
        outbox.paused("fake").await.unwrap().as_deref(),
        Some("401 Unauthorized")
    );
    let rows = outbox.rows();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.dead.is_none() && r.locked_until == 0));
    assert_eq!(w.try_deliver_next().await.unwrap(), Outcome::Paused);
    assert_eq!(notifier.sent().len(), 1, "nothing is sent while paused");
}

#[tokio::test]
async fn a_backlog_larger_than_the_rate_is_merged_into_one_summary() {
    let backlog: Vec<Notification> = (1..=8).map(conversion).collect();
    let outbox = FakeOutbox::with(&backlog);
    let notifier = FakeNotifier::answering([]);
    // One a minute, a burst of five: eight rows are more than the rate lets through.
    let mut w = worker(&notifier, &outbox, Some(1), NO_WAIT);
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Delivered { rows: 8 }
    );
    let sent = notifier.sent();
    let [Notification::Summary { reason, lines, .. }] = sent.as_slice() else {
        panic!("one summary: {sent:?}");
    };
    assert_eq!(*reason, SummaryReason::Backlog);
    assert_eq!(lines.iter().map(|l| l.total()).sum::<u64>(), 8);
    assert!(outbox.rows().is_empty());
    // The summary took one token of the burst; the other four went back.
    let credit = outbox.state.lock().unwrap().bucket.unwrap().credit;
    assert!((4 * 60_000..5 * 60_000).contains(&credit), "{credit}");
    assert_eq!(w.try_deliver_next().await.unwrap(), Outcome::Idle);
}

#[tokio::test]
async fn a_spent_service_budget_holds_every_instance_until_it_resets() {
    let outbox = FakeOutbox::with(&[conversion(1), conversion(2)]);
    let reset = Duration::from_secs(60);
    let notifier = FakeNotifier::answering([DeliveryOutcome::DeliveredThenWait { wait: reset }]);
    let mut w = worker(&notifier, &outbox, Some(30), NO_WAIT);
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Delivered { rows: 1 }
    );
    // The second row was claimed with the first, and given back unsent.
    assert_eq!(notifier.sent(), [conversion(1)]);
    assert_eq!(outbox.rows().len(), 1);
    assert_eq!(outbox.rows()[0].locked_until, 0);
    let held = |outcome: Outcome| match outcome {
        // The real clock runs between the calls: 10 s of slack for a loaded
        // machine; the rate limit alone (30 a minute) would wait 2 s at most.
        Outcome::Waiting { wait } => wait > Duration::from_secs(50) && wait <= reset,
        _ => false,
    };
    assert!(held(w.try_deliver_next().await.unwrap()));
    // Another instance, drawing on the same bucket, waits too.
    let other = FakeNotifier::answering([]);
    let mut w2 = worker(&other, &outbox, Some(30), NO_WAIT);
    assert!(held(w2.try_deliver_next().await.unwrap()));
    assert!(other.sent().is_empty());
}

#[tokio::test]
async fn a_wait_the_service_asked_for_holds_every_instance() {
    let outbox = FakeOutbox::with(&[conversion(1), conversion(2)]);
    let asked = Duration::from_secs(34);
    let notifier = FakeNotifier::answering([retry(Some(asked))]);
    let mut w = worker(&notifier, &outbox, Some(20), NO_WAIT);
    assert_eq!(
        w.try_deliver_next().await.unwrap(),
        Outcome::Retrying { wait: asked }
    );
    // The second row is due, but another instance on the same bucket waits
    // out the flood control instead of extending it.
    let other = FakeNotifier::answering([]);
    let mut w2 = worker(&other, &outbox, Some(20), NO_WAIT);
    match w2.try_deliver_next().await.unwrap() {
        // 10 s of slack on the real clock; the rate alone would wait 3 s.
        Outcome::Waiting { wait } => assert!(wait > Duration::from_secs(24), "{wait:?}"),
        outcome => panic!("expected Waiting, got {outcome:?}"),
    }
    assert!(other.sent().is_empty());
}

/// A row committed while the worker's claim is looking must wake the loop:
/// the wake-up carries no permit, so a loop that registered for it only
/// after the claim would sleep out the idle pause (1 s) instead. In paused
/// time the pause costs nothing real, but it shows on the clock.
#[tokio::test(start_paused = true)]
async fn a_row_committed_during_a_claim_is_delivered_without_waiting_out_the_pause() {
    let outbox = FakeOutbox::with(&[]);
    *outbox.commit_during_claim.lock().unwrap() = Some(conversion(1));
    let notifier = FakeNotifier::answering([]);
    let w = worker(&notifier, &outbox, None, NO_WAIT);
    let stop = tokio_util::sync::CancellationToken::new();
    let start = tokio::time::Instant::now();
    let running = tokio::spawn(w.run(stop.clone()));
    while notifier.sent().is_empty() {
        // Virtual time: the clock moves only when every task waits.
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(start.elapsed() < Duration::from_secs(5), "never delivered");
    }
    assert!(
        start.elapsed() < Duration::from_millis(500),
        "delivered only after {:?}: the wake-up was lost",
        start.elapsed()
    );
    stop.cancel();
    running.await.unwrap();
}
