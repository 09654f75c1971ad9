//! Results over time: the counters are snapshotted at every boundary of
//! `history.interval_secs` (aligned on the Unix epoch, so every UTC hour by
//! default) and at each lifecycle change, once per cluster, and
//! [`report::build`] turns the snapshots into the points of
//! `GET /results/history`.

pub mod report;

use crate::clock::Clock;
use crate::store::{PointCause, SqlStore, StoreError};
use std::sync::Arc;
use std::time::Duration;

/// How soon a failed snapshot is tried again (within the same slot, so that
/// a short store outage does not cost the point).
const RETRY: Duration = Duration::from_secs(5);

/// The start of the slot that `now_millis` falls in: `floor(now / interval) * interval`.
pub fn slot(now_millis: i64, interval_millis: i64) -> i64 {
    now_millis.div_euclid(interval_millis) * interval_millis
}

/// How long from `now_millis` until the next slot starts.
pub fn until_next_slot(now_millis: i64, interval_millis: i64) -> Duration {
    let next = slot(now_millis, interval_millis) + interval_millis;
    Duration::from_millis(u64::try_from(next - now_millis).unwrap_or(0))
}

/// Records a point at `at_millis`, the exact time of a lifecycle change
/// (an experiment concluded, paused or resumed), with the counts as they
/// are now. Returns true when this call recorded it, false when a point at
/// that millisecond existed already (another instance recorded it).
pub async fn record_point(store: &SqlStore, at_millis: i64) -> Result<bool, StoreError> {
    store
        .record_history_point(at_millis, PointCause::Lifecycle)
        .await
}

/// Snapshots the counters at every slot boundary.
pub struct Snapshotter {
    store: Arc<SqlStore>,
    interval_millis: i64,
    clock: Arc<dyn Clock>,
}

impl Snapshotter {
    /// A snapshotter of `store` every `interval` (at least a millisecond),
    /// timed by `clock`.
    pub fn new(store: Arc<SqlStore>, interval: Duration, clock: Arc<dyn Clock>) -> Self {
        let interval_millis = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        Self {
            store,
            interval_millis: interval_millis.max(1),
            clock,
        }
    }

    /// Records the point of the slot that `now_millis` falls in, unless some
    /// instance has already; returns the slot and whether this call recorded it.
    pub async fn tick(&self, now_millis: i64) -> Result<(i64, bool), StoreError> {
        let at = slot(now_millis, self.interval_millis);
        let recorded = self
            .store
            .record_history_point(at, PointCause::Interval)
            .await?;
        Ok((at, recorded))
    }

    /// Waits for each slot to start and records its point, forever. The
    /// first point is the next slot's: one taken now would carry later
    /// counts than its slot's start. A failed snapshot is retried, and
    /// records the slot current by then.
    pub async fn run(self) {
        let mut next = slot(self.clock.now_millis(), self.interval_millis) + self.interval_millis;
        loop {
            let now = self.clock.now_millis();
            if now < next {
                // Also when a timer woke a hair before the wall clock turned.
                tokio::time::sleep(until_next_slot(now, self.interval_millis)).await;
                continue;
            }
            match self.tick(now).await {
                Ok((at, _)) => next = at + self.interval_millis,
                Err(error) => {
                    tracing::warn!(error = ?error, "could not record a results history point; retrying");
                    let pause = Duration::from_millis(self.interval_millis as u64);
                    tokio::time::sleep(RETRY.min(pause)).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
