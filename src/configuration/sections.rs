//! The plain sections of the configuration file.

use super::ConfigError;
use crate::standard_webhooks::SigningKey;
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
    /// A folder to serve the demo and dashboard pages from instead of the
    /// built-in ones; empty (the default) means the built-in pages. A
    /// relative path is resolved against the configuration file's folder.
    pub static_dir: String,
    /// Origins allowed to call with credentials (CORS); empty means same-origin only.
    pub cors_allowed_origins: Vec<String>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Seconds a request body may take to arrive before the request is
    /// answered 408 and its connection closed (a stalled upload must not
    /// hold a connection).
    pub body_timeout_secs: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 8080,
            workers: 0,
            static_dir: String::new(),
            cors_allowed_origins: Vec::new(),
            max_body_bytes: 4096,
            body_timeout_secs: 10,
        }
    }
}

impl ServerSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if self.max_body_bytes == 0 {
            return Err(ConfigError::at("server.max_body_bytes", "must be positive"));
        }
        if self.body_timeout_secs == 0 {
            return Err(ConfigError::at(
                "server.body_timeout_secs",
                "must be positive",
            ));
        }
        // Refused at start rather than answering `/` with 404 all day.
        if !self.static_dir.is_empty() && !std::path::Path::new(&self.static_dir).is_dir() {
            return Err(ConfigError::at(
                "server.static_dir",
                format!(
                    "{} is not a folder (leave it empty for the built-in pages)",
                    self.static_dir
                ),
            ));
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

    /// Whether `host` accepts connections from this machine only
    /// (`localhost`, `127.0.0.0/8`, `::1`).
    pub fn is_loopback(&self) -> bool {
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    /// How long a request body may take to arrive.
    pub fn body_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.body_timeout_secs)
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

/// `[storage]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StorageSettings {
    /// `sqlite://path` or `postgres://user:pass@host/db`; may carry a password.
    pub url: SecretString,
    /// Connections of the read and outbox pool: 10 on PostgreSQL and 4 on
    /// SQLite when unset (SQLite's event writes have a connection of their own).
    pub pool_size: Option<u32>,
    /// Seconds a batch of writes may take on PostgreSQL before it is given
    /// up (answered 503, its connection closed): a database that accepts
    /// connections but never answers must not hold every writer forever.
    pub write_timeout_secs: u64,
    /// Seconds a read of the store (`/results`, `/results/history`) may
    /// take before it is given up (503, its connection closed), for the
    /// same reason.
    pub read_timeout_secs: u64,
}

impl Default for StorageSettings {
    fn default() -> Self {
        Self {
            url: SecretString::from("sqlite://data/splitcast.db"),
            pool_size: None,
            write_timeout_secs: 10,
            read_timeout_secs: 10,
        }
    }
}

impl StorageSettings {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        super::StorageUrl::parse(&self.url)?;
        if self.pool_size == Some(0) {
            return Err(ConfigError::at("storage.pool_size", "must be at least 1"));
        }
        if self.write_timeout_secs == 0 {
            return Err(ConfigError::at(
                "storage.write_timeout_secs",
                "must be at least 1",
            ));
        }
        if self.read_timeout_secs == 0 {
            return Err(ConfigError::at(
                "storage.read_timeout_secs",
                "must be at least 1",
            ));
        }
        Ok(())
    }
}

/// `[admin]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// Bearer token for `/results`, the dashboard and `/metrics`; empty means
    /// open (development only). At least 32 characters in production.
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

/// `[metrics]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSettings {
    /// A Bearer token for `/metrics` alone (for a scraper that must not read
    /// results); `admin.token` is accepted too. `/metrics` needs one of them
    /// in production, or whenever this is set.
    pub token: SecretString,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        Self {
            token: SecretString::from(String::new()),
        }
    }
}

/// The shortest token accepted in production: guessing it must be hopeless.
pub const MIN_PRODUCTION_TOKEN_CHARS: usize = 32;

/// Refuses a production token that is set but shorter than
/// [`MIN_PRODUCTION_TOKEN_CHARS`].
pub(super) fn check_production_token(
    key: &str,
    token: &SecretString,
) -> Result<(), super::ConfigError> {
    let length = token.expose_secret().chars().count();
    if (1..MIN_PRODUCTION_TOKEN_CHARS).contains(&length) {
        return Err(super::ConfigError::at(
            key,
            format!(
                "must be at least {MIN_PRODUCTION_TOKEN_CHARS} characters in production (it has {length})"
            ),
        ));
    }
    Ok(())
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

/// `[history]`: the snapshots behind `GET /results/history`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HistorySettings {
    /// Seconds between two points, aligned on the Unix epoch (3600: every
    /// UTC hour). At most a day: the dashboard's participants per day needs
    /// a point in every day.
    pub interval_secs: u64,
}

impl Default for HistorySettings {
    fn default() -> Self {
        Self {
            interval_secs: 3600,
        }
    }
}

impl HistorySettings {
    /// The longest interval accepted: one day.
    pub const MAX_INTERVAL_SECS: u64 = 86_400;

    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=Self::MAX_INTERVAL_SECS).contains(&self.interval_secs) {
            return Err(ConfigError::at(
                "history.interval_secs",
                format!("must be between 1 and {}", Self::MAX_INTERVAL_SECS),
            ));
        }
        Ok(())
    }

    /// The time between two points.
    pub fn interval(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.interval_secs)
    }
}
