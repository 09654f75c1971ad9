//! Retry timing: exponential backoff with full jitter, capped, never earlier
//! than the service asked for.

use std::time::Duration;

/// The backoff schedule of one notifier.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The ceiling of the first wait.
    pub initial: Duration,
    /// The largest ceiling.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    /// The ceiling after `failures` consecutive failures (1 = first):
    /// `initial * 2^(failures-1)`, capped at `max`.
    pub fn ceiling(&self, failures: u32) -> Duration {
        let doublings = failures.saturating_sub(1).min(32);
        self.initial
            .saturating_mul(1u32 << doublings.min(31))
            .min(self.max)
    }

    /// The wait after `failures` consecutive failures: a uniform draw in
    /// `[0, ceiling]` ("full jitter", so that instances spread out), raised to
    /// the service's own `retry_after` when it gave one.
    pub fn wait(&self, failures: u32, retry_after: Option<Duration>, unit_draw: f64) -> Duration {
        let jittered = self.ceiling(failures).mul_f64(unit_draw.clamp(0.0, 1.0));
        match retry_after {
            Some(asked) => jittered.max(asked),
            None => jittered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_starts_at_one_second_doubles_and_caps_at_five_minutes() {
        let b = Backoff::default();
        assert_eq!(b.ceiling(1), Duration::from_secs(1));
        assert_eq!(b.ceiling(2), Duration::from_secs(2));
        assert_eq!(b.ceiling(5), Duration::from_secs(16));
        assert_eq!(b.ceiling(9), Duration::from_secs(256));
        assert_eq!(b.ceiling(10), Duration::from_secs(300));
        assert_eq!(b.ceiling(1000), Duration::from_secs(300));
    }

    #[test]
    fn full_jitter_draws_between_zero_and_the_ceiling() {
        let b = Backoff::default();
        assert_eq!(b.wait(3, None, 0.0), Duration::ZERO);
        assert_eq!(b.wait(3, None, 1.0), Duration::from_secs(4));
        assert_eq!(b.wait(3, None, 0.5), Duration::from_secs(2));
    }

    #[test]
    fn a_service_wait_is_never_shortened() {
        let b = Backoff::default();
        let asked = Duration::from_secs(2282);
        assert_eq!(b.wait(1, Some(asked), 1.0), asked);
        assert_eq!(
            b.wait(12, Some(Duration::from_millis(1)), 1.0),
            Duration::from_secs(300)
        );
    }
}
