//! Prometheus metrics, one registry per application so that several
//! instances in one process (tests) do not mix their counts.

use prometheus::{Encoder, IntCounter, IntCounterVec, IntGauge, Opts, Registry, TextEncoder};

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
