//! An in-memory outbox with the SQL store's rules, and a notifier that
//! answers what each test scripts, for the worker's unit tests.

use crate::clock::now_millis;
use crate::notify::{DeliveryOutcome, Notification, Notifier};
use crate::store::{Bucket, BucketUpdate, Claimed, Outbox, StoreError};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// One outbox row as the fake keeps it.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) id: i64,
    pub(super) payload: String,
    pub(super) is_event: bool,
    pub(super) created_ms: i64,
    pub(super) next_attempt_ms: i64,
    pub(super) locked_until: i64,
    pub(super) attempts: i64,
    pub(super) dead: Option<String>,
}

#[derive(Debug, Default)]
pub(super) struct State {
    pub(super) rows: Vec<Row>,
    pub(super) paused: Option<String>,
    pub(super) bucket: Option<Bucket>,
}

/// One notifier's outbox in memory, with the SQL store's rules.
#[derive(Debug, Default)]
pub(super) struct FakeOutbox {
    pub(super) state: Mutex<State>,
    pub(super) wake: Arc<Notify>,
    /// A row another writer commits while the next claim looks (after its
    /// read), announcing it on the wake-up as the store does.
    pub(super) commit_during_claim: Mutex<Option<Notification>>,
}

impl FakeOutbox {
    pub(super) fn with(notifications: &[Notification]) -> Arc<Self> {
        let outbox = Self::default();
        outbox.state.lock().unwrap().rows = (1..).zip(notifications).map(row).collect();
        Arc::new(outbox)
    }

    pub(super) fn rows(&self) -> Vec<Row> {
        self.state.lock().unwrap().rows.clone()
    }

    fn each(&self, ids: &[i64], change: impl Fn(&mut Row)) {
        let mut state = self.state.lock().unwrap();
        state
            .rows
            .iter_mut()
            .filter(|r| ids.contains(&r.id))
            .for_each(change);
    }
}

/// A row due now.
fn row((id, n): (i64, &Notification)) -> Row {
    let now = now_millis();
    Row {
        id,
        payload: serde_json::to_string(n).unwrap(),
        is_event: matches!(n, Notification::Event { .. }),
        created_ms: now,
        next_attempt_ms: now,
        locked_until: 0,
        attempts: 0,
        dead: None,
    }
}

#[async_trait::async_trait]
impl Outbox for FakeOutbox {
    async fn claim(
        &self,
        _: &str,
        now_ms: i64,
        lease_ms: i64,
        events_only: bool,
        limit: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        let mut state = self.state.lock().unwrap();
        if let Some(late) = self.commit_during_claim.lock().unwrap().take() {
            let id = state.rows.iter().map(|r| r.id).max().unwrap_or(0) + 1;
            state.rows.push(row((id, &late)));
            self.wake.notify_waiters();
            // This claim read the outbox before the row was committed.
            return Ok(None);
        }
        let due = state.rows.iter_mut().filter(|r| {
            r.dead.is_none()
                && r.next_attempt_ms <= now_ms
                && r.locked_until <= now_ms
                && (r.is_event || !events_only)
        });
        let claimed: Vec<&mut Row> = due.take(limit as usize).collect();
        if claimed.is_empty() {
            return Ok(None);
        }
        let oldest_created_ms = claimed.iter().map(|r| r.created_ms).min().unwrap();
        let mut ids = Vec::new();
        let mut payloads = Vec::new();
        for row in claimed {
            row.locked_until = now_ms + lease_ms;
            ids.push(row.id);
            payloads.push(row.payload.clone());
        }
        Ok(Some(Claimed {
            ids,
            payloads,
            oldest_created_ms,
        }))
    }

    async fn due_events(&self, _: &str, now_ms: i64, cap: i64) -> Result<i64, StoreError> {
        let state = self.state.lock().unwrap();
        let due = state.rows.iter().filter(|r| {
            r.dead.is_none()
                && r.is_event
                && r.next_attempt_ms <= now_ms
                && r.locked_until <= now_ms
        });
        Ok((due.count() as i64).min(cap))
    }

    async fn complete(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.state
            .lock()
            .unwrap()
            .rows
            .retain(|r| !ids.contains(&r.id));
        Ok(())
    }

    async fn retry_later(&self, ids: &[i64], next_ms: i64, _: &str) -> Result<(), StoreError> {
        self.each(ids, |r| {
            r.attempts += 1;
            r.locked_until = 0;
            r.next_attempt_ms = next_ms;
        });
        Ok(())
    }

    async fn dead_letter(&self, ids: &[i64], reason: &str) -> Result<(), StoreError> {
        self.each(ids, |r| {
            r.attempts += 1;
            r.locked_until = 0;
            r.dead = Some(reason.to_owned());
        });
        Ok(())
    }

    async fn release(&self, ids: &[i64]) -> Result<(), StoreError> {
        self.each(ids, |r| r.locked_until = 0);
        Ok(())
    }

    async fn expire(&self, _: &str, cutoff_ms: i64, reason: &str) -> Result<u64, StoreError> {
        let mut expired = 0;
        for row in &mut self.state.lock().unwrap().rows {
            if row.dead.is_none() && row.created_ms < cutoff_ms {
                row.dead = Some(reason.to_owned());
                expired += 1;
            }
        }
        Ok(expired)
    }

    async fn paused(&self, _: &str) -> Result<Option<String>, StoreError> {
        Ok(self.state.lock().unwrap().paused.clone())
    }

    async fn pause(&self, _: &str, reason: &str, _: i64) -> Result<(), StoreError> {
        self.state.lock().unwrap().paused = Some(reason.to_owned());
        Ok(())
    }

    async fn update_bucket(
        &self,
        _: &str,
        initial: Bucket,
        update: BucketUpdate,
    ) -> Result<Bucket, StoreError> {
        let mut state = self.state.lock().unwrap();
        let bucket = state.bucket.unwrap_or(initial);
        state.bucket = Some(update(bucket));
        Ok(bucket)
    }

    fn outbox_wake(&self) -> Arc<Notify> {
        self.wake.clone()
    }
}

/// Answers each attempt as scripted (then `Delivered`) and keeps what it was sent.
#[derive(Debug, Default)]
pub(super) struct FakeNotifier {
    answers: Mutex<VecDeque<DeliveryOutcome>>,
    sent: Mutex<Vec<Notification>>,
}

impl FakeNotifier {
    pub(super) fn answering(answers: impl IntoIterator<Item = DeliveryOutcome>) -> Arc<Self> {
        Arc::new(Self {
            answers: Mutex::new(answers.into_iter().collect()),
            sent: Mutex::default(),
        })
    }

    pub(super) fn sent(&self) -> Vec<Notification> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Notifier for FakeNotifier {
    fn name(&self) -> &str {
        "fake"
    }

    async fn send(&self, notification: &Notification) -> DeliveryOutcome {
        self.sent.lock().unwrap().push(notification.clone());
        let next = self.answers.lock().unwrap().pop_front();
        next.unwrap_or(DeliveryOutcome::Delivered)
    }
}
