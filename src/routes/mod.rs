//! HTTP routes, one file per resource, mounted by [`configure`].

mod body;
mod content;
mod health;
mod pages;
mod track;

use crate::error::ApiError;
use actix_web::web;
use serde::Deserialize;

pub use body::read_body;
pub use pages::static_files;

/// Mounts every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/get_content", web::get().to(content::get_content))
        .route("/variant", web::get().to(content::variant))
        .route("/track_view", web::post().to(track::track_view))
        .route("/track_conversion", web::post().to(track::track_conversion))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .route("/metrics", web::get().to(health::metrics));
    pages::configure(cfg);
}

/// `?experiment=NAME&force=VARIANT`, shared by the visitor endpoints.
#[derive(Debug, Deserialize)]
pub struct ExperimentQuery {
    /// The experiment; the default one when absent.
    pub experiment: Option<String>,
    /// A variant to preview; previews are never counted.
    pub force: Option<String>,
}

/// Maps query-string errors to a JSON 400.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default()
        .error_handler(|err, _| ApiError::BadRequest(format!("bad query string: {err}")).into())
}

/// The JSON 404/405 for anything no route matches.
pub async fn not_found(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    let known = [
        "/get_content",
        "/variant",
        "/track_view",
        "/track_conversion",
        "/healthz",
        "/readyz",
        "/metrics",
        "/results",
        "/webhook",
        "/dashboard",
    ];
    if known.contains(&req.path()) {
        Err(ApiError::MethodNotAllowed)
    } else {
        Err(ApiError::NotFound)
    }
}
