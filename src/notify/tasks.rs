//! The notification loops of one process — a delivery worker per notifier
//! and the digest loop — as one group that a configuration reload restarts
//! with new notifier settings. The group runs as one vital task: a loop in
//! it that dies ends the group, and with it the server.

use super::digest::DigestWorker;
use super::retry::Backoff;
use super::routing::LiveRouting;
use super::worker::DeliveryWorker;
use crate::configuration::{NotifierEvent, Settings};
use crate::metrics::Metrics;
use crate::store::SqlStore;
use crate::supervisor::Supervisor;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long a restart or a shutdown waits for the loops to finish what they
/// hold: a send ends within its request timeout, a store step within the
/// storage timeouts.
pub const WIND_DOWN: Duration = Duration::from_secs(15);

/// Builds and restarts the notification loops.
pub struct NotificationTasks {
    store: Arc<SqlStore>,
    metrics: Metrics,
    routing: Arc<LiveRouting>,
    tasks: Supervisor,
}

impl NotificationTasks {
    /// Starts the loops of `settings`.
    pub fn start(
        settings: &Settings,
        store: Arc<SqlStore>,
        metrics: Metrics,
        routing: Arc<LiveRouting>,
    ) -> anyhow::Result<Self> {
        let mut group = Self {
            store,
            metrics,
            routing,
            tasks: Supervisor::new(),
        };
        group.spawn_all(settings)?;
        Ok(group)
    }

    fn spawn_all(&mut self, settings: &Settings) -> anyhow::Result<()> {
        let notify = &settings.notify;
        let backoff = Backoff {
            initial: Duration::from_millis(notify.retry_initial_ms),
            max: Duration::from_secs(notify.retry_max_secs),
        };
        let max_age = Duration::from_secs(notify.max_age_hours * 3600);
        let notifiers = super::registry::build(settings)?;
        for (notifier, config) in notifiers.into_iter().zip(&settings.notifiers) {
            let worker = DeliveryWorker::new(
                notifier,
                self.store.clone(),
                self.metrics.clone(),
                config.rate_per_minute,
                backoff,
                max_age,
            );
            self.tasks
                .spawn_winding_down("delivery worker", |stop| worker.run(stop));
        }
        let digest_notifiers = settings
            .notifiers
            .iter()
            .filter(|n| n.wants(NotifierEvent::Digest))
            .map(|n| n.name.clone())
            .collect();
        let interval = Duration::from_secs(notify.digest_interval_secs);
        let digest = DigestWorker::new(self.store.clone(), interval, digest_notifiers);
        self.tasks
            .spawn_winding_down("digest loop", |stop| digest.run(stop));
        Ok(())
    }

    /// Stops every loop and starts those of `settings`, with its routing
    /// of new events. A message a worker is sending is finished and settled
    /// first (within [`WIND_DOWN`]), so a reload sends nothing twice.
    pub async fn restart(&mut self, settings: &Settings) -> anyhow::Result<()> {
        // New events are routed by the new settings at once, while the old
        // workers finish what they hold.
        self.routing.replace(settings);
        self.tasks.shutdown(WIND_DOWN).await;
        self.tasks = Supervisor::new();
        self.spawn_all(settings)?;
        tracing::info!(
            notifiers = settings.notifiers.len(),
            "notifiers restarted with the reloaded configuration"
        );
        Ok(())
    }

    /// Runs until a loop dies, restarting the group for each settings
    /// received on `reloads`; when `wind_down` is cancelled, lets the loops
    /// finish what they hold (as for a restart) and ends.
    pub async fn run(
        mut self,
        mut reloads: mpsc::UnboundedReceiver<Settings>,
        wind_down: CancellationToken,
    ) {
        loop {
            tokio::select! {
                () = wind_down.cancelled() => {
                    self.tasks.shutdown(WIND_DOWN).await;
                    return;
                }
                name = self.tasks.first_to_end() => {
                    tracing::error!(task = name, "a notification loop ended");
                    return;
                }
                Some(settings) = reloads.recv() => {
                    if let Err(error) = self.restart(&settings).await {
                        tracing::error!(error = ?error, "cannot restart the notifiers");
                        return;
                    }
                }
            }
        }
    }
}
