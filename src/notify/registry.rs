//! Builds the configured notifiers, and `notify-test`'s one-shot send.

use super::bliphq::{BlipNotifier, BlipSettings};
use super::discord::{DiscordNotifier, DiscordSettings};
use super::guarded_dns::GuardedResolver;
use super::log::LogNotifier;
use super::telegram::{TelegramNotifier, TelegramSettings};
use super::webhook::{WebhookNotifier, WebhookSettings};
use super::{DeliveryOutcome, Notification, Notifier};
use crate::configuration::{NotifierTarget, Settings};
use std::sync::Arc;
use std::time::Duration;

/// Per-attempt timeout of every notifier request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// One client per notifier set: a shared connection pool.
pub fn build(settings: &Settings) -> anyhow::Result<Vec<Arc<dyn Notifier>>> {
    let guard = settings
        .notify
        .blocks_private_addresses()
        .then(|| GuardedResolver::new(&settings.notify));
    let client = super::http::client(REQUEST_TIMEOUT, guard);
    let nickname = settings.notify.nickname.clone();
    settings
        .notifiers
        .iter()
        .map(|n| -> anyhow::Result<Arc<dyn Notifier>> {
            let name = n.name.clone();
            Ok(match &n.target {
                NotifierTarget::Log => Arc::new(LogNotifier::new(name)),
                NotifierTarget::Bliphq { url, api_key } => Arc::new(BlipNotifier::new(
                    name,
                    BlipSettings {
                        url: url.clone(),
                        api_key: api_key.clone(),
                    },
                    settings.notify.project.clone(),
                    nickname.clone(),
                    client.clone(),
                )),
                NotifierTarget::Telegram {
                    bot_token,
                    chat_id,
                    api_base,
                } => {
                    let target = TelegramSettings {
                        bot_token: bot_token.clone(),
                        chat_id: chat_id.clone(),
                        api_base: api_base.clone(),
                    };
                    Arc::new(TelegramNotifier::new(name, target, client.clone()))
                }
                NotifierTarget::Discord { webhook_url } => Arc::new(DiscordNotifier::new(
                    name,
                    DiscordSettings {
                        webhook_url: webhook_url.clone(),
                    },
                    nickname.clone(),
                    client.clone(),
                )),
                NotifierTarget::Webhook { url, secret } => Arc::new(
                    WebhookNotifier::new(
                        name,
                        WebhookSettings {
                            url: url.clone(),
                            secret: secret.clone(),
                        },
                        client.clone(),
                    )
                    .map_err(|e| anyhow::anyhow!("notifiers.{}.secret: {e}", n.name))?,
                ),
            })
        })
        .collect()
}

/// Sends one test notification through each notifier; returns each name with
/// its outcome, in configuration order.
pub async fn send_test(notifiers: &[Arc<dyn Notifier>]) -> Vec<(String, DeliveryOutcome)> {
    let sends = notifiers.iter().map(|notifier| async move {
        let test = Notification::Test {
            id: format!("test-{}", uuid::Uuid::new_v4()),
        };
        (notifier.name().to_owned(), notifier.send(&test).await)
    });
    futures_util::future::join_all(sends).await
}
