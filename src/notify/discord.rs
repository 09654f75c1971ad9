//! Discord "execute webhook" with `?wait=true`, so success means the message exists.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::chat_text::{Markup, render};
use super::http::{Reply, execute, outcome_for, redact};
use super::markup::{escape_markdown, truncate_markdown};
use super::{DeliveryOutcome, Notification, Notifier};

const SERVICE: &str = "discord";
/// The longest pause a success's rate-limit headers can impose: a bucket
/// resets within seconds, and a wrong header must not silence a chat.
const MAX_PRE_WAIT: Duration = Duration::from_secs(60);
/// Discord's limit on `content`, in characters.
pub const MAX_CONTENT_CHARS: usize = 2000;

/// Configuration of a Discord webhook.
#[derive(Debug, Clone, Deserialize)]
pub struct DiscordSettings {
    /// `https://discord.com/api/webhooks/<id>/<token>`: the URL is the credential.
    pub webhook_url: SecretString,
}

/// Posts markdown messages through one webhook. `Debug` shows no URL.
#[derive(Debug, Clone)]
pub struct DiscordNotifier {
    name: String,
    settings: DiscordSettings,
    nickname: String,
    client: reqwest::Client,
}

#[derive(Deserialize)]
struct RateLimited {
    retry_after: Option<f64>,
    #[serde(default)]
    global: bool,
}

impl DiscordNotifier {
    /// A notifier named `name`, posting as `nickname`, using `client`
    /// (see [`super::http::client`]).
    pub fn new(
        name: impl Into<String>,
        settings: DiscordSettings,
        nickname: String,
        client: reqwest::Client,
    ) -> Self {
        Self {
            name: name.into(),
            settings,
            nickname,
            client,
        }
    }

    /// The markdown `content` for `notification`, escaped and cut to [`MAX_CONTENT_CHARS`].
    pub fn render(&self, notification: &Notification) -> String {
        let md = escape_markdown;
        let markup = Markup {
            escape: md,
            bold: |s| format!("**{s}**"),
            code: str::to_owned,
        };
        let text = render(notification, &markup);
        truncate_markdown(&text, MAX_CONTENT_CHARS)
    }
}

/// The webhook URL with `wait=true` set, keeping any other query (`thread_id`).
fn with_wait(raw: &str) -> Option<reqwest::Url> {
    let mut url = reqwest::Url::parse(raw).ok()?;
    let keep: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "wait")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(keep)
        .append_pair("wait", "true");
    Some(url)
}

/// The webhook token: the last path segment of the URL.
fn token_of(raw: &str) -> &str {
    let path = raw.split(['?', '#']).next().unwrap_or(raw);
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// The wait Discord asks for before the next request when a success spent
/// the webhook's bucket (`X-RateLimit-Remaining: 0`): its
/// `X-RateLimit-Reset-After`, in seconds with decimals, capped at
/// [`MAX_PRE_WAIT`]. Waiting it out avoids the 429 the next send would get,
/// and 429s count against the IP's invalid-request limit.
fn budget_spent(reply: &Reply) -> Option<Duration> {
    let header = |name: &str| reply.headers.get(name)?.to_str().ok().map(str::trim);
    let remaining: u64 = header("x-ratelimit-remaining")?.parse().ok()?;
    if remaining > 0 {
        return None;
    }
    let seconds: f64 = header("x-ratelimit-reset-after")?.parse().ok()?;
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|wait| !wait.is_zero())
        .map(|wait| wait.min(MAX_PRE_WAIT))
}

fn classify(reply: &Reply, secrets: &[&str]) -> DeliveryOutcome {
    let status = reply.status;
    if status.is_success() {
        return match budget_spent(reply) {
            Some(wait) => DeliveryOutcome::DeliveredThenWait { wait },
            None => DeliveryOutcome::Delivered,
        };
    }
    let mut reason = format!("{SERVICE}: HTTP {status}: {}", reply.snippet());
    match status.as_u16() {
        429 => {
            let body: Option<RateLimited> = reply.json();
            let from_body = body
                .as_ref()
                .and_then(|b| b.retry_after)
                .and_then(|s| Duration::try_from_secs_f64(s).ok());
            if body.is_some_and(|b| b.global) {
                reason.push_str(" (global rate limit)");
            }
            DeliveryOutcome::Retry {
                after: from_body.max(reply.retry_after()),
                reason: redact(&reason, secrets),
            }
        }
        // Discord: "If a webhook returns a 404 status you should not attempt to use it again".
        401 | 403 | 404 => DeliveryOutcome::CredentialsRejected {
            reason: redact(&reason, secrets),
        },
        _ => outcome_for(status, reply.retry_after(), redact(&reason, secrets)),
    }
}

#[async_trait::async_trait]
impl Notifier for DiscordNotifier {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, notification: &Notification) -> DeliveryOutcome {
        let raw = self.settings.webhook_url.expose_secret();
        // A very short "token" would redact unrelated text; the full URL still is.
        let token = Some(token_of(raw)).filter(|t| t.len() >= 8).unwrap_or("");
        let secrets = [raw, token];
        let Some(url) = with_wait(raw) else {
            return DeliveryOutcome::CredentialsRejected {
                reason: format!("{SERVICE}: webhook_url is not a valid URL"),
            };
        };
        let mut body = json!({
            "content": self.render(notification),
            "allowed_mentions": {"parse": []},
        });
        // An empty username is a 400 from Discord; leaving it out keeps the webhook's own.
        if !self.nickname.is_empty() {
            body["username"] = json!(self.nickname);
        }
        let request = self.client.post(url).json(&body);
        match execute(request, SERVICE, &secrets).await {
            Ok(reply) => classify(&reply, &secrets),
            Err(outcome) => outcome,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_is_appended_to_any_existing_query() {
        let plain = with_wait("https://d.example/api/webhooks/1/tok").unwrap();
        assert_eq!(
            plain.as_str(),
            "https://d.example/api/webhooks/1/tok?wait=true"
        );
        let query = with_wait("https://d.example/api/webhooks/1/tok?thread_id=9&wait=false");
        assert_eq!(
            query.unwrap().as_str(),
            "https://d.example/api/webhooks/1/tok?thread_id=9&wait=true"
        );
        assert!(with_wait("not a url").is_none());
    }

    fn success_with(headers: &[(&'static str, &'static str)]) -> DeliveryOutcome {
        let mut reply = Reply {
            status: reqwest::StatusCode::OK,
            headers: Default::default(),
            body: b"{}".to_vec(),
        };
        for (name, value) in headers {
            reply.headers.insert(*name, value.parse().unwrap());
        }
        classify(&reply, &[])
    }

    #[test]
    fn a_success_that_spends_the_bucket_asks_for_its_reset() {
        let spent = [
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", "1.25"),
        ];
        assert_eq!(
            success_with(&spent),
            DeliveryOutcome::DeliveredThenWait {
                wait: Duration::from_millis(1250)
            }
        );
        let left = [
            ("x-ratelimit-remaining", "3"),
            ("x-ratelimit-reset-after", "1.25"),
        ];
        assert_eq!(success_with(&left), DeliveryOutcome::Delivered);
        assert_eq!(success_with(&[]), DeliveryOutcome::Delivered);
        let garbage = [
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", "soon"),
        ];
        assert_eq!(success_with(&garbage), DeliveryOutcome::Delivered);
        let huge = [
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset-after", "86400"),
        ];
        assert_eq!(
            success_with(&huge),
            DeliveryOutcome::DeliveredThenWait { wait: MAX_PRE_WAIT }
        );
    }

    #[test]
    fn the_token_is_the_last_path_segment() {
        assert_eq!(token_of("https://d.example/api/webhooks/1/tok?x=1"), "tok");
        assert_eq!(token_of("https://d.example/api/webhooks/1/tok/"), "tok");
    }
}
