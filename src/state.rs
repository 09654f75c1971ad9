//! What every handler shares.

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
}

impl AppState {
    /// Whether the user agent of a request is a known bot.
    pub fn is_bot(&self, req: &actix_web::HttpRequest) -> bool {
        req.headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|ua| ua.to_str().ok())
            .is_some_and(|ua| self.bots.is_bot(ua))
    }
}
