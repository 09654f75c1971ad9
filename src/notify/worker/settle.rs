//! What a delivery attempt's outcome does to its rows: deleted, retried
//! later with backoff, dead-lettered, or given back while the notifier is
//! paused or its chat moves.

use super::{DeliveryWorker, Outcome, Rows};
use crate::clock::now_millis;
use crate::notify::DeliveryOutcome;
use crate::store::StoreError;
use std::time::Instant;

impl DeliveryWorker {
    /// Settles `claimed` after an attempt that ended in `outcome`.
    pub(super) async fn settle(
        &mut self,
        claimed: Rows,
        outcome: DeliveryOutcome,
    ) -> Result<Outcome, StoreError> {
        let rows = claimed.ids.len();
        let name = self.name().to_owned();
        match outcome {
            DeliveryOutcome::Delivered | DeliveryOutcome::DeliveredThenWait { .. } => {
                self.store.complete(&claimed.ids).await?;
                self.failures = 0;
                self.count("delivered", 1);
                if rows > 1 {
                    self.count("coalesced_rows", rows);
                }
                if let DeliveryOutcome::DeliveredThenWait { wait } = outcome {
                    // Every instance draws on the same bucket, so none sends early.
                    self.hold(wait, now_millis()).await?;
                    self.blocked_until = Some(Instant::now() + wait);
                }
                Ok(Outcome::Delivered { rows })
            }
            DeliveryOutcome::Retry { after, reason } => {
                self.failures = self.failures.saturating_add(1);
                let wait = self
                    .backoff
                    .wait(self.failures, after, rand::random::<f64>());
                self.blocked_until = Some(Instant::now() + wait);
                let now_ms = now_millis();
                if let Some(asked) = after {
                    // The service's own wait (a 429's retry_after) binds the
                    // bot or webhook, not this row: every instance keeps it.
                    self.hold(asked, now_ms).await?;
                }
                let next = now_ms + wait.as_millis() as i64;
                self.store.retry_later(&claimed.ids, next, &reason).await?;
                tracing::warn!(notifier = %name, %reason, wait_ms = wait.as_millis() as u64, failures = self.failures, "notification failed; will retry");
                self.count("retried", 1);
                Ok(Outcome::Retrying { wait })
            }
            DeliveryOutcome::Permanent { reason } => {
                self.store.dead_letter(&claimed.ids, &reason).await?;
                tracing::error!(notifier = %name, %reason, rows, "notification rejected permanently; dead-lettered (see `splitcast outbox list`)");
                self.count("dead_lettered", rows);
                Ok(Outcome::DeadLettered { rows })
            }
            DeliveryOutcome::CredentialsRejected { reason } => {
                self.store.release(&claimed.ids).await?;
                self.store.pause(&name, &reason, now_millis()).await?;
                self.count("paused", 1);
                // Said when it happens, not at the next step: a process that
                // stops meanwhile would otherwise never tell.
                self.log_paused(&reason);
                Ok(Outcome::Paused)
            }
            DeliveryOutcome::ChatMigrated { new_chat_id } => {
                self.store.release(&claimed.ids).await?;
                match self.notifier.migrated(new_chat_id) {
                    Some(next) => {
                        tracing::warn!(notifier = %name, new_chat_id, "the chat was migrated; sending there now — set notifiers.{name}.chat_id = \"{new_chat_id}\" in the configuration");
                        self.notifier = next;
                        Ok(Outcome::Migrated)
                    }
                    None => {
                        let reason = format!("chat migrated to {new_chat_id}");
                        self.store.dead_letter(&claimed.ids, &reason).await?;
                        Ok(Outcome::DeadLettered { rows })
                    }
                }
            }
        }
    }
}
