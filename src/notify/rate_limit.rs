//! The token bucket of a notifier: `rate_per_minute` tokens a minute, a
//! burst of [`BURST`]. Pure arithmetic on a [`Bucket`] kept in the store, so
//! that every instance draws on the same one, and time is passed in, so
//! tests need no clock.

use crate::store::Bucket;
use std::time::Duration;

/// Tokens a bucket holds when full.
pub const BURST: u64 = 5;
/// One token in credit: a rate of `r` per minute adds exactly `r` credit a
/// millisecond, so integer arithmetic loses nothing however often it runs.
const TOKEN: i64 = 60_000;

/// The rate of one notifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenBucket {
    per_minute: i64,
}

impl TokenBucket {
    /// A bucket refilled at `rate_per_minute` (> 0; validated at load).
    pub fn new(rate_per_minute: u32) -> Self {
        Self {
            per_minute: i64::from(rate_per_minute.max(1)),
        }
    }

    /// A full bucket at `now_ms`.
    pub fn full(&self, now_ms: i64) -> Bucket {
        Bucket {
            credit: BURST as i64 * TOKEN,
            updated_ms: now_ms,
        }
    }

    fn refill(&self, bucket: Bucket, now_ms: i64) -> Bucket {
        let elapsed = now_ms.saturating_sub(bucket.updated_ms).max(0);
        Bucket {
            credit: bucket
                .credit
                .saturating_add(elapsed.saturating_mul(self.per_minute))
                .min(BURST as i64 * TOKEN),
            updated_ms: now_ms.max(bucket.updated_ms),
        }
    }

    /// Takes up to `want` whole tokens at `now_ms`; returns the bucket
    /// after, how many were granted, and (when none) how long until one is.
    pub fn take(&self, bucket: Bucket, want: u64, now_ms: i64) -> (Bucket, u64, Duration) {
        let mut bucket = self.refill(bucket, now_ms);
        let whole = u64::try_from(bucket.credit / TOKEN).unwrap_or(0);
        let granted = whole.min(want);
        bucket.credit -= granted as i64 * TOKEN;
        let missing = (TOKEN - bucket.credit).max(0);
        let wait_ms = (missing + self.per_minute - 1) / self.per_minute;
        (bucket, granted, Duration::from_millis(wait_ms as u64))
    }

    /// The bucket with no whole token before `wait` from `now_ms` (credit may
    /// go below zero: it refills from there), and never more than it had.
    pub fn hold(&self, bucket: Bucket, wait: Duration, now_ms: i64) -> Bucket {
        let mut bucket = self.refill(bucket, now_ms);
        let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
        let ceiling = TOKEN.saturating_sub(wait_ms.saturating_mul(self.per_minute));
        bucket.credit = bucket.credit.min(ceiling);
        bucket
    }

    /// Puts back `tokens` taken but not spent.
    pub fn give_back(&self, bucket: Bucket, tokens: u64, now_ms: i64) -> Bucket {
        let mut bucket = self.refill(bucket, now_ms);
        bucket.credit = (bucket.credit + tokens as i64 * TOKEN).min(BURST as i64 * TOKEN);
        bucket
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_five_then_one_token_per_interval() {
        let rate = TokenBucket::new(20);
        let bucket = rate.full(0);
        let (bucket, granted, _) = rate.take(bucket, 64, 0);
        assert_eq!(granted, 5);
        let (bucket, granted, wait) = rate.take(bucket, 1, 0);
        assert_eq!((granted, wait), (0, Duration::from_secs(3)));
        let (bucket, granted, _) = rate.take(bucket, 1, 3_000);
        assert_eq!(granted, 1);
        assert_eq!(rate.take(bucket, 1, 3_000).1, 0);
    }

    #[test]
    fn frequent_looks_lose_no_refill_and_the_bucket_never_overflows() {
        let rate = TokenBucket::new(20);
        let (mut bucket, _, _) = rate.take(rate.full(0), 5, 0);
        // 3 s in steps of 1 ms add exactly one token.
        for now in 1..=3_000 {
            let (after, granted, _) = rate.take(bucket, 0, now);
            assert_eq!(granted, 0);
            bucket = after;
        }
        assert_eq!(rate.take(bucket, 5, 3_000).1, 1);
        assert_eq!(rate.take(rate.full(0), 64, 3_600_000).1, BURST);
    }

    #[test]
    fn a_hold_grants_nothing_until_it_ends_then_refills_as_usual() {
        let rate = TokenBucket::new(30);
        let held = rate.hold(rate.full(0), Duration::from_millis(1_500), 0);
        let (held, granted, wait) = rate.take(held, 5, 0);
        assert_eq!((granted, wait), (0, Duration::from_millis(1_500)));
        assert_eq!(rate.take(held, 5, 1_499).1, 0);
        let (after, granted, _) = rate.take(held, 5, 1_500);
        assert_eq!(granted, 1);
        // Refilled at 30 a minute from there: the next one 2 s later.
        assert_eq!(rate.take(after, 5, 3_499).1, 0);
        assert_eq!(rate.take(after, 5, 3_500).1, 1);
        // A hold never adds credit to an emptier bucket.
        let (empty, _, _) = rate.take(rate.full(0), 5, 0);
        let held = rate.hold(empty, Duration::from_millis(1), 0);
        assert_eq!(rate.take(held, 1, 1).2, rate.take(empty, 1, 1).2);
    }

    #[test]
    fn tokens_given_back_can_be_taken_again_up_to_the_burst() {
        let rate = TokenBucket::new(60);
        let (bucket, granted, _) = rate.take(rate.full(0), 5, 0);
        assert_eq!(granted, 5);
        let bucket = rate.give_back(bucket, 9, 0);
        assert_eq!(rate.take(bucket, 64, 0).1, 5);
    }
}
