//! `[notifiers.NAME]` tables, parsed into [`NotifierSettings`].

use super::{ConfigError, NotifySettings};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a notifier can be told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifierEvent {
    /// Page views with the `immediate` policy.
    PageView,
    /// Conversions with the `immediate` policy.
    Conversion,
    /// Periodic digests of `digest` policy events.
    Digest,
    /// Significance verdict changes.
    Significance,
    /// Experiments paused, resumed or concluded at run time.
    Lifecycle,
}

impl NotifierEvent {
    /// Every kind; the default of `events`.
    pub const ALL: [NotifierEvent; 5] = [
        NotifierEvent::PageView,
        NotifierEvent::Conversion,
        NotifierEvent::Digest,
        NotifierEvent::Significance,
        NotifierEvent::Lifecycle,
    ];
}

/// The service a notifier talks to, with its validated credentials.
#[derive(Debug, Clone)]
pub enum NotifierTarget {
    /// Through tracing, offline.
    Log,
    /// A BlipHQ-style Bearer JSON API.
    Bliphq {
        /// Endpoint.
        url: String,
        /// Bearer token.
        api_key: SecretString,
    },
    /// Telegram Bot API `sendMessage`.
    Telegram {
        /// Bot token (sits in the URL path).
        bot_token: SecretString,
        /// Target chat id or `@channel`.
        chat_id: String,
        /// API root, overridable for tests and proxies.
        api_base: String,
    },
    /// Discord webhook execute.
    Discord {
        /// The webhook URL, itself a credential.
        webhook_url: SecretString,
    },
    /// A Standard Webhooks signed POST.
    Webhook {
        /// Endpoint.
        url: String,
        /// `whsec_` secret.
        secret: SecretString,
    },
}

impl NotifierTarget {
    /// The `kind` key of this target.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Log => "log",
            Self::Bliphq { .. } => "bliphq",
            Self::Telegram { .. } => "telegram",
            Self::Discord { .. } => "discord",
            Self::Webhook { .. } => "webhook",
        }
    }
}

/// One enabled notifier.
#[derive(Debug, Clone)]
pub struct NotifierSettings {
    /// Its table key.
    pub name: String,
    /// Where it sends.
    pub target: NotifierTarget,
    /// The kinds it receives.
    pub events: Vec<NotifierEvent>,
    /// Its token-bucket rate; `None` is unlimited.
    pub rate_per_minute: Option<u32>,
}

impl NotifierSettings {
    /// Whether it wants `event`.
    pub fn wants(&self, event: NotifierEvent) -> bool {
        self.events.contains(&event)
    }

    /// Whether `other` delivers the same way: a reload restarts the
    /// notifiers only when some notifier does not. Secrets are compared,
    /// never shown.
    pub fn same_as(&self, other: &Self) -> bool {
        self.name == other.name
            && self.events == other.events
            && self.rate_per_minute == other.rate_per_minute
            && self.target.same_as(&other.target)
    }
}

impl NotifierTarget {
    fn same_as(&self, other: &Self) -> bool {
        let same = |a: &SecretString, b: &SecretString| a.expose_secret() == b.expose_secret();
        match (self, other) {
            (Self::Log, Self::Log) => true,
            (
                Self::Bliphq { url, api_key },
                Self::Bliphq {
                    url: url2,
                    api_key: key2,
                },
            ) => url == url2 && same(api_key, key2),
            (
                Self::Telegram {
                    bot_token,
                    chat_id,
                    api_base,
                },
                Self::Telegram {
                    bot_token: token2,
                    chat_id: chat2,
                    api_base: base2,
                },
            ) => chat_id == chat2 && api_base == base2 && same(bot_token, token2),
            (Self::Discord { webhook_url }, Self::Discord { webhook_url: url2 }) => {
                same(webhook_url, url2)
            }
            (
                Self::Webhook { url, secret },
                Self::Webhook {
                    url: url2,
                    secret: s2,
                },
            ) => url == url2 && same(secret, s2),
            _ => false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotifier {
    kind: String,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    events: Option<Vec<NotifierEvent>>,
    rate_per_minute: Option<u32>,
    url: Option<String>,
    api_key: Option<SecretString>,
    bot_token: Option<SecretString>,
    chat_id: Option<String>,
    api_base: Option<String>,
    webhook_url: Option<SecretString>,
    secret: Option<SecretString>,
}

fn enabled_by_default() -> bool {
    true
}

pub(super) fn validate(
    raw: BTreeMap<String, RawNotifier>,
    notify: &NotifySettings,
) -> Result<Vec<NotifierSettings>, ConfigError> {
    let mut out = Vec::new();
    for (name, notifier) in raw {
        if let Some(settings) = parse_notifier(&name, notifier, notify)? {
            out.push(settings);
        }
    }
    Ok(out)
}

fn parse_notifier(
    name: &str,
    raw: RawNotifier,
    notify: &NotifySettings,
) -> Result<Option<NotifierSettings>, ConfigError> {
    let at = |field: &str| format!("notifiers.{name}.{field}");
    let present: [(&str, bool); 7] = [
        ("url", raw.url.is_some()),
        ("api_key", raw.api_key.is_some()),
        ("bot_token", raw.bot_token.is_some()),
        ("chat_id", raw.chat_id.is_some()),
        ("api_base", raw.api_base.is_some()),
        ("webhook_url", raw.webhook_url.is_some()),
        ("secret", raw.secret.is_some()),
    ];
    let allowed: &[&str] = match raw.kind.as_str() {
        "log" => &[],
        "bliphq" => &["url", "api_key"],
        "telegram" => &["bot_token", "chat_id", "api_base"],
        "discord" => &["webhook_url"],
        "webhook" => &["url", "secret"],
        other => {
            return Err(ConfigError::at(
                at("kind"),
                format!("unknown kind {other:?} (log, bliphq, telegram, discord or webhook)"),
            ));
        }
    };
    if let Some((field, _)) = present.iter().find(|(f, p)| *p && !allowed.contains(f)) {
        return Err(ConfigError::at(
            at(field),
            format!("is not a key of kind {:?}", raw.kind),
        ));
    }
    if !raw.enabled {
        return Ok(None);
    }
    let text = |field: &str, value: Option<String>| -> Result<String, ConfigError> {
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| ConfigError::at(at(field), "is required when the notifier is enabled"))
    };
    let secret = |field: &str, value: Option<SecretString>| -> Result<SecretString, ConfigError> {
        value
            .filter(|v| !v.expose_secret().trim().is_empty())
            .ok_or_else(|| ConfigError::at(at(field), "is required when the notifier is enabled"))
    };
    // Never echoes the value: a Discord URL is a credential.
    let http_url = |field: &str, value: &str| -> Result<(), ConfigError> {
        super::notifier_urls::check(value, notify)
            .map_err(|problem| ConfigError::at(at(field), problem))
    };
    let (target, default_rate) = match raw.kind.as_str() {
        "log" => (NotifierTarget::Log, None),
        "bliphq" => {
            let url = text("url", raw.url)?;
            http_url("url", &url)?;
            let api_key = secret("api_key", raw.api_key)?;
            (NotifierTarget::Bliphq { url, api_key }, Some(60))
        }
        "telegram" => {
            let bot_token = secret("bot_token", raw.bot_token)?;
            let chat_id = text("chat_id", raw.chat_id)?;
            let api_base = raw
                .api_base
                .unwrap_or_else(|| "https://api.telegram.org".into())
                .trim_end_matches('/')
                .to_owned();
            http_url("api_base", &api_base)?;
            let target = NotifierTarget::Telegram {
                bot_token,
                chat_id,
                api_base,
            };
            (target, Some(20))
        }
        "discord" => {
            let webhook_url = secret("webhook_url", raw.webhook_url)?;
            http_url("webhook_url", webhook_url.expose_secret())?;
            (NotifierTarget::Discord { webhook_url }, Some(30))
        }
        _ => {
            let url = text("url", raw.url)?;
            http_url("url", &url)?;
            let secret = secret("secret", raw.secret)?;
            if let Err(e) = crate::standard_webhooks::SigningKey::parse(secret.expose_secret()) {
                return Err(ConfigError::at(
                    at("secret"),
                    format!("{e} (expected whsec_ followed by base64 of 24 to 64 bytes)"),
                ));
            }
            (NotifierTarget::Webhook { url, secret }, None)
        }
    };
    if raw.rate_per_minute == Some(0) {
        return Err(ConfigError::at(at("rate_per_minute"), "must be positive"));
    }
    let events = raw.events.unwrap_or_else(|| NotifierEvent::ALL.to_vec());
    Ok(Some(NotifierSettings {
        name: name.to_owned(),
        target,
        events,
        rate_per_minute: raw.rate_per_minute.or(default_rate),
    }))
}
