//! The default, offline notifier: notifications go to the log through tracing.

use super::{DeliveryOutcome, Notification, Notifier};

/// Writes one `tracing::info!` event per notification (target `splitcast::notify`).
#[derive(Debug, Clone)]
pub struct LogNotifier {
    name: String,
}

impl LogNotifier {
    /// A log notifier with its configured name.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into() }
    }
}

#[async_trait::async_trait]
impl Notifier for LogNotifier {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, notification: &Notification) -> DeliveryOutcome {
        // Names are validated config names, but Significance and Lifecycle text is free
        // form; `?` (Debug) escapes control characters so a line cannot forge
        // another log record.
        tracing::info!(
            target: "splitcast::notify",
            notifier = %self.name,
            id = notification.id(),
            experiment = notification.experiment().unwrap_or("-"),
            variant = notification.variant().unwrap_or("-"),
            event = notification.kind_label(),
            text = ?notification.headline(),
            "notification"
        );
        DeliveryOutcome::Delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn logging_always_delivers() {
        let n = LogNotifier::new("console");
        assert_eq!(n.name(), "console");
        let test = Notification::Test { id: "t".into() };
        assert_eq!(n.send(&test).await, DeliveryOutcome::Delivered);
    }
}
