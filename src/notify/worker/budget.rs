//! The notifier's send budget: tokens taken from and given back to the
//! bucket every instance shares, through the store.

use super::DeliveryWorker;
use crate::store::StoreError;
use std::time::Duration;

impl DeliveryWorker {
    /// Takes up to `want` tokens from the notifier's bucket, which every
    /// instance shares; `Err` with the wait when there is none.
    pub(super) async fn take_tokens(
        &self,
        want: u64,
        now_ms: i64,
    ) -> Result<Result<u64, Duration>, StoreError> {
        let Some(rate) = self.rate else {
            // Unlimited: never a reason to coalesce.
            return Ok(Ok(u64::MAX));
        };
        let before = self
            .store
            .update_bucket(
                self.name(),
                rate.full(now_ms),
                Box::new(move |bucket| rate.take(bucket, want, now_ms).0),
            )
            .await?;
        // The update is pure: replayed on the bucket it was applied to, it
        // tells what was taken.
        let (_, granted, wait) = rate.take(before, want, now_ms);
        Ok(if granted == 0 { Err(wait) } else { Ok(granted) })
    }

    /// Empties the shared bucket until `wait` from now: the service said its
    /// budget is spent. Without a rate, only this worker waits.
    pub(super) async fn hold(&self, wait: Duration, now_ms: i64) -> Result<(), StoreError> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        self.store
            .update_bucket(
                self.name(),
                rate.full(now_ms),
                Box::new(move |bucket| rate.hold(bucket, wait, now_ms)),
            )
            .await
            .map(|_| ())
    }

    /// Returns tokens taken for messages that were not sent.
    pub(super) async fn give_back(&self, tokens: u64, now_ms: i64) -> Result<(), StoreError> {
        let Some(rate) = self.rate.filter(|_| tokens > 0) else {
            return Ok(());
        };
        self.store
            .update_bucket(
                self.name(),
                rate.full(now_ms),
                Box::new(move |bucket| rate.give_back(bucket, tokens, now_ms)),
            )
            .await
            .map(|_| ())
    }
}
