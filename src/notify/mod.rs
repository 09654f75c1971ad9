//! Notifier clients: each renders a [`Notification`] for its service, makes
//! one HTTP delivery attempt and classifies the answer. Retries, rate limits
//! and digests belong to the outbox workers that call [`Notifier::send`].

pub mod bliphq;
mod chat_text;
pub mod coalesce;
pub mod digest;
pub mod discord;
pub mod guarded_dns;
pub mod http;
pub mod log;
pub mod markup;
pub mod notification;
pub mod rate_limit;
pub mod registry;
pub mod retry;
pub mod routing;
pub mod tasks;
pub mod telegram;
pub mod webhook;
pub mod worker;

pub use notification::{EventKind, Notification, SummaryLine, SummaryReason};

/// A configured notification target.
#[async_trait::async_trait]
pub trait Notifier: Send + Sync + std::fmt::Debug {
    /// The configured name (table key), for logs and metrics.
    fn name(&self) -> &str;
    /// One delivery attempt. Never panics, never logs a secret.
    async fn send(&self, notification: &Notification) -> DeliveryOutcome;
    /// The same notifier aimed at a migrated chat, for services that migrate
    /// chats (Telegram); `None` elsewhere.
    fn migrated(&self, _new_chat_id: i64) -> Option<std::sync::Arc<dyn Notifier>> {
        None
    }
}

/// What one delivery attempt achieved, and what the caller should do next.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryOutcome {
    /// The service accepted the message.
    Delivered,
    /// The service accepted the message and said its budget is spent:
    /// nothing more may be sent to it for `wait` (Discord's
    /// `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset-After`).
    DeliveredThenWait {
        /// Until the service's budget is back.
        wait: std::time::Duration,
    },
    /// Timeout, connection error, 5xx (not 501), 408, 429. `after` is the
    /// service's own wait when it gave one (Telegram `parameters.retry_after`,
    /// Discord body `retry_after`, `Retry-After` header), never shortened.
    Retry {
        /// The service's requested wait, if any.
        after: Option<std::time::Duration>,
        /// Token-free description.
        reason: String,
    },
    /// Any other 4xx or a response that can never succeed: dead-letter the row.
    /// `reason` includes the service's error text (token-free).
    Permanent {
        /// Token-free description.
        reason: String,
    },
    /// 401/403, Telegram "bot was blocked"/"kicked"/"Unauthorized", Discord 404
    /// Unknown Webhook, webhook 410: pause this notifier.
    CredentialsRejected {
        /// Token-free description.
        reason: String,
    },
    /// Telegram 400 with `parameters.migrate_to_chat_id`: the caller should
    /// retry to the new chat id and log the config change.
    ChatMigrated {
        /// The supergroup's id that replaces the configured chat id.
        new_chat_id: i64,
    },
}

impl DeliveryOutcome {
    /// Whether the service accepted the message.
    pub fn is_delivered(&self) -> bool {
        matches!(
            self,
            DeliveryOutcome::Delivered | DeliveryOutcome::DeliveredThenWait { .. }
        )
    }

    /// Short label for metrics: `delivered`, `retry`, `permanent`, `credentials_rejected`, `chat_migrated`.
    pub fn label(&self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered | DeliveryOutcome::DeliveredThenWait { .. } => "delivered",
            DeliveryOutcome::Retry { .. } => "retry",
            DeliveryOutcome::Permanent { .. } => "permanent",
            DeliveryOutcome::CredentialsRejected { .. } => "credentials_rejected",
            DeliveryOutcome::ChatMigrated { .. } => "chat_migrated",
        }
    }
}
