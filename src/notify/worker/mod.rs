//! One delivery worker per notifier: a loop around [`DeliveryWorker::try_deliver_next`],
//! which tests drive step by step. It sends the outbox head in order of
//! creation; when the backlog is larger than the rate limit lets through,
//! it merges every waiting event into one summary with exact counts. The
//! worker sees the store only as an [`Outbox`], so it runs without a
//! database in its unit tests.

mod budget;
#[cfg(test)]
mod fakes;
mod send;
mod settle;
#[cfg(test)]
mod tests;

use super::rate_limit::TokenBucket;
use super::retry::Backoff;
use super::{Notification, Notifier};
use crate::clock::now_millis;
use crate::metrics::Metrics;
use crate::store::{Outbox, StoreError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long a claim holds rows against other workers (longer than a request).
const LEASE_MS: i64 = 60_000;
/// The most rows merged into one summary.
const MAX_COALESCE: i64 = 10_000;
/// The most rows claimed for one-by-one sending in a step: one claim and one
/// delete (two commits) serve them all.
const BATCH: u64 = 64;
/// How often rows are checked against the maximum age.
const EXPIRY_PERIOD: Duration = Duration::from_secs(60);

/// Claimed rows with their notifications read.
struct Rows {
    ids: Vec<i64>,
    notifications: Vec<Notification>,
    oldest_created_ms: i64,
}

/// What one step did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Nothing due.
    Idle,
    /// `rows` rows delivered (more than one when coalesced).
    Delivered {
        /// Rows the message carried.
        rows: usize,
    },
    /// The attempt failed and will be retried after `wait`.
    Retrying {
        /// Time until the next attempt.
        wait: Duration,
    },
    /// Waiting for an earlier retry time or the rate limit.
    Waiting {
        /// Time until something may be sent.
        wait: Duration,
    },
    /// Rows were dead-lettered (permanent failure or too old).
    DeadLettered {
        /// How many.
        rows: usize,
    },
    /// The service rejected the credentials: the notifier waits for a
    /// restart or `notify-test`.
    Paused,
    /// Telegram moved the chat; the next step sends to the new one.
    Migrated,
}

/// Delivers one notifier's outbox.
pub struct DeliveryWorker {
    notifier: Arc<dyn Notifier>,
    store: Arc<dyn Outbox>,
    metrics: Metrics,
    /// The cluster-wide rate; `None` is unlimited.
    rate: Option<TokenBucket>,
    backoff: Backoff,
    max_age: Duration,
    failures: u32,
    blocked_until: Option<Instant>,
    paused_logged: bool,
    last_expiry: Option<Instant>,
    /// Cancelled when the worker is to stop after the message in hand.
    stop: CancellationToken,
}

impl DeliveryWorker {
    /// A worker for `notifier` on `store` (the SQL store, or any [`Outbox`])
    /// with `rate_per_minute` (None = unlimited).
    pub fn new(
        notifier: Arc<dyn Notifier>,
        store: Arc<dyn Outbox>,
        metrics: Metrics,
        rate_per_minute: Option<u32>,
        backoff: Backoff,
        max_age: Duration,
    ) -> Self {
        Self {
            notifier,
            store,
            metrics,
            rate: rate_per_minute.map(TokenBucket::new),
            backoff,
            max_age,
            failures: 0,
            blocked_until: None,
            paused_logged: false,
            last_expiry: None,
            stop: CancellationToken::new(),
        }
    }

    fn name(&self) -> &str {
        self.notifier.name()
    }

    /// Logs once per pause why the notifier stopped and what to do.
    fn log_paused(&mut self, reason: &str) {
        if !self.paused_logged {
            tracing::error!(notifier = %self.name(), %reason, "notifier paused: its credentials were rejected; fix them, then restart or run `splitcast notify-test`");
            self.paused_logged = true;
        }
    }

    fn count(&self, outcome: &str, by: usize) {
        self.metrics
            .notifications
            .with_label_values(&[self.notifier.name(), outcome])
            .inc_by(by as u64);
    }

    /// One step: a summary of the whole backlog, or up to `BATCH` (64) rows sent
    /// one message each, in order, stopping at the first failure.
    pub async fn try_deliver_next(&mut self) -> Result<Outcome, StoreError> {
        let name = self.name().to_owned();
        if let Some(reason) = self.store.paused(&name).await? {
            self.log_paused(&reason);
            return Ok(Outcome::Paused);
        }
        self.paused_logged = false;
        let now = Instant::now();
        if let Some(until) = self.blocked_until.filter(|u| *u > now) {
            return Ok(Outcome::Waiting { wait: until - now });
        }
        let now_ms = now_millis();
        if let Some(rows) = self.expire_old(now, now_ms).await? {
            return Ok(Outcome::DeadLettered { rows });
        }
        let available = match self.take_tokens(BATCH, now_ms).await? {
            Ok(granted) => granted,
            Err(wait) => return Ok(Outcome::Waiting { wait }),
        };
        let cap = i64::try_from(available.saturating_add(1)).unwrap_or(i64::MAX);
        let backlog = self.store.due_events(&name, now_ms, cap).await?;
        if backlog >= 2 && backlog as u64 > available {
            return self.send_summary(available, now_ms).await;
        }
        let limit = i64::try_from(available.min(BATCH)).unwrap_or(1);
        let claimed = self
            .store
            .claim(&name, now_ms, LEASE_MS, false, limit)
            .await?;
        let claimed = self.read(claimed).await?;
        let used = claimed.as_ref().map_or(0, |c| c.ids.len() as u64);
        self.give_back(available - used, now_ms).await?;
        let Some(claimed) = claimed else {
            return Ok(Outcome::Idle);
        };
        self.send_in_order(claimed).await
    }

    /// Dead-letters rows older than the maximum age, at most once a minute:
    /// it is a scan, and rows only age slowly.
    async fn expire_old(&mut self, now: Instant, now_ms: i64) -> Result<Option<usize>, StoreError> {
        if self
            .last_expiry
            .is_some_and(|at| now.duration_since(at) < EXPIRY_PERIOD)
        {
            return Ok(None);
        }
        self.last_expiry = Some(now);
        let cutoff = now_ms - self.max_age.as_millis() as i64;
        let name = self.name().to_owned();
        let expired = self
            .store
            .expire(&name, cutoff, "not delivered within notify.max_age_hours")
            .await? as usize;
        if expired == 0 {
            return Ok(None);
        }
        tracing::error!(notifier = %name, rows = expired, "dead-lettered notifications older than notify.max_age_hours");
        self.count("dead_lettered", expired);
        Ok(Some(expired))
    }

    /// Runs until `stop` is cancelled, waking on new rows or when a wait is
    /// over. A send in hand is finished and settled first, and the rows
    /// claimed after it are given back, so that a reload never leaves a
    /// message delivered but still claimed (to be sent again).
    pub async fn run(mut self, stop: CancellationToken) {
        self.stop = stop;
        let wake = self.store.outbox_wake();
        while !self.stop.is_cancelled() {
            // Registered before the claim looks at the outbox: a row
            // committed while it looks wakes this loop instead of waiting
            // out the idle pause (`notify_waiters` keeps no permit).
            let woken = wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let pause = match self.try_deliver_next().await {
                Ok(
                    Outcome::Delivered { .. } | Outcome::DeadLettered { .. } | Outcome::Migrated,
                ) => Duration::ZERO,
                Ok(Outcome::Retrying { wait } | Outcome::Waiting { wait }) => wait,
                // Rows from other instances or dead-letter requeues arrive without a wake-up.
                Ok(Outcome::Idle) => Duration::from_secs(1),
                Ok(Outcome::Paused) => Duration::from_secs(5),
                Err(error) => {
                    tracing::error!(notifier = %self.name(), error = ?error, "outbox unavailable");
                    Duration::from_secs(1)
                }
            };
            if pause.is_zero() {
                tokio::task::yield_now().await;
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = woken => {}
                _ = self.stop.cancelled() => {}
            }
        }
    }
}
