//! Layered configuration: a TOML file, its optional local overlay
//! ([`Sources::local_overlay`]: `local.toml` beside `default.toml`), then
//! `SPLITCAST__SECTION__KEY` environment variables. The raw form is parsed
//! once into [`Settings`]; every rule of the contract is checked here, and a
//! failure is one line naming the key.

mod experiments;
mod limits;
mod notifier_urls;
mod notifiers;
mod notify;
mod paths;
mod redacted;
mod sections;
mod session;
mod storage;

pub use limits::LimitSettings;
pub use notifiers::{NotifierEvent, NotifierSettings, NotifierTarget};
pub use notify::{NotifyPolicy, NotifySettings};
pub use sections::{
    AdminSettings, Environment, HistorySettings, IngestSettings, MIN_PRODUCTION_TOKEN_CHARS,
    MetricsSettings, ServerSettings, StorageSettings,
};
pub use session::{ContentSecurity, SameSitePolicy, SessionSettings, UserIdPolicy};
pub use storage::{StorageUrl, Synchronous};

use crate::experiment::Experiments;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The file read when neither `--config` nor `SPLITCAST_CONFIG` names one.
pub const DEFAULT_CONFIG_PATH: &str = "config/default.toml";

/// A configuration that cannot be used. The message is one line that names
/// the offending key and never carries a secret.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(pub String);

impl ConfigError {
    pub(crate) fn at(key: impl std::fmt::Display, problem: impl std::fmt::Display) -> Self {
        Self(format!("{key}: {problem}"))
    }
}

/// The validated configuration of one splitcast process.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `development` or `production` (strict checks).
    pub environment: Environment,
    /// Listener, workers, static files, CORS, body limit.
    pub server: ServerSettings,
    /// The session cookie.
    pub session: SessionSettings,
    /// Where events are stored.
    pub storage: StorageSettings,
    /// The `/results` token.
    pub admin: AdminSettings,
    /// Authentication of `POST /webhook`.
    pub ingest: IngestSettings,
    /// Access to `/metrics`.
    pub metrics: MetricsSettings,
    /// The configured experiments.
    pub experiments: Experiments,
    /// What produces notifications, and how.
    pub notify: NotifySettings,
    /// The enabled notifiers, in name order.
    pub notifiers: Vec<NotifierSettings>,
    /// The snapshots of results over time.
    pub history: HistorySettings,
    /// The per-client limit on visitors' durable writes.
    pub limits: LimitSettings,
    /// Warnings to log at start and at every reload (e.g. a production
    /// setup with only `log`); see also [`SessionSettings::start_warnings`].
    pub warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    #[serde(default)]
    environment: Environment,
    #[serde(default)]
    server: ServerSettings,
    #[serde(default)]
    session: session::RawSession,
    #[serde(default)]
    storage: StorageSettings,
    #[serde(default)]
    admin: AdminSettings,
    #[serde(default)]
    ingest: IngestSettings,
    #[serde(default)]
    metrics: MetricsSettings,
    #[serde(default)]
    experiments: BTreeMap<String, experiments::RawExperiment>,
    #[serde(default)]
    notify: NotifySettings,
    #[serde(default)]
    notifiers: BTreeMap<String, notifiers::RawNotifier>,
    #[serde(default)]
    history: HistorySettings,
    #[serde(default)]
    limits: LimitSettings,
}

/// Where to read the configuration from.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// The main file; [`DEFAULT_CONFIG_PATH`] when `None`.
    pub file: Option<PathBuf>,
    /// Whether to read the file's local overlay ([`Sources::local_overlay`]) too.
    pub local_file: bool,
    /// Environment variables to apply; the process environment when `None`.
    pub env: Option<HashMap<String, String>>,
}

impl Sources {
    /// The sources a server process uses: the file, its local overlay and
    /// the process environment.
    pub fn process(file: Option<PathBuf>) -> Self {
        Self {
            file,
            local_file: true,
            env: None,
        }
    }

    /// The main file: `--config`, or [`DEFAULT_CONFIG_PATH`].
    pub fn main_file(&self) -> PathBuf {
        self.file
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH))
    }

    /// The local overrides of the main file, read after it when they exist:
    /// `local.toml` beside a `default.toml`, `NAME.local.toml` beside any
    /// other `NAME.toml`. Named after the file so that a development
    /// `local.toml` never changes `--config config/production.toml`.
    pub fn local_overlay(&self) -> Option<PathBuf> {
        if !self.local_file {
            return None;
        }
        let main = self.main_file();
        let stem = main.file_stem()?.to_str()?;
        let name = match stem {
            "default" => "local.toml".to_owned(),
            other => format!("{other}.local.toml"),
        };
        Some(main.with_file_name(name))
    }

    /// The files this configuration is read from now, absolute where the
    /// path can be resolved: the main file, and its overlay when it exists.
    pub fn files(&self) -> Vec<PathBuf> {
        let absolute = |path: PathBuf| std::path::absolute(&path).unwrap_or(path);
        let overlay = self.local_overlay().filter(|p| p.is_file());
        std::iter::once(self.main_file())
            .chain(overlay)
            .map(absolute)
            .collect()
    }
}

impl Settings {
    /// Loads and validates the configuration.
    pub fn load(sources: Sources) -> Result<Self, ConfigError> {
        Self::from_raw(Self::load_raw(sources)?)
    }

    /// Loads the configuration and validates it under `environment`, whatever
    /// the file says; also answers the file's own `environment`. A reload
    /// uses it: a running production process must never take a file that
    /// only development's lenient rules accept.
    pub fn load_as(
        sources: Sources,
        environment: Environment,
    ) -> Result<(Self, Environment), ConfigError> {
        let mut raw = Self::load_raw(sources)?;
        let in_file = std::mem::replace(&mut raw.environment, environment);
        Ok((Self::from_raw(raw)?, in_file))
    }

    fn load_raw(sources: Sources) -> Result<RawSettings, ConfigError> {
        let path = sources.main_file();
        if !path.exists() {
            return Err(ConfigError(format!(
                "config file {} does not exist",
                path.display()
            )));
        }
        let mut builder = config::Config::builder()
            .add_source(config::File::from(path.as_path()).format(config::FileFormat::Toml));
        if let Some(overlay) = sources.local_overlay() {
            builder = builder.add_source(
                config::File::from(overlay.as_path())
                    .format(config::FileFormat::Toml)
                    .required(false),
            );
        }
        let env = config::Environment::with_prefix("SPLITCAST")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            // The lists an operator sets per deployment: comma-separated.
            .list_separator(",")
            .with_list_parse_key("notify.allowed_hosts")
            .with_list_parse_key("server.cors_allowed_origins")
            .source(sources.env);
        let mut raw: RawSettings = builder
            .add_source(env)
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(one_line(&e.to_string())))?;
        paths::resolve(&mut raw, path.parent().unwrap_or(Path::new(".")));
        Ok(raw)
    }

    /// Parses configuration text (TOML) with no other source; for tests and
    /// tools.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let raw: RawSettings = config::Config::builder()
            .add_source(config::File::from_str(text, config::FileFormat::Toml))
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| ConfigError(one_line(&e.to_string())))?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawSettings) -> Result<Self, ConfigError> {
        let production = raw.environment == Environment::Production;
        raw.server.validate()?;
        let session = raw.session.validate(production)?;
        let experiments = experiments::validate(raw.experiments)?;
        let mut notify = raw.notify;
        notify.validate(production)?;
        let notifiers = notifiers::validate(raw.notifiers, &notify)?;
        let ingest = raw.ingest.validate()?;
        raw.storage.validate()?;
        raw.history.validate()?;
        let limits = raw.limits.validate()?;
        let mut warnings = Vec::new();
        if production {
            if !raw.admin.is_configured() {
                return Err(ConfigError::at(
                    "admin.token",
                    "is required when environment = \"production\"",
                ));
            }
            sections::check_production_token("admin.token", &raw.admin.token)?;
            sections::check_production_token("ingest.token", &ingest.token)?;
            sections::check_production_token("metrics.token", &raw.metrics.token)?;
            if !notify.blocks_private_addresses() {
                warnings.push(
                    "notify.block_private_addresses is off in production: a notifier URL, or \
                     a name it resolves to, may reach this network's internal services"
                        .to_owned(),
                );
            }
            if notifiers
                .iter()
                .all(|n| matches!(n.target, NotifierTarget::Log))
            {
                warnings.push(
                    "production setup whose only notifier is `log`: nobody will be told in chat"
                        .to_owned(),
                );
            }
        } else if !raw.admin.is_configured() {
            // Open admin endpoints are a convenience for one's own machine;
            // on a reachable address anyone on the network could use them.
            if !raw.server.is_loopback() {
                return Err(ConfigError::at(
                    "admin.token",
                    format!(
                        "is required when server.host ({:?}) is not a loopback address, \
                         even in development",
                        raw.server.host
                    ),
                ));
            }
            warnings.push("admin.token is empty: /results is open (development only)".to_owned());
        }
        Ok(Self {
            environment: raw.environment,
            server: raw.server,
            session,
            storage: raw.storage,
            admin: raw.admin,
            ingest,
            metrics: raw.metrics,
            experiments,
            notify,
            notifiers,
            history: raw.history,
            limits,
            warnings,
        })
    }

    /// Whether `/metrics` needs a Bearer token: in production, or once
    /// `admin.token` or `metrics.token` is set.
    pub fn metrics_need_a_token(&self) -> bool {
        // Per-variant counts are results: once `admin.token` guards
        // `/results`, an open `/metrics` would leak them.
        self.environment == Environment::Production
            || self.admin.is_configured()
            || !secrecy::ExposeSecret::expose_secret(&self.metrics.token).is_empty()
    }

    /// The effective configuration as TOML, with every secret redacted.
    pub fn redacted_toml(&self) -> String {
        redacted::render(self)
    }
}

/// The `config` crate's messages can span lines; the contract wants one.
fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}
