//! `storage.url`, parsed once at load so that `check-config` refuses exactly
//! what `serve` would, and printed without any password it carries.

use super::ConfigError;
use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// SQLite's commit durability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Synchronous {
    /// fsync at every commit (the default).
    Full,
    /// Survives the process being killed, not the machine losing power.
    Normal,
}

impl Synchronous {
    /// The PRAGMA value.
    pub fn pragma(self) -> &'static str {
        match self {
            Self::Full => "FULL",
            Self::Normal => "NORMAL",
        }
    }
}

/// Where the events are stored.
#[derive(Debug, Clone)]
pub enum StorageUrl {
    /// An embedded SQLite file.
    Sqlite {
        /// The file (created with its folder at start).
        path: String,
        /// Commit durability.
        synchronous: Synchronous,
    },
    /// A PostgreSQL server; the URL may carry a password.
    Postgres(SecretString),
}

const KEY: &str = "storage.url";

impl StorageUrl {
    /// Parses `sqlite:PATH[?synchronous=full|normal]` or
    /// `postgres[ql]://[user[:password]@]host[:port]/database[?options]`.
    pub fn parse(url: &SecretString) -> Result<Self, ConfigError> {
        let text = url.expose_secret();
        if let Some(rest) = text.strip_prefix("sqlite:") {
            return parse_sqlite(rest.trim_start_matches("//"));
        }
        if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
            return Err(ConfigError::at(
                KEY,
                "must start with sqlite: or postgres://",
            ));
        }
        // The url crate's messages never repeat the input, so no password leaks.
        let parsed = Url::parse(text)
            .map_err(|e| ConfigError::at(KEY, format!("not a valid PostgreSQL URL: {e}")))?;
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(ConfigError::at(KEY, "a PostgreSQL URL must name a host"));
        }
        Ok(Self::Postgres(url.clone()))
    }
}

fn parse_sqlite(rest: &str) -> Result<StorageUrl, ConfigError> {
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let synchronous = match query {
        "" | "synchronous=full" => Synchronous::Full,
        "synchronous=normal" => Synchronous::Normal,
        _ => {
            return Err(ConfigError::at(
                KEY,
                "the only SQLite option is ?synchronous=full (default) or ?synchronous=normal",
            ));
        }
    };
    if path.is_empty() || path.contains(":memory:") {
        return Err(ConfigError::at(
            KEY,
            "an SQLite URL must name a file (events must survive a restart)",
        ));
    }
    Ok(StorageUrl::Sqlite {
        path: path.to_owned(),
        synchronous,
    })
}

/// Query keys whose values are secrets: `password`, `sslpassword`, and
/// anything named like a password, secret, token or key.
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["pass", "secret", "token", "key"]
        .iter()
        .any(|word| key.contains(word))
}

/// The URL with every password replaced, wherever it sits: the userinfo and
/// secret-named query parameters. Unparseable text is hidden whole.
pub fn redacted(url: &SecretString) -> String {
    let text = url.expose_secret();
    if text.starts_with("sqlite:") {
        return text.to_owned();
    }
    let Ok(mut parsed) = Url::parse(text) else {
        return "[redacted: not a valid URL]".to_owned();
    };
    if parsed.password().is_some() {
        let _ = parsed.set_password(Some("REDACTED"));
    }
    if parsed.query().is_some() {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_key(&k) {
                    "REDACTED".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(text: &str) -> SecretString {
        SecretString::from(text.to_owned())
    }

    #[test]
    fn every_password_in_a_url_is_hidden_and_the_rest_kept() {
        for (url, shown) in [
            (
                "postgres://app:hunter2@db.internal:5432/ab",
                "postgres://app:REDACTED@db.internal:5432/ab",
            ),
            (
                "postgres://db.example/app?password=hunter2&sslmode=require",
                "postgres://db.example/app?password=REDACTED&sslmode=require",
            ),
            (
                "postgresql://u:p%40ss@h/d?sslpassword=hunter2&api_token=hunter2",
                "postgresql://u:REDACTED@h/d?sslpassword=REDACTED&api_token=REDACTED",
            ),
            ("sqlite://data/splitcast.db", "sqlite://data/splitcast.db"),
        ] {
            let out = redacted(&secret(url));
            assert_eq!(out, shown);
            assert!(!out.contains("hunter2"));
        }
    }

    #[test]
    fn check_time_refuses_what_serve_would() {
        for (url, says) in [
            ("mysql://db/app", "must start with sqlite: or postgres://"),
            (
                "postgres://db.example:notaport/app",
                "not a valid PostgreSQL URL",
            ),
            ("postgres:///app", "must name a host"),
            ("sqlite://", "must name a file"),
            ("sqlite::memory:", "must name a file"),
            ("sqlite://x.db?cache=shared", "synchronous"),
        ] {
            let message = StorageUrl::parse(&secret(url)).unwrap_err().to_string();
            assert!(
                message.contains("storage.url") && message.contains(says),
                "{url}: {message}"
            );
        }
        assert!(matches!(
            StorageUrl::parse(&secret("sqlite:data/x.db?synchronous=normal")).unwrap(),
            StorageUrl::Sqlite {
                synchronous: Synchronous::Normal,
                ..
            }
        ));
        assert!(matches!(
            StorageUrl::parse(&secret("postgres://u:p@localhost:5432/db")).unwrap(),
            StorageUrl::Postgres(_)
        ));
    }
}
