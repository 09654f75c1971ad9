//! What every handler shares.

use crate::configuration::Settings;
use crate::experiment::Experiments;
use crate::metrics::Metrics;
use crate::store::{EventWriter, Store};
use std::sync::Arc;

/// The application state behind `web::Data`.
pub struct AppState {
    /// The configured experiments.
    pub experiments: Experiments,
    /// The group-commit writer.
    pub writer: EventWriter,
    /// The store, for reads.
    pub store: Arc<dyn Store>,
    /// Prometheus metrics.
    pub metrics: Metrics,
    /// The bot user-agent list.
    pub bots: isbot::Bots,
    /// The whole configuration.
    pub settings: Settings,
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
