//! `[session]`: the cookie and its key.

use super::ConfigError;
use actix_web::cookie::Key;
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

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
    user_id_secret: SecretString,
    trust_user_id_header: bool,
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
            user_id_secret: SecretString::from(String::new()),
            trust_user_id_header: false,
        }
    }
}

/// Which `X-User-Id` headers a browser's request may carry.
#[derive(Clone)]
pub enum UserIdPolicy {
    /// Only with `X-User-Id-Signature`, the hex HMAC-SHA256 of the id under
    /// `session.user_id_secret`, made by the site's backend.
    Signed(SecretString),
    /// As sent: a proxy in front of splitcast sets the header
    /// (`session.trust_user_id_header = true`).
    Trusted,
    /// As sent, in development without a secret (warned at start).
    Unproven,
    /// Never: production without a secret or a trusted proxy.
    Refused,
}

impl UserIdPolicy {
    /// The policy's name, for `check-config` and the start-up log.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Signed(_) => "signed",
            Self::Trusted => "trusted header",
            Self::Unproven => "unproven (development)",
            Self::Refused => "refused",
        }
    }
}

/// Shortest `session.user_id_secret`: an HMAC key guessable by search is none.
const MIN_USER_ID_SECRET: usize = 32;

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
    /// Which `X-User-Id` headers are believed.
    pub user_ids: UserIdPolicy,
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
            .field("user_ids", &self.user_ids.describe())
            .finish()
    }
}

impl SessionSettings {
    /// Warnings about the session to log once at start (never on a reload:
    /// `[session]` needs a restart, so the running process keeps these).
    pub fn start_warnings(&self) -> Vec<&'static str> {
        let mut warnings = Vec::new();
        if self.generated_key {
            warnings.push(
                "session.secret_key is empty: a random key was generated, so sessions \
                 end at restart and instances cannot share visitors",
            );
        }
        if matches!(self.user_ids, UserIdPolicy::Unproven) {
            warnings.push(
                "X-User-Id is believed as sent (development): set session.user_id_secret \
                 so that a browser must prove the user ids it claims",
            );
        }
        warnings
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
            // `openssl rand -base64 64` wraps its output: line breaks and
            // spaces are layout, not key.
            let compact: String = encoded.split_ascii_whitespace().collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(compact)
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
        let user_ids = user_id_policy(self.user_id_secret, self.trust_user_id_header, production)?;
        Ok(SessionSettings {
            user_ids,
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

fn user_id_policy(
    secret: SecretString,
    trusted: bool,
    production: bool,
) -> Result<UserIdPolicy, ConfigError> {
    let length = secret.expose_secret().chars().count();
    Ok(match (length, trusted) {
        (0, true) => UserIdPolicy::Trusted,
        (0, false) if production => UserIdPolicy::Refused,
        (0, false) => UserIdPolicy::Unproven,
        (_, true) => {
            return Err(ConfigError::at(
                "session.trust_user_id_header",
                "cannot be combined with session.user_id_secret: choose proofs or a trusted proxy",
            ));
        }
        (n, false) if n < MIN_USER_ID_SECRET => {
            return Err(ConfigError::at(
                "session.user_id_secret",
                format!("must have at least {MIN_USER_ID_SECRET} characters"),
            ));
        }
        _ => UserIdPolicy::Signed(secret),
    })
}
