//! `[notify]`: what produces notifications, and how they are retried.

use super::ConfigError;
use serde::{Deserialize, Serialize};

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
    /// Every notifier URL must be `https://`. Unset: on in production only.
    pub require_https: Option<bool>,
    /// Notifiers refuse to connect to loopback, private, link-local and other
    /// non-public addresses, checked on every DNS answer (so a name cannot be
    /// pointed inside later). Unset: on in production only.
    pub block_private_addresses: Option<bool>,
    /// Host names or addresses exempt from `block_private_addresses` (an
    /// egress proxy, an internal relay), as written in the notifier's URL.
    pub allowed_hosts: Vec<String>,
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
            require_https: None,
            block_private_addresses: None,
            allowed_hosts: Vec::new(),
        }
    }
}

impl NotifySettings {
    /// Whether notifier URLs must be `https://` (after [`Self::validate`]).
    pub fn requires_https(&self) -> bool {
        self.require_https.unwrap_or(false)
    }

    /// Whether notifiers may not reach non-public addresses (after [`Self::validate`]).
    pub fn blocks_private_addresses(&self) -> bool {
        self.block_private_addresses.unwrap_or(false)
    }

    /// Whether `host` (as written in a URL) is exempt from the address block.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allowed_hosts
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(host))
    }

    /// Checks the values and settles the environment's defaults.
    pub(super) fn validate(&mut self, production: bool) -> Result<(), ConfigError> {
        self.require_https.get_or_insert(production);
        self.block_private_addresses.get_or_insert(production);
        if let Some(empty) = self.allowed_hosts.iter().position(|h| h.trim().is_empty()) {
            return Err(ConfigError::at(
                format!("notify.allowed_hosts[{empty}]"),
                "must not be empty",
            ));
        }
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
