//! `splitcast reload`: asks a running server to reload its configuration
//! through `POST /admin/reload`.

use super::CliError;
use crate::configuration::Settings;
use secrecy::ExposeSecret;
use std::fmt;

/// The server's answer to a reload it applied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reloaded {
    /// Experiments that kept their running definition, one line each.
    pub refused: Vec<String>,
    /// Sections whose change needs a restart, one line each.
    pub needs_restart: Vec<String>,
}

/// `reloaded`, then one line per refused change or section that needs a
/// restart.
impl fmt::Display for Reloaded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "reloaded")?;
        for line in self.refused.iter().chain(&self.needs_restart) {
            writeln!(f, "{line}")?;
        }
        Ok(())
    }
}

/// Asks the server at `url`, or at `server.host`/`server.port` of
/// `settings`, to reload, with `settings`' admin token.
pub async fn reload(settings: &Settings, url: Option<&str>) -> Result<Reloaded, CliError> {
    let (base, from) = match url {
        Some(url) => (url.to_owned(), "--url"),
        None => (
            own_address(settings)?,
            "server.host and server.port of this configuration; --url names another",
        ),
    };
    let endpoint = url::Url::parse(&base)
        .and_then(|u| u.join("/admin/reload"))
        .map_err(|e| CliError::Usage(format!("reload: --url {base:?} is not a URL: {e}")))?;
    // The server refuses an admin POST not declared as JSON (cross-site
    // requests cannot declare it without a preflight).
    let mut request = reqwest::Client::new()
        .post(endpoint.clone())
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body("{}");
    let token = settings.admin.token.expose_secret();
    if !token.is_empty() {
        request = request.bearer_auth(token);
    }
    let answer = request.send().await.map_err(|e| CliError::Unreachable {
        endpoint: endpoint.to_string(),
        from,
        // The first line repeats the URL: its causes say why.
        cause: std::error::Error::source(&e).map_or_else(|| e.to_string(), super::chain),
    })?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.unwrap_or_default();
    if !status.is_success() {
        let message = body["error"]["message"]
            .as_str()
            .unwrap_or("no message")
            .to_owned();
        return Err(CliError::ReloadRefused {
            status: status.as_u16(),
            message,
        });
    }
    let lines = |key: &str| -> Vec<String> {
        body[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|line| line.as_str().map(str::to_owned))
            .collect()
    };
    Ok(Reloaded {
        refused: lines("refused"),
        needs_restart: lines("needs_restart"),
    })
}

/// `http://<server.host>:<server.port>`, a wildcard host asked on loopback.
fn own_address(settings: &Settings) -> Result<String, CliError> {
    if settings.server.port == 0 {
        return Err(CliError::Usage(
            "reload: server.port is 0 (any free port), so the server's address is unknown; \
             pass --url"
                .to_owned(),
        ));
    }
    let host = match settings.server.host.as_str() {
        "0.0.0.0" => "127.0.0.1",
        "::" => "[::1]",
        other => other,
    };
    Ok(format!("http://{host}:{}", settings.server.port))
}
