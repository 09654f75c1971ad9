//! What every handler shares.

use crate::client_limit::{ClientLimiter, Limited, Rate};
use crate::live::{Lifecycle, Live, Reloader};
use crate::metrics::Metrics;
use crate::store::{EventWriter, Store};
use std::sync::Arc;

/// The application state behind `web::Data`.
pub struct AppState {
    /// The configuration in force (experiments with their run-time
    /// statuses); take [`Live::current`] once per request.
    pub live: Arc<Live>,
    /// Run-time status changes.
    pub lifecycle: Lifecycle,
    /// Configuration reloads.
    pub reloader: Arc<Reloader>,
    /// The group-commit writer.
    pub writer: EventWriter,
    /// The store, for reads.
    pub store: Arc<dyn Store>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The bot user-agent list.
    pub bots: isbot::Bots,
    /// The per-client token buckets of visitors' writes.
    pub client_limit: ClientLimiter,
}

impl AppState {
    /// Whether the user agent of a request is a known bot.
    pub fn is_bot(&self, req: &actix_web::HttpRequest) -> bool {
        req.headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|ua| ua.to_str().ok())
            .is_some_and(|ua| self.bots.is_bot(ua))
    }

    /// Takes a token for a visitor request about to write (an enrolment, a
    /// tracked event) when `[limits]` is on; a refusal is counted in
    /// `/metrics` by endpoint.
    pub fn admit_write(&self, req: &actix_web::HttpRequest) -> Result<(), Limited> {
        let current = self.live.current();
        let limits = &current.settings.limits;
        if !limits.is_on(current.settings.environment) {
            return Ok(());
        }
        let peer = req.peer_addr().map(|a| a.ip());
        let client = self
            .client_limit
            .client_of(req.headers(), peer, limits.proxy_header());
        let rate = Rate {
            per_second: limits.writes_per_second,
            burst: limits.burst,
        };
        self.client_limit.take(client, rate).inspect_err(|_| {
            // Only the visitor routes call this: a bounded label set.
            let endpoint = req.path().trim_start_matches('/');
            self.metrics
                .rate_limited
                .with_label_values(&[endpoint])
                .inc();
        })
    }
}
