//! A BlipHQ-style notification API: JSON with a Bearer key.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::http::{classify, execute};
use super::{DeliveryOutcome, Notification, Notifier};

const SERVICE: &str = "bliphq";

/// Configuration of a BlipHQ-style endpoint.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct BlipSettings {
    /// `POST` target.
    pub url: String,
    /// Sent as `Authorization: Bearer <api_key>`.
    pub api_key: SecretString,
}

/// Sends `{"message", "project", "nickname", "tags"}` with a Bearer key.
#[derive(Debug, Clone)]
pub struct BlipNotifier {
    name: String,
    settings: BlipSettings,
    project: String,
    nickname: String,
    client: reqwest::Client,
}

/// The request body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlipMessage {
    /// Plain text.
    pub message: String,
    /// `[notify] project`.
    pub project: String,
    /// `[notify] nickname`.
    pub nickname: String,
    /// `["abtest", <event>, <variant>, ...]`.
    pub tags: Vec<String>,
}

impl BlipNotifier {
    /// A notifier named `name` posting to `settings.url` with `client`
    /// (see [`super::http::client`]).
    pub fn new(
        name: impl Into<String>,
        settings: BlipSettings,
        project: String,
        nickname: String,
        client: reqwest::Client,
    ) -> Self {
        Self {
            name: name.into(),
            settings,
            project,
            nickname,
            client,
        }
    }

    /// The body for `notification`. JSON needs no escaping beyond serde's.
    pub fn render(&self, notification: &Notification) -> BlipMessage {
        let tags: Vec<&str> = match notification {
            // The first three tags are a contract: "abtest", event, variant.
            Notification::Event {
                event,
                variant,
                goal,
                experiment,
                ..
            } => {
                let mut tags = vec!["abtest", event.as_str(), variant.as_str()];
                extend_unique(&mut tags, goal.as_deref());
                extend_unique(&mut tags, Some(experiment));
                tags
            }
            Notification::Summary { lines, .. } => {
                vec![
                    "abtest",
                    Notification::summary_event_label(lines),
                    "summary",
                ]
            }
            Notification::Test { .. } => vec!["abtest", "test"],
            Notification::Significance {
                experiment,
                goal,
                variant,
                ..
            } => {
                let mut tags = vec!["abtest", "significance", variant.as_str()];
                extend_unique(&mut tags, Some(goal));
                extend_unique(&mut tags, Some(experiment));
                tags
            }
            Notification::Lifecycle {
                experiment,
                status,
                winner,
                ..
            } => {
                let mut tags = vec!["abtest", "lifecycle", status.as_str()];
                extend_unique(&mut tags, winner.as_deref());
                extend_unique(&mut tags, Some(experiment));
                tags
            }
        };
        BlipMessage {
            message: notification.headline(),
            project: self.project.clone(),
            nickname: self.nickname.clone(),
            tags: tags.into_iter().map(str::to_owned).collect(),
        }
    }
}

fn extend_unique<'a>(tags: &mut Vec<&'a str>, tag: Option<&'a str>) {
    // A goal named "conversion" would only repeat the event tag.
    if let Some(tag) = tag.filter(|t| !tags.contains(t)) {
        tags.push(tag);
    }
}

#[async_trait::async_trait]
impl Notifier for BlipNotifier {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, notification: &Notification) -> DeliveryOutcome {
        let key = self.settings.api_key.expose_secret();
        let request = self
            .client
            .post(&self.settings.url)
            .bearer_auth(key)
            .json(&self.render(notification));
        match execute(request, SERVICE, &[key]).await {
            Ok(reply) => classify(SERVICE, &reply, &[key]),
            Err(outcome) => outcome,
        }
    }
}
