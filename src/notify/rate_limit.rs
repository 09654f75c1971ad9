//! A token bucket per notifier: `rate_per_minute` tokens a minute, a burst
//! of [`BURST`]. Time is passed in, so tests need no clock.

use std::time::{Duration, Instant};

/// Tokens a bucket holds when full.
pub const BURST: f64 = 5.0;

/// A token bucket; `None` rate means unlimited.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    per_second: Option<f64>,
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    /// A full bucket refilled at `rate_per_minute`.
    pub fn new(rate_per_minute: Option<u32>, now: Instant) -> Self {
        Self {
            per_second: rate_per_minute.map(|r| f64::from(r) / 60.0),
            tokens: BURST,
            updated: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        if let Some(rate) = self.per_second {
            let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
            self.tokens = (self.tokens + elapsed * rate).min(BURST);
        }
        self.updated = now;
    }

    /// Whole messages that may be sent now without waiting.
    pub fn available(&mut self, now: Instant) -> u64 {
        if self.per_second.is_none() {
            return u64::MAX;
        }
        self.refill(now);
        self.tokens.floor() as u64
    }

    /// Takes a token, or says how long until one is there.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        let Some(rate) = self.per_second else {
            return Ok(());
        };
        self.refill(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_five_then_one_token_per_interval() {
        let start = Instant::now();
        let mut bucket = RateLimiter::new(Some(20), start);
        for _ in 0..5 {
            assert!(bucket.try_acquire(start).is_ok());
        }
        let wait = bucket.try_acquire(start).unwrap_err();
        assert_eq!(wait, Duration::from_secs(3));
        assert!(bucket.try_acquire(start + Duration::from_secs(3)).is_ok());
        assert!(bucket.try_acquire(start + Duration::from_secs(3)).is_err());
    }

    #[test]
    fn the_bucket_never_holds_more_than_the_burst() {
        let start = Instant::now();
        let mut bucket = RateLimiter::new(Some(60), start);
        assert_eq!(bucket.available(start + Duration::from_secs(3600)), 5);
    }

    #[test]
    fn no_rate_means_unlimited() {
        let start = Instant::now();
        let mut bucket = RateLimiter::new(None, start);
        for _ in 0..1000 {
            assert!(bucket.try_acquire(start).is_ok());
        }
        assert_eq!(bucket.available(start), u64::MAX);
    }
}
