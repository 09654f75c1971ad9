//! Wire tests of the notifier clients against wiremock servers that answer
//! like the real services. Shared helpers live here; one module per service.

mod bliphq;
mod discord;
mod secrets;
mod telegram;
mod webhook;

use std::time::Duration;

use splitcast::notify::{EventKind, Notification, SummaryLine, SummaryReason};
use wiremock::{MockServer, Request};

/// A bot token in Telegram's real shape.
pub const BOT_TOKEN: &str = "123456789:AAHsEcReT-tOkEn_0123456789abcdefghij";
/// The secret half of a Discord webhook URL.
pub const DISCORD_TOKEN: &str = "dIsCoRd-SeCrEt_tOkEn-0123456789abcdefghijklmnop";
/// Variant name with HTML and markdown specials, as a forged or buggy name would be.
pub const HOSTILE: &str = "<b>&x";

/// A client with a generous timeout for normal answers.
pub fn client() -> reqwest::Client {
    splitcast::notify::http::client(Duration::from_secs(5), None)
}

/// A client whose 200 ms timeout a delayed mock answer exceeds.
pub fn impatient_client() -> reqwest::Client {
    splitcast::notify::http::client(Duration::from_millis(200), None)
}

/// A delay well past [`impatient_client`]'s timeout.
pub const HANG: Duration = Duration::from_secs(2);

/// A conversion event.
pub fn conversion(experiment: &str, variant: &str, goal: Option<&str>) -> Notification {
    Notification::Event {
        id: "evt_0001".into(),
        event: EventKind::Conversion,
        experiment: experiment.into(),
        variant: variant.into(),
        goal: goal.map(Into::into),
        unit_count: 1,
        occurred_at: 1_649_367_553,
    }
}

/// One summary line.
pub fn line(experiment: &str, event: EventKind, counts: &[(&str, u64)]) -> SummaryLine {
    SummaryLine {
        experiment: experiment.into(),
        event,
        goal: None,
        counts: counts.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect(),
    }
}

/// A digest with the given lines.
pub fn digest(lines: Vec<SummaryLine>) -> Notification {
    Notification::Summary {
        id: "sum_0001".into(),
        reason: SummaryReason::Digest,
        since: 1_649_367_500,
        until: 1_649_367_560,
        lines,
    }
}

/// A significance notification carrying free text.
pub fn significance(text: &str) -> Notification {
    Notification::Significance {
        id: "sig_0001".into(),
        experiment: "homepage_cta".into(),
        goal: "conversion".into(),
        variant: "B".into(),
        control: "A".into(),
        text: text.into(),
        p_value: 0.0577,
        significant: false,
    }
}

/// Every request the server received, in order.
/// A lifecycle change whose free-text reason carries markup specials.
pub fn lifecycle(reason: &str) -> Notification {
    Notification::Lifecycle {
        id: "life_0001".into(),
        experiment: "homepage_cta".into(),
        status: "concluded".into(),
        winner: Some("B".into()),
        reason: Some(reason.into()),
        source: "override".into(),
        text: format!("homepage_cta concluded: B ships — {reason}"),
        changed_at: 1_649_367_560_250,
    }
}

pub async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

/// The one request the server received, as JSON.
pub async fn only_json(server: &MockServer) -> serde_json::Value {
    let all = requests(server).await;
    assert_eq!(all.len(), 1, "expected exactly one request");
    all[0].body_json().expect("JSON body")
}

/// A request header as text.
pub fn header<'r>(request: &'r Request, name: &str) -> &'r str {
    request
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("missing header {name}"))
}

/// A loopback address where nothing listens, for connection errors.
pub fn closed_port_base() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Asserts that `text` uses only our tags, balanced, and only whole entities.
fn assert_well_formed_html(text: &str) {
    let mut open = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['<', '&']) {
        rest = &rest[i..];
        if rest.starts_with('&') {
            let entity = ["&amp;", "&lt;", "&gt;", "&quot;"]
                .into_iter()
                .find(|e| rest.starts_with(e))
                .unwrap_or_else(|| panic!("broken entity at {:?}", &rest[..rest.len().min(8)]));
            rest = &rest[entity.len()..];
        } else {
            let end = rest.find('>').expect("unterminated tag");
            let tag = &rest[1..end];
            match tag.strip_prefix('/') {
                Some(name) => assert_eq!(open.pop(), Some(name.to_owned()), "unbalanced {tag}"),
                None => {
                    assert!(["b", "code"].contains(&tag), "unexpected tag {tag}");
                    open.push(tag.to_owned());
                }
            }
            rest = &rest[end + 1..];
        }
    }
    assert!(open.is_empty(), "unclosed tags {open:?}");
}
