//! Shared HTTP plumbing: the client, one request with a capped answer, and the
//! classification every service starts from.

use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::DeliveryOutcome;
use super::guarded_dns::{GuardedResolver, PrivateAddress};
use super::markup::truncate_plain;

/// `splitcast/<version>`, sent on every request.
pub const USER_AGENT: &str = concat!("splitcast/", env!("CARGO_PKG_VERSION"));
/// Connection set-up limit; the total timeout is the caller's.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Answers are read up to this size: error texts are short and a hostile
/// endpoint must not make us buffer an unbounded body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
const MAX_DETAIL_CHARS: usize = 300;

/// A client for all notifiers: connect timeout 5 s, total `timeout`, our user
/// agent, and no redirects (a 3xx is a failure for webhooks, and following one
/// could carry a token to another host). With `guard`, host names resolve to
/// their public addresses only. The proxy variables of the environment
/// (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`) are ignored: a proxy resolves
/// the name itself, past the guard, and an inherited variable is not a
/// decision anyone made about the notifiers.
///
/// # Panics
/// Only if the TLS backend cannot start, which would make every notifier useless.
pub fn client(timeout: Duration, guard: Option<GuardedResolver>) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .user_agent(USER_AGENT)
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none());
    let builder = match guard {
        Some(resolver) => builder.dns_resolver(std::sync::Arc::new(resolver)),
        None => builder,
    };
    builder
        .build()
        .expect("reqwest client with static settings builds")
}

/// A response read in full (up to [`MAX_BODY_BYTES`]).
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, possibly cut at [`MAX_BODY_BYTES`].
    pub body: Vec<u8>,
}

impl Reply {
    /// The body parsed as JSON, if it is.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The body as one short line, for reasons.
    pub fn snippet(&self) -> String {
        one_line(&String::from_utf8_lossy(&self.body))
    }

    /// The `Retry-After` header as a wait from now.
    pub fn retry_after(&self) -> Option<Duration> {
        let value = self.headers.get(RETRY_AFTER)?.to_str().ok()?;
        parse_retry_after(value, SystemTime::now())
    }
}

/// Sends `request` and reads the answer. A transport failure is already an
/// outcome: `Retry`, or `Permanent` when the request could not even be built.
/// `secrets` are scrubbed from every reason as a second line of defence.
pub async fn execute(
    request: reqwest::RequestBuilder,
    service: &str,
    secrets: &[&str],
) -> Result<Reply, DeliveryOutcome> {
    let mut response = request
        .send()
        .await
        .map_err(|e| transport_error(service, e, secrets))?;
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_BODY_BYTES - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if body.len() >= MAX_BODY_BYTES {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => return Err(transport_error(service, e, secrets)),
        }
    }
    Ok(Reply {
        status,
        headers,
        body,
    })
}

/// Maps a reqwest error to an outcome without its URL (a Telegram URL holds the
/// bot token, a Discord URL is the credential itself).
pub fn transport_error(service: &str, error: reqwest::Error, secrets: &[&str]) -> DeliveryOutcome {
    let error = error.without_url();
    let what = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_builder() {
        "invalid request"
    } else {
        "request failed"
    };
    let mut chain = error.to_string();
    let mut refused_as_private = false;
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        refused_as_private |= cause.is::<PrivateAddress>();
        source = cause.source();
    }
    let reason = redact(&format!("{service}: {what}: {chain}"), secrets);
    // A malformed URL or header never becomes valid by waiting; a host that
    // resolves inside is a configuration matter, for the dead letters.
    if error.is_builder() || refused_as_private {
        DeliveryOutcome::Permanent { reason }
    } else {
        DeliveryOutcome::Retry {
            after: None,
            reason,
        }
    }
}

/// The classification shared by every service: 2xx delivered; 408, 429 and
/// 5xx except 501 retried with the server's `Retry-After`; 401/403 pause the
/// notifier; everything else (other 4xx, 501, unfollowed 3xx) is permanent.
pub fn classify(service: &str, reply: &Reply, secrets: &[&str]) -> DeliveryOutcome {
    let status = reply.status;
    if status.is_success() {
        return DeliveryOutcome::Delivered;
    }
    let snippet = reply.snippet();
    let mut reason = format!("{service}: HTTP {status}");
    if status.is_redirection() {
        reason.push_str(" (redirects are not followed)");
    } else if !snippet.is_empty() {
        reason = format!("{reason}: {snippet}");
    }
    outcome_for(status, reply.retry_after(), redact(&reason, secrets))
}

/// The shared status rule with a reason already written by the service.
pub fn outcome_for(status: StatusCode, after: Option<Duration>, reason: String) -> DeliveryOutcome {
    match status.as_u16() {
        200..=299 => DeliveryOutcome::Delivered,
        408 | 429 => DeliveryOutcome::Retry { after, reason },
        501 => DeliveryOutcome::Permanent { reason },
        500..=599 => DeliveryOutcome::Retry { after, reason },
        401 | 403 => DeliveryOutcome::CredentialsRejected { reason },
        _ => DeliveryOutcome::Permanent { reason },
    }
}

/// Parses a `Retry-After` value: delta-seconds (fractions accepted, since some
/// services send them) or an HTTP-date, which in the past means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).ok();
    }
    // httpdate reads the three forms RFC 9110 §5.6.7 obliges recipients to
    // accept (IMF-fixdate, RFC 850, asctime).
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Replaces each non-empty secret in `text` with `***`.
pub fn redact(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret, "***");
    }
    out
}

/// Collapses whitespace and control characters and cuts to a readable length.
pub fn one_line(text: &str) -> String {
    let flat: String = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    truncate_plain(&flat, MAX_DETAIL_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    #[test]
    fn retry_after_accepts_seconds_fractions_and_http_dates() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_700);
        assert_eq!(parse_retry_after("34", now), Some(Duration::from_secs(34)));
        assert_eq!(
            parse_retry_after(" 1.5 ", now),
            Some(Duration::from_millis(1500))
        );
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        assert_eq!(parse_retry_after(date, now), Some(Duration::from_secs(77)));
        let later = now + Duration::from_secs(1000);
        assert_eq!(parse_retry_after(date, later), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("-3", now), None);
        assert_eq!(parse_retry_after("NaN", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        for other_form in ["Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            assert_eq!(
                parse_retry_after(other_form, now),
                Some(Duration::from_secs(77))
            );
        }
        assert_eq!(
            parse_retry_after("Sun, 06 Foo 1994 08:49:37 GMT", now),
            None
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 25:49:37 GMT", now),
            None
        );
    }

    #[test]
    fn redaction_and_one_line_keep_reasons_short_and_token_free() {
        assert_eq!(redact("bot123:abc/x", &["123:abc", ""]), "bot***/x");
        assert_eq!(one_line(" a\n\tb  c "), "a b c");
        let long = one_line(&"x".repeat(1000));
        assert_eq!(long.chars().count(), MAX_DETAIL_CHARS);
        assert!(long.ends_with('…'));
    }
}
