//! Every instance polls the store's overrides, so that a status set through
//! any instance is in force on all of them within [`POLL_PERIOD`] (the
//! contract says 2 s).

use super::lifecycle::Lifecycle;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often the overrides are read.
pub const POLL_PERIOD: Duration = Duration::from_secs(1);

/// The poll loop around [`Lifecycle::refresh`].
pub struct OverridePoller {
    lifecycle: Lifecycle,
    period: Duration,
    /// Whether the last read failed: an outage is logged when it starts and
    /// ends, not every second.
    failing: AtomicBool,
}

impl OverridePoller {
    /// Polls every `period`.
    pub fn new(lifecycle: Lifecycle, period: Duration) -> Self {
        Self {
            lifecycle,
            period,
            failing: AtomicBool::new(false),
        }
    }

    /// Reads the overrides once; a failure is logged and the last ones stay
    /// in force (a store that is down must not change what visitors see).
    pub async fn tick(&self) -> bool {
        match self.lifecycle.refresh().await {
            Ok(changed) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("run-time statuses readable again");
                }
                if changed {
                    tracing::info!("run-time experiment statuses changed");
                }
                changed
            }
            Err(error) => {
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = ?error, "cannot read run-time statuses; keeping the last");
                }
                false
            }
        }
    }

    /// Polls forever.
    pub async fn run(self) {
        loop {
            self.tick().await;
            tokio::time::sleep(self.period).await;
        }
    }
}
