//! The durable outbox: what the delivery workers need of the store, as the
//! [`Outbox`] trait, so that a worker can be driven without a database.
//! [`SqlStore`](super::SqlStore) implements it (`queue.rs`): rows are
//! claimed with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several
//! instances never send a row twice at once), deleted once delivered,
//! rescheduled on a retryable failure and kept as dead letters otherwise.
//! The operator's commands on the outbox are in `admin.rs`.

mod admin;
mod on_writer;
mod queue;

pub(super) use on_writer::{OutboxAnswer, OutboxOp};

use super::{Bucket, BucketUpdate, StoreError};
use std::sync::Arc;
use tokio::sync::Notify;

/// Rows claimed for one delivery attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// Row ids, oldest first.
    pub ids: Vec<i64>,
    /// Their payloads (serialised notifications), in the same order.
    pub payloads: Vec<String>,
    /// Creation time of the oldest row, unix ms.
    pub oldest_created_ms: i64,
}

/// A claimed row as the database returns it: id, payload, creation time (ms).
pub(super) type ClaimedRow = (i64, String, i64);

impl Claimed {
    /// The claimed `rows` (in any order) oldest first; `None` when there are none.
    fn from_rows(mut rows: Vec<ClaimedRow>, now_ms: i64) -> Option<Self> {
        if rows.is_empty() {
            return None;
        }
        // RETURNING gives no order.
        rows.sort_by_key(|row| row.0);
        let oldest_created_ms = rows.iter().map(|row| row.2).min().unwrap_or(now_ms);
        let (ids, payloads) = rows
            .into_iter()
            .map(|(id, payload, _)| (id, payload))
            .unzip();
        Some(Self {
            ids,
            payloads,
            oldest_created_ms,
        })
    }
}

/// A dead-lettered row, for `splitcast outbox list`.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Row id (for `requeue`).
    pub id: i64,
    /// The notifier it was for.
    pub notifier: String,
    /// Creation time, unix ms.
    pub created_at: i64,
    /// Attempts made.
    pub attempts: i64,
    /// Why it was given up (token-free).
    pub last_error: String,
}

/// One notifier's queue of notifications, its pause and its send budget:
/// everything a delivery worker reads and writes. Times are unix ms, passed
/// in by the caller.
#[async_trait::async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Claims up to `limit` due, unclaimed pending rows of `notifier` (only
    /// event rows when `events_only`) for `lease_ms`, oldest first.
    async fn claim(
        &self,
        notifier: &str,
        now_ms: i64,
        lease_ms: i64,
        events_only: bool,
        limit: i64,
    ) -> Result<Option<Claimed>, StoreError>;

    /// Due, unclaimed pending event rows of `notifier` (the backlog),
    /// counted up to `cap` only: the caller needs to know whether it exceeds
    /// the rate, and a full count would scan a large backlog on every step.
    async fn due_events(&self, notifier: &str, now_ms: i64, cap: i64) -> Result<i64, StoreError>;

    /// Removes delivered rows.
    async fn complete(&self, ids: &[i64]) -> Result<(), StoreError>;

    /// Reschedules rows after a retryable failure: due again at `next_ms`.
    async fn retry_later(&self, ids: &[i64], next_ms: i64, reason: &str) -> Result<(), StoreError>;

    /// Keeps rows as dead letters with the reason.
    async fn dead_letter(&self, ids: &[i64], reason: &str) -> Result<(), StoreError>;

    /// Gives claimed rows back untouched (paused notifier, migrated chat,
    /// rows after a failure).
    async fn release(&self, ids: &[i64]) -> Result<(), StoreError>;

    /// Dead-letters pending rows of `notifier` created before `cutoff_ms`;
    /// returns how many.
    async fn expire(&self, notifier: &str, cutoff_ms: i64, reason: &str)
    -> Result<u64, StoreError>;

    /// The reason `notifier` is paused, if it is.
    async fn paused(&self, notifier: &str) -> Result<Option<String>, StoreError>;

    /// Pauses `notifier` (credentials rejected); its rows wait.
    async fn pause(&self, notifier: &str, reason: &str, now_ms: i64) -> Result<(), StoreError>;

    /// Replaces the token bucket of `notifier` (created as `initial`) with
    /// what `update` makes of it, atomically for every instance sharing the
    /// store; returns the bucket as it was before.
    async fn update_bucket(
        &self,
        notifier: &str,
        initial: Bucket,
        update: BucketUpdate,
    ) -> Result<Bucket, StoreError>;

    /// Notified whenever rows are added or put back in the queue, so that
    /// workers need not poll.
    fn outbox_wake(&self) -> Arc<Notify>;
}
