//! Telegram Bot API `sendMessage` with `parse_mode=HTML`.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::chat_text::{Markup, render};
use super::http::{Reply, execute, one_line, outcome_for, redact};
use super::markup::{escape_html, truncate_html, truncate_plain};
use super::{DeliveryOutcome, Notification, Notifier};

const SERVICE: &str = "telegram";
/// Telegram's limit on a message's text, in characters.
pub const MAX_TEXT_CHARS: usize = 4096;

/// Configuration of a Telegram chat target.
#[derive(Debug, Clone, Deserialize)]
pub struct TelegramSettings {
    /// `123456789:AA...`; it goes in the URL path, so the URL is never logged.
    pub bot_token: SecretString,
    /// A numeric id (`-100...`) or `@channelusername`.
    pub chat_id: String,
    /// `https://api.telegram.org`, overridable for tests and proxies.
    pub api_base: String,
}

/// Sends HTML messages to one chat. `Debug` shows no token.
#[derive(Debug, Clone)]
pub struct TelegramNotifier {
    name: String,
    settings: TelegramSettings,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct TgReply {
    ok: bool,
    description: Option<String>,
    parameters: Option<TgParameters>,
}

#[derive(Deserialize)]
struct TgParameters {
    // Documented as an integer; f64 also accepts a fractional value.
    retry_after: Option<f64>,
    migrate_to_chat_id: Option<i64>,
}

impl TelegramNotifier {
    /// A notifier named `name` using `client` (see [`super::http::client`]).
    pub fn new(
        name: impl Into<String>,
        settings: TelegramSettings,
        client: reqwest::Client,
    ) -> Self {
        Self {
            name: name.into(),
            settings,
            client,
        }
    }

    /// The same notifier aimed at `chat_id`, to follow a [`DeliveryOutcome::ChatMigrated`].
    pub fn with_chat_id(&self, chat_id: i64) -> Self {
        let mut next = self.clone();
        next.settings.chat_id = chat_id.to_string();
        next
    }

    /// The configured chat id.
    pub fn chat_id(&self) -> &str {
        &self.settings.chat_id
    }

    /// The HTML text for `notification`, escaped and cut to [`MAX_TEXT_CHARS`].
    pub fn render(&self, notification: &Notification) -> String {
        let markup = Markup {
            escape: escape_html,
            bold: |s| format!("<b>{s}</b>"),
            code: |s| format!("<code>{s}</code>"),
        };
        let text = render(notification, &markup);
        truncate_html(&text, MAX_TEXT_CHARS)
    }

    fn classify(&self, reply: &Reply, secrets: &[&str]) -> DeliveryOutcome {
        let parsed: Option<TgReply> = reply.json();
        let status = reply.status;
        if status.as_u16() == 200 && parsed.as_ref().is_some_and(|r| r.ok) {
            return DeliveryOutcome::Delivered;
        }
        let params = parsed.as_ref().and_then(|r| r.parameters.as_ref());
        if let Some(new_chat_id) = params.and_then(|p| p.migrate_to_chat_id) {
            return DeliveryOutcome::ChatMigrated { new_chat_id };
        }
        let description = match parsed.as_ref().and_then(|r| r.description.as_deref()) {
            Some(d) => one_line(d),
            None => reply.snippet(),
        };
        let reason = redact(&format!("{SERVICE}: HTTP {status}: {description}"), secrets);
        if status.is_success() {
            // 200 without ok:true is not Telegram (a proxy or a wrong api_base).
            return DeliveryOutcome::Permanent { reason };
        }
        let lower = description.to_ascii_lowercase();
        let retry_after = params
            .and_then(|p| p.retry_after)
            .and_then(|s| Duration::try_from_secs_f64(s).ok());
        match status.as_u16() {
            429 => DeliveryOutcome::Retry {
                after: retry_after.max(reply.retry_after()),
                reason,
            },
            // 404 on /bot<token>/ means Telegram knows no such bot.
            404 => DeliveryOutcome::CredentialsRejected { reason },
            400 if lower.contains("bot was kicked") || lower.contains("bot was blocked") => {
                DeliveryOutcome::CredentialsRejected { reason }
            }
            _ => outcome_for(status, retry_after.or(reply.retry_after()), reason),
        }
    }
}

#[async_trait::async_trait]
impl Notifier for TelegramNotifier {
    fn name(&self) -> &str {
        &self.name
    }

    fn migrated(&self, new_chat_id: i64) -> Option<std::sync::Arc<dyn Notifier>> {
        Some(std::sync::Arc::new(self.with_chat_id(new_chat_id)))
    }

    async fn send(&self, notification: &Notification) -> DeliveryOutcome {
        let token = self.settings.bot_token.expose_secret();
        // The half after ':' is the secret; an echo may percent-encode the ':'.
        let secrets = [token, token.split_once(':').map_or("", |(_, s)| s)];
        let mut html = self.body_without_text();
        html["text"] = json!(self.render(notification));
        html["parse_mode"] = json!("HTML");
        let reply = match self.post(&html, &secrets).await {
            Ok(reply) if rejects_entities(&reply) => {
                // Escaping should make this unreachable; if Telegram still
                // refuses the markup, the event is told in plain text rather
                // than lost.
                tracing::warn!(notifier = %self.name, "telegram refused the message's HTML; resending it as plain text");
                let mut plain = self.body_without_text();
                plain["text"] = json!(plain_text(notification));
                self.post(&plain, &secrets).await
            }
            other => other,
        };
        match reply {
            Ok(reply) => self.classify(&reply, &secrets),
            Err(outcome) => outcome,
        }
    }
}

impl TelegramNotifier {
    /// The `sendMessage` body for the configured chat, without its text.
    fn body_without_text(&self) -> serde_json::Value {
        let chat_id = match self.settings.chat_id.parse::<i64>() {
            Ok(id) => json!(id),
            Err(_) => json!(self.settings.chat_id),
        };
        json!({
            "chat_id": chat_id,
            "link_preview_options": {"is_disabled": true},
        })
    }

    /// One `sendMessage` call with `body`.
    async fn post(
        &self,
        body: &serde_json::Value,
        secrets: &[&str],
    ) -> Result<Reply, DeliveryOutcome> {
        let token = self.settings.bot_token.expose_secret();
        let base = self.settings.api_base.trim_end_matches('/');
        let request = self
            .client
            .post(format!("{base}/bot{token}/sendMessage"))
            .json(body);
        execute(request, SERVICE, secrets).await
    }
}

/// Whether Telegram refused the message's markup (400 "can't parse entities").
fn rejects_entities(reply: &Reply) -> bool {
    reply.status.as_u16() == 400
        && reply
            .json::<TgReply>()
            .and_then(|r| r.description)
            .is_some_and(|d| d.to_ascii_lowercase().contains("can't parse entities"))
}

/// `notification` as plain text (no markup, nothing escaped), cut to
/// [`MAX_TEXT_CHARS`] with a closing `…`.
fn plain_text(notification: &Notification) -> String {
    let markup = Markup {
        escape: str::to_owned,
        bold: str::to_owned,
        code: str::to_owned,
    };
    truncate_plain(&render(notification, &markup), MAX_TEXT_CHARS)
}
