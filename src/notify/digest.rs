//! The digest loop: every `digest_interval_secs`, one instance of the
//! cluster turns the summed `digest`-policy events into one summary message
//! per notifier, and only when something happened.

use super::coalesce::{CountItem, summary};
use super::routing::outbox_row;
use super::{EventKind, Notification, SummaryReason};
use crate::clock::now_millis;
use crate::store::{SqlStore, StoreError, TakenDigest};
use std::sync::Arc;
use std::time::Duration;

/// Takes digests on a schedule.
pub struct DigestWorker {
    store: Arc<SqlStore>,
    interval: Duration,
    notifiers: Vec<String>,
}

impl DigestWorker {
    /// A worker sending to `notifiers` every `interval`.
    pub fn new(store: Arc<SqlStore>, interval: Duration, notifiers: Vec<String>) -> Self {
        Self {
            store,
            interval,
            notifiers,
        }
    }

    /// One tick: the digest queued, if one was due and non-empty.
    pub async fn tick(&self) -> Result<Option<Notification>, StoreError> {
        if self.notifiers.is_empty() {
            return Ok(None);
        }
        let interval_ms = self.interval.as_millis() as i64;
        let now_ms = now_millis();
        self.store
            .take_digest(interval_ms, now_ms, |taken| {
                let digest = compose(taken, now_ms);
                let rows = self
                    .notifiers
                    .iter()
                    .map(|n| outbox_row(n, &digest))
                    .collect();
                (digest, rows)
            })
            .await
    }

    /// Ticks forever, a little more often than the interval so that the
    /// cluster-wide schedule, not this timer, decides.
    /// Ends when `stop` is cancelled, never in the middle of a tick.
    pub async fn run(self, stop: tokio_util::sync::CancellationToken) {
        let period = (self.interval / 4).max(Duration::from_millis(50));
        loop {
            tokio::select! {
                () = tokio::time::sleep(period) => {}
                () = stop.cancelled() => return,
            }
            if let Err(error) = self.tick().await {
                tracing::error!(error = ?error, "could not take the digest");
            }
        }
    }
}

/// The summary message of a taken digest.
fn compose(taken: TakenDigest, now_ms: i64) -> Notification {
    let items = taken.sums.into_iter().map(|sum| -> CountItem {
        let kind = if sum.event == EventKind::PageView.as_str() {
            EventKind::PageView
        } else {
            EventKind::Conversion
        };
        let goal = (!sum.goal.is_empty()).then_some(sum.goal);
        (sum.experiment, kind, goal, sum.variant, sum.count)
    });
    let id = format!("digest-{now_ms}");
    summary(
        id,
        SummaryReason::Digest,
        taken.since_ms / 1000,
        now_ms / 1000,
        items,
    )
}
