//! The plain sections of the configuration file.

use super::ConfigError;
use crate::standard_webhooks::SigningKey;
use actix_web::cookie::Key;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// Which checks apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// Lenient: a random session key and an open `/results` are allowed.
    #[default]
    Development,
    /// Strict: a real session key, `secure = true` and an admin token are required.
    Production,
}

/// `[server]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address to bind.
    pub host: String,
    /// Port to bind; 0 picks a free one.
    pub port: u16,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Folder of the demo and dashboard pages.
    pub static_dir: String,
    /// Origins allowed to call with credentials (CORS); empty means same-origin only.
    pub cors_allowed_origins: Vec<String>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            workers: 0,
            static_dir: "static".into(),
            cors_allowed_origins: Vec::new(),
            max_body_bytes: 4096,
        }
    }
}

impl ServerSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.max_body_bytes == 0 {
            return Err(ConfigError::at("server.max_body_bytes", "must be positive"));
        }
        for origin in &self.cors_allowed_origins {
            let ok = (origin.starts_with("http://") || origin.starts_with("https://"))
                && !origin.ends_with('/');
            if !ok {
                return Err(ConfigError::at(
                    "server.cors_allowed_origins",
                    format!("{origin:?} must be an origin like https://example.com (no path)"),
                ));
            }
        }
        Ok(())
    }

    /// The worker count to start.
    pub fn worker_count(&self) -> usize {
        if self.workers == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.workers
        }
    }
}

/// How the session cookie is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentSecurity {
    /// HMAC-signed, readable by the client.
    #[default]
    Signed,
    /// Encrypted and authenticated.
    Private,
}

/// The cookie's SameSite attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SameSitePolicy {
    /// Sent on top-level navigations from other sites.
    #[default]
    Lax,
    /// Never sent cross-site.
    Strict,
    /// Sent cross-site (requires `secure = true` in browsers).
    None,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawSession {
    cookie_name: String,
    secret_key: SecretString,
    content_security: ContentSecurity,
    secure: bool,
    same_site: SameSitePolicy,
    max_age_days: u32,
}

impl Default for RawSession {
    fn default() -> Self {
        Self {
            cookie_name: "splitcast".into(),
            secret_key: SecretString::from(String::new()),
            content_security: ContentSecurity::Signed,
            secure: false,
            same_site: SameSitePolicy::Lax,
            max_age_days: 90,
        }
    }
}

/// `[session]`, validated.
#[derive(Clone)]
pub struct SessionSettings {
    /// Cookie name.
    pub cookie_name: String,
    /// Signing (or encryption) key.
    pub key: Key,
    /// Signed or private.
    pub content_security: ContentSecurity,
    /// The Secure attribute.
    pub secure: bool,
    /// The SameSite attribute.
    pub same_site: SameSitePolicy,
    /// Lifetime of the persistent cookie.
    pub max_age_days: u32,
    /// Whether the key was generated because none was configured.
    pub generated_key: bool,
}

impl std::fmt::Debug for SessionSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSettings")
            .field("cookie_name", &self.cookie_name)
            .field("key", &"[redacted]")
            .field("content_security", &self.content_security)
            .field("secure", &self.secure)
            .field("same_site", &self.same_site)
            .field("max_age_days", &self.max_age_days)
            .finish()
    }
}

impl RawSession {
    pub(super) fn validate(self, production: bool) -> Result<SessionSettings, ConfigError> {
        let valid_name = !self.cookie_name.is_empty()
            && self
                .cookie_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_name {
            return Err(ConfigError::at(
                "session.cookie_name",
                "must be a non-empty token of letters, digits, '_' or '-'",
            ));
        }
        if self.max_age_days == 0 {
            return Err(ConfigError::at("session.max_age_days", "must be positive"));
        }
        let encoded = self.secret_key.expose_secret().trim();
        let (key, generated_key) = if encoded.is_empty() {
            if production {
                return Err(ConfigError::at(
                    "session.secret_key",
                    "is required when environment = \"production\" (base64 of at least 64 bytes)",
                ));
            }
            (Key::generate(), true)
        } else {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|_| ConfigError::at("session.secret_key", "is not valid base64"))?;
            let key = Key::try_from(bytes.as_slice()).map_err(|_| {
                ConfigError::at(
                    "session.secret_key",
                    format!("decodes to {} bytes; at least 64 are required", bytes.len()),
                )
            })?;
            (key, false)
        };
        if production && !self.secure {
            return Err(ConfigError::at(
                "session.secure",
                "must be true when environment = \"production\"",
            ));
        }
        if self.same_site == SameSitePolicy::None && !self.secure {
            return Err(ConfigError::at(
                "session.same_site",
                "\"none\" needs session.secure = true (browsers drop the cookie otherwise)",
            ));
        }
        Ok(SessionSettings {
            cookie_name: self.cookie_name,
            key,
            content_security: self.content_security,
            secure: self.secure,
            same_site: self.same_site,
            max_age_days: self.max_age_days,
            generated_key,
        })
    }
}

/// `[storage]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    /// `sqlite://path` or `postgres://user:pass@host/db`; may carry a password.
    pub url: SecretString,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from("sqlite://data/splitcast.db"),
        }
    }
}

/// `[admin]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// Bearer token for `/results`; empty means open (development only).
    pub token: SecretString,
}

impl Default for AdminSettings {
    fn default() -> Self {
        Self {
            token: SecretString::from(String::new()),
        }
    }
}

impl AdminSettings {
    /// Whether a token is set.
    pub fn is_configured(&self) -> bool {
        !self.token.expose_secret().is_empty()
    }
}

/// `[ingest]`: `POST /webhook`, which is off unless a token or a signing
/// secret is set.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestSettings {
    /// Bearer token; empty means no token accepted.
    pub token: SecretString,
    /// Standard Webhooks secret (`whsec_...`); empty means no signature accepted.
    pub signing_secret: SecretString,
    /// Largest accepted `POST /webhook` body, in bytes (batches are bigger
    /// than browser requests, hence a limit of its own).
    pub max_body_bytes: usize,
    /// `signing_secret` decoded once at load, so requests never re-parse it.
    #[serde(skip)]
    signing_key: Option<SigningKey>,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            token: SecretString::from(String::new()),
            signing_secret: SecretString::from(String::new()),
            max_body_bytes: 262_144,
            signing_key: None,
        }
    }
}

impl IngestSettings {
    pub(super) fn validate(mut self) -> Result<Self, ConfigError> {
        if self.max_body_bytes == 0 {
            return Err(ConfigError::at("ingest.max_body_bytes", "must be positive"));
        }
        let secret = self.signing_secret.expose_secret().trim();
        self.signing_key = if secret.is_empty() {
            None
        } else {
            // SecretError messages never carry the secret.
            Some(
                SigningKey::parse(secret)
                    .map_err(|e| ConfigError::at("ingest.signing_secret", e))?,
            )
        };
        Ok(self)
    }

    /// The Bearer token, when one is configured.
    pub fn token(&self) -> Option<&SecretString> {
        (!self.token.expose_secret().is_empty()).then_some(&self.token)
    }

    /// The decoded signing key, when a signing secret is configured.
    pub fn signing_key(&self) -> Option<&SigningKey> {
        self.signing_key.as_ref()
    }

    /// Whether `POST /webhook` accepts anything at all.
    pub fn is_enabled(&self) -> bool {
        self.token().is_some() || self.signing_key.is_some()
    }
}

/// How an event kind reaches the notifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyPolicy {
    /// One message per event (coalesced when the backlog outruns the rate limit).
    Immediate,
    /// Summed and sent every `digest_interval_secs`.
    Digest,
    /// Not notified.
    Off,
}

/// `[notify]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotifySettings {
    /// Project name sent to BlipHQ-style APIs.
    pub project: String,
    /// Sender name (BlipHQ nickname, Discord username).
    pub nickname: String,
    /// Policy for page views.
    pub page_view: NotifyPolicy,
    /// Policy for conversions.
    pub conversion: NotifyPolicy,
    /// Period of digests, in seconds.
    pub digest_interval_secs: u64,
    /// A notification not delivered after this many hours is dead-lettered.
    pub max_age_hours: u64,
    /// Participants each arm needs before a significance verdict is sent.
    pub min_sample_per_variant: u64,
    /// Ceiling of the first retry wait, in milliseconds (doubles per failure).
    pub retry_initial_ms: u64,
    /// Largest retry wait ceiling, in seconds.
    pub retry_max_secs: u64,
    /// How often the results are checked for a significance verdict change, in seconds.
    pub significance_check_secs: u64,
}

impl Default for NotifySettings {
    fn default() -> Self {
        Self {
            project: "ABTestingProject".into(),
            nickname: "abtestbot".into(),
            page_view: NotifyPolicy::Digest,
            conversion: NotifyPolicy::Immediate,
            digest_interval_secs: 60,
            max_age_hours: 24,
            min_sample_per_variant: 100,
            retry_initial_ms: 1000,
            retry_max_secs: 300,
            significance_check_secs: 10,
        }
    }
}

impl NotifySettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.digest_interval_secs == 0 {
            return Err(ConfigError::at(
                "notify.digest_interval_secs",
                "must be positive",
            ));
        }
        if self.retry_initial_ms == 0 || self.retry_max_secs == 0 {
            return Err(ConfigError::at(
                "notify.retry_initial_ms",
                "retry_initial_ms and retry_max_secs must be positive",
            ));
        }
        if self.significance_check_secs == 0 {
            return Err(ConfigError::at(
                "notify.significance_check_secs",
                "must be positive",
            ));
        }
        if self.max_age_hours == 0 {
            return Err(ConfigError::at("notify.max_age_hours", "must be positive"));
        }
        Ok(())
    }
}
