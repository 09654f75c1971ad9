//! Prometheus metrics, one registry per application so that several
//! instances in one process (tests) do not mix their counts.

use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

/// Why a visitor's request was served without being counted: the `reason`
/// label of `splitcast_uncounted_requests_total`, and the
/// `X-Splitcast-Uncounted-Reason` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uncounted {
    /// `?force=VARIANT`: a preview.
    Preview,
    /// The experiment is paused: everyone sees the control.
    Paused,
    /// The experiment is concluded: everyone sees the winner.
    Concluded,
    /// Sent from a page of another origin, which cannot read the answer.
    Origin,
    /// A bot's user agent.
    Bot,
    /// A HEAD request renders no page.
    Head,
    /// Drawn out of the experiment's traffic share.
    NotEnrolled,
    /// The store failed: served the control, enrolled on a later visit.
    StoreUnavailable,
}

impl Uncounted {
    /// The label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Preview => "preview",
            Self::Paused => "paused",
            Self::Concluded => "concluded",
            Self::Origin => "origin",
            Self::Bot => "bot",
            Self::Head => "head",
            Self::NotEnrolled => "not_enrolled",
            Self::StoreUnavailable => "store_unavailable",
        }
    }
}

/// What a recorded event did: the `action` label of `splitcast_events_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new participant.
    Enroll,
    /// A page view.
    View,
    /// A unit's first conversion on a goal.
    Conversion,
    /// A later conversion of the same unit and goal.
    RepeatConversion,
    /// A view reported by a backend that counted.
    WebhookView,
    /// A conversion reported by a backend that counted.
    WebhookConversion,
}

impl Recorded {
    /// The label.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enroll => "enroll",
            Self::View => "view",
            Self::Conversion => "conversion",
            Self::RepeatConversion => "repeat_conversion",
            Self::WebhookView => "webhook_view",
            Self::WebhookConversion => "webhook_conversion",
        }
    }
}

/// The application's counters.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Events recorded, by experiment, variant and action.
    pub events: IntCounterVec,
    /// Requests from bots, served the control and not counted.
    pub bot_requests: IntCounter,
    /// Requests served but not counted, by reason (bot, preview, paused, concluded, not_enrolled).
    pub uncounted: IntCounterVec,
    /// Notifications by notifier and outcome (delivered, retried, dead_lettered, paused).
    pub notifications: IntCounterVec,
    /// Visitor writes refused by the per-client limit, by endpoint (never
    /// by client: the label set must stay bounded).
    pub rate_limited: IntCounterVec,
    /// Requests whose handler is running: what a SIGTERM waits for.
    pub in_flight: IntGauge,
}

/// Counts one request as in flight until dropped, however it ends.
pub struct InFlight(IntGauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Metrics {
    /// Counts a request served without being counted.
    pub fn uncounted(&self, reason: Uncounted) {
        self.uncounted.with_label_values(&[reason.as_str()]).inc();
    }

    /// Counts what an event of `experiment`'s `variant` did.
    pub fn recorded(&self, experiment: &str, variant: &str, what: Recorded) {
        self.events
            .with_label_values(&[experiment, variant, what.as_str()])
            .inc();
    }

    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let registry =
            Registry::new_custom(Some("splitcast".into()), None).expect("a static prefix is valid");
        let events = IntCounterVec::new(
            Opts::new(
                "events_total",
                "Events recorded, by experiment, variant and action",
            ),
            &["experiment", "variant", "action"],
        )
        .expect("valid metric");
        let bot_requests = IntCounter::new(
            "bot_requests_total",
            "Requests from bots (served, never counted)",
        )
        .expect("valid metric");
        let uncounted = IntCounterVec::new(
            Opts::new(
                "uncounted_requests_total",
                "Requests served but not counted, by reason",
            ),
            &["reason"],
        )
        .expect("valid metric");
        let notifications = IntCounterVec::new(
            Opts::new(
                "notifications_total",
                "Notification attempts by notifier and outcome",
            ),
            &["notifier", "outcome"],
        )
        .expect("valid metric");
        let rate_limited = IntCounterVec::new(
            Opts::new(
                "rate_limited_requests_total",
                "Visitor writes refused (429) by the per-client limit, by endpoint",
            ),
            &["endpoint"],
        )
        .expect("valid metric");
        let in_flight = IntGauge::new(
            "http_requests_in_flight",
            "Requests being handled (a graceful stop waits for them)",
        )
        .expect("valid metric");
        for collector in [
            Box::new(in_flight.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(events.clone()),
            Box::new(bot_requests.clone()),
            Box::new(uncounted.clone()),
            Box::new(notifications.clone()),
            Box::new(rate_limited.clone()),
        ] {
            registry.register(collector).expect("unique metric names");
        }
        Self {
            registry,
            events,
            bot_requests,
            uncounted,
            notifications,
            rate_limited,
            in_flight,
        }
    }

    /// Marks a request in flight for as long as the guard lives.
    pub fn start_request(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buffer = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut buffer)
            .expect("encoding into a Vec cannot fail");
        String::from_utf8(buffer).expect("the text format is UTF-8")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
