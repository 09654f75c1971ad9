//! The notifier's send budget: tokens taken from and given back to the
//! bucket every instance shares, through the store.

use super::DeliveryWorker;
use crate::notify::rate_limit::TokenBucket;
use crate::store::{Bucket, StoreError};
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
        self.change_bucket(now_ms, move |rate, bucket| rate.hold(bucket, wait, now_ms))
            .await
    }

    /// Returns tokens taken for messages that were not sent.
    pub(super) async fn give_back(&self, tokens: u64, now_ms: i64) -> Result<(), StoreError> {
        if tokens == 0 {
            return Ok(());
        }
        self.change_bucket(now_ms, move |rate, bucket| {
            rate.give_back(bucket, tokens, now_ms)
        })
        .await
    }

    /// Applies `change` to the shared bucket, if the notifier has a rate.
    async fn change_bucket(
        &self,
        now_ms: i64,
        change: impl Fn(TokenBucket, Bucket) -> Bucket + Send + Sync + 'static,
    ) -> Result<(), StoreError> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        self.store
            .update_bucket(
                self.name(),
                rate.full(now_ms),
                Box::new(move |bucket| change(rate, bucket)),
            )
            .await
            .map(|_| ())
    }
}
