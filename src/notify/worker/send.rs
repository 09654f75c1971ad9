//! Sending claimed rows: one message each in order, or the whole backlog
//! merged into one summary.

use super::{DeliveryWorker, LEASE_MS, MAX_COALESCE, Outcome, Rows};
use crate::clock::now_millis;
use crate::notify::coalesce::{event_items, summary};
use crate::notify::{DeliveryOutcome, SummaryReason};
use crate::store::{Claimed, StoreError};

impl DeliveryWorker {
    /// Merges every waiting event row into one summary with exact counts:
    /// the backlog is larger than the rate lets through one by one.
    pub(super) async fn send_summary(
        &mut self,
        available: u64,
        now_ms: i64,
    ) -> Result<Outcome, StoreError> {
        let name = self.name().to_owned();
        let claimed = self
            .store
            .claim(&name, now_ms, LEASE_MS, true, MAX_COALESCE)
            .await?;
        // One message, one token: the rest go back to the cluster's bucket.
        let claimed = self.read(claimed).await?;
        let used = u64::from(claimed.is_some());
        self.give_back(available - used, now_ms).await?;
        let Some(claimed) = claimed else {
            return Ok(Outcome::Idle);
        };
        let id = format!(
            "backlog-{name}-{}-{}",
            claimed.ids[0],
            claimed.ids[claimed.ids.len() - 1]
        );
        let since = claimed.oldest_created_ms / 1000;
        let items = event_items(&claimed.notifications);
        let message = summary(id, SummaryReason::Backlog, since, now_ms / 1000, items);
        let outcome = self.notifier.send(&message).await;
        self.settle(claimed, outcome).await
    }

    /// Reads the notifications of claimed rows. A row that cannot be read
    /// (written by a newer or a broken version) is kept as a dead letter for
    /// inspection.
    pub(super) async fn read(&self, claimed: Option<Claimed>) -> Result<Option<Rows>, StoreError> {
        let Some(claimed) = claimed else {
            return Ok(None);
        };
        let mut rows = Rows {
            ids: Vec::with_capacity(claimed.ids.len()),
            notifications: Vec::with_capacity(claimed.ids.len()),
            oldest_created_ms: claimed.oldest_created_ms,
        };
        for (id, payload) in claimed.ids.into_iter().zip(claimed.payloads) {
            match serde_json::from_str(&payload) {
                Ok(notification) => {
                    rows.ids.push(id);
                    rows.notifications.push(notification);
                }
                Err(e) => {
                    self.store
                        .dead_letter(&[id], &format!("unreadable row: {e}"))
                        .await?
                }
            }
        }
        Ok((!rows.ids.is_empty()).then_some(rows))
    }

    /// Sends claimed rows one message each; the first failure, or a delivery
    /// after which the service wants a pause, is settled and the rows after
    /// it are given back, so that order is kept.
    pub(super) async fn send_in_order(&mut self, claimed: Rows) -> Result<Outcome, StoreError> {
        let mut delivered = Vec::new();
        let mut rows = claimed.ids.into_iter().zip(claimed.notifications);
        while let Some((id, notification)) = rows.next() {
            if self.stop.is_cancelled() {
                let rest: Vec<i64> = std::iter::once(id).chain(rows.map(|(id, _)| id)).collect();
                self.store.release(&rest).await?;
                self.give_back(rest.len() as u64, now_millis()).await?;
                break;
            }
            let outcome = self.notifier.send(&notification).await;
            // Anything else stops here, a DeliveredThenWait too: the rest must wait.
            if outcome == DeliveryOutcome::Delivered {
                delivered.push(id);
                continue;
            }
            let rest: Vec<i64> = rows.map(|(id, _)| id).collect();
            self.store.release(&rest).await?;
            // Their tokens were taken for sends that will not happen now.
            self.give_back(rest.len() as u64, now_millis()).await?;
            self.store.complete(&delivered).await?;
            self.count("delivered", delivered.len());
            let failed = Rows {
                ids: vec![id],
                notifications: vec![notification],
                oldest_created_ms: claimed.oldest_created_ms,
            };
            return self.settle(failed, outcome).await;
        }
        self.store.complete(&delivered).await?;
        self.failures = 0;
        self.count("delivered", delivered.len());
        Ok(Outcome::Delivered {
            rows: delivered.len(),
        })
    }
}
