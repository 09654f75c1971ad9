//! `[limits]`: the per-client limit on the durable writes anonymous visitors
//! cause (new enrolments and tracked events).

use super::{ConfigError, Environment};
use actix_web::http::header::HeaderName;
use serde::{Deserialize, Serialize};

/// `[limits]`. Read per request, so a reload applies it at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitSettings {
    /// Whether the limit applies; unset means on in production and off in
    /// development (see [`LimitSettings::is_on`]).
    pub enabled: Option<bool>,
    /// Writes a client may cause per second, sustained: its bucket's refill
    /// rate. Fractions are allowed (0.5 = one every two seconds).
    pub writes_per_second: f64,
    /// Writes a client may cause at once: its bucket's size.
    pub burst: u32,
    /// The header a trusted reverse proxy puts the client's address in
    /// (`X-Forwarded-For`: its right-most entry; `X-Real-IP`); empty means
    /// the TCP peer address, and any such header a client sends is ignored.
    pub trusted_proxy_header: String,
    /// `trusted_proxy_header` parsed once at load.
    #[serde(skip)]
    header: Option<HeaderName>,
}

impl Default for LimitSettings {
    fn default() -> Self {
        Self {
            enabled: None,
            writes_per_second: 20.0,
            burst: 60,
            trusted_proxy_header: String::new(),
            header: None,
        }
    }
}

impl LimitSettings {
    pub(super) fn validate(mut self) -> Result<Self, ConfigError> {
        if !(self.writes_per_second.is_finite() && self.writes_per_second > 0.0) {
            return Err(ConfigError::at(
                "limits.writes_per_second",
                "must be a positive number",
            ));
        }
        if self.burst == 0 {
            return Err(ConfigError::at("limits.burst", "must be at least 1"));
        }
        let header = self.trusted_proxy_header.trim();
        self.header = if header.is_empty() {
            None
        } else {
            Some(HeaderName::from_bytes(header.as_bytes()).map_err(|_| {
                ConfigError::at(
                    "limits.trusted_proxy_header",
                    format!("{header:?} is not a header name (e.g. X-Forwarded-For or X-Real-IP)"),
                )
            })?)
        };
        Ok(self)
    }

    /// Whether the limit applies: as configured, else on in production only.
    pub fn is_on(&self, environment: Environment) -> bool {
        self.enabled
            .unwrap_or(environment == Environment::Production)
    }

    /// The trusted proxy header, when one is configured.
    pub fn proxy_header(&self) -> Option<&HeaderName> {
        self.header.as_ref()
    }
}
