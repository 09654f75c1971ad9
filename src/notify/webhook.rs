//! Generic JSON webhook signed per Standard Webhooks.

use reqwest::header::CONTENT_TYPE;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::http::{classify, execute};
use super::notification::TEST_TEXT;
use super::{DeliveryOutcome, Notification, Notifier};
use crate::standard_webhooks::{
    HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, SecretError, SigningKey,
};

const SERVICE: &str = "webhook";

/// Configuration of a signed webhook endpoint.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct WebhookSettings {
    /// `POST` target.
    pub url: String,
    /// `whsec_<base64>` shared with the receiver.
    pub secret: SecretString,
}

/// Posts `{"type", "timestamp", "data"}` with `webhook-*` signature headers.
#[derive(Debug, Clone)]
pub struct WebhookNotifier {
    name: String,
    url: String,
    key: SigningKey,
    client: reqwest::Client,
}

impl WebhookNotifier {
    /// A notifier named `name` using `client` (see [`super::http::client`]).
    /// Fails when the secret is not a usable `whsec_` secret, so that a bad
    /// config is caught at start-up rather than at the first event.
    pub fn new(
        name: impl Into<String>,
        settings: WebhookSettings,
        client: reqwest::Client,
    ) -> Result<Self, SecretError> {
        Ok(Self {
            name: name.into(),
            key: SigningKey::parse(settings.secret.expose_secret())?,
            url: settings.url,
            client,
        })
    }

    /// `abtest.conversion`, `abtest.page_view`, `abtest.summary`, `abtest.test`,
    /// `abtest.significance` or `abtest.lifecycle`.
    pub fn event_type(notification: &Notification) -> &'static str {
        match notification {
            Notification::Event { event, .. } => match event {
                super::EventKind::Conversion => "abtest.conversion",
                super::EventKind::PageView => "abtest.page_view",
            },
            Notification::Summary { .. } => "abtest.summary",
            Notification::Test { .. } => "abtest.test",
            Notification::Significance { .. } => "abtest.significance",
            Notification::Lifecycle { .. } => "abtest.lifecycle",
        }
    }

    /// The JSON payload. `timestamp` is when the thing happened (the event, the
    /// end of the summary window), or `now` when there is no such time.
    pub fn payload(notification: &Notification, now: i64) -> Value {
        let (at, data) = match notification {
            Notification::Event {
                event,
                experiment,
                variant,
                goal,
                unit_count,
                occurred_at,
                ..
            } => (
                *occurred_at,
                json!({
                    "experiment": experiment,
                    "variant": variant,
                    "goal": goal,
                    "event": event,
                    "unit_count": unit_count,
                    "occurred_at": occurred_at,
                }),
            ),
            Notification::Summary {
                reason,
                since,
                until,
                lines,
                ..
            } => {
                let rendered: Vec<Value> = lines
                    .iter()
                    .map(|l| {
                        json!({
                            "experiment": l.experiment,
                            "event": l.event,
                            "goal": l.goal,
                            "counts": l.counts,
                            "total": l.total(),
                        })
                    })
                    .collect();
                let counts = lines.first().map_or(json!({}), |l| json!(l.counts));
                let data = json!({
                    "reason": reason,
                    "since": since,
                    "until": until,
                    "lines": rendered,
                    "counts": counts,
                });
                (*until, data)
            }
            Notification::Test { .. } => (now, json!({ "message": TEST_TEXT })),
            Notification::Significance {
                experiment,
                goal,
                variant,
                control,
                text,
                p_value,
                significant,
                ..
            } => (
                now,
                json!({
                    "experiment": experiment,
                    "goal": goal,
                    "variant": variant,
                    "control": control,
                    "text": text,
                    "p_value": p_value,
                    "significant": significant,
                }),
            ),
            Notification::Lifecycle {
                experiment,
                status,
                winner,
                reason,
                source,
                text,
                changed_at,
                ..
            } => (
                changed_at / 1000,
                json!({
                    "experiment": experiment,
                    "status": status,
                    "winner": winner,
                    "reason": reason,
                    "source": source,
                    "text": text,
                }),
            ),
        };
        json!({
            "type": Self::event_type(notification),
            "timestamp": rfc3339(at),
            "data": data,
        })
    }
}

#[async_trait::async_trait]
impl Notifier for WebhookNotifier {
    fn name(&self) -> &str {
        &self.name
    }

    async fn send(&self, notification: &Notification) -> DeliveryOutcome {
        let now = crate::clock::now_secs();
        let body = match serde_json::to_vec(&Self::payload(notification, now)) {
            Ok(body) => body,
            Err(e) => {
                return DeliveryOutcome::Permanent {
                    reason: format!("{SERVICE}: cannot serialize payload: {e}"),
                };
            }
        };
        let id = notification.id();
        // The signature covers these exact bytes, so they are sent as-is.
        let request = self
            .client
            .post(&self.url)
            .header(CONTENT_TYPE, "application/json")
            .header(HEADER_ID, id)
            .header(HEADER_TIMESTAMP, now.to_string())
            .header(HEADER_SIGNATURE, self.key.sign(id, now, &body))
            .body(body);
        let reply = match execute(request, SERVICE, &[]).await {
            Ok(reply) => reply,
            Err(outcome) => return outcome,
        };
        if reply.status.as_u16() == 410 {
            // Standard Webhooks: 410 Gone means the receiver wants no more deliveries.
            return DeliveryOutcome::CredentialsRejected {
                reason: format!("{SERVICE}: HTTP 410 Gone: {}", reply.snippet()),
            };
        }
        classify(SERVICE, &reply, &[])
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds) of unix seconds.
fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|at| {
            at.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod rfc3339_tests {
    use super::rfc3339;

    #[test]
    fn rfc3339_formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_649_367_553), "2022-04-07T21:39:13Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }
}
