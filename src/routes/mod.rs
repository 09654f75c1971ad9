//! HTTP routes, one file per resource, mounted by [`configure`].

mod admin_guard;
mod body;
mod content;
mod experiments;
mod health;
mod history;
pub mod json_errors;
mod pages;
mod results;
pub mod security_headers;
mod track;
mod visitor;
mod webhook;

use crate::error::ApiError;
use actix_web::web;
use serde::Deserialize;

pub use body::read_body;
pub use pages::static_files;

/// Mounts every route.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let resource =
        |path: &str| web::resource(path.to_owned()).default_service(web::to(method_not_allowed));
    // Every GET route answers HEAD too (actix sends the headers without the body).
    macro_rules! get {
        ($path:literal, $handler:expr) => {
            resource($path)
                .route(web::get().to($handler))
                .route(web::head().to($handler))
        };
    }
    cfg.service(get!("/get_content", content::get_content))
        .service(get!("/variant", content::variant))
        .service(resource("/track_view").route(web::post().to(track::track_view)))
        .service(resource("/track_conversion").route(web::post().to(track::track_conversion)))
        .service(resource("/webhook").route(web::post().to(webhook::ingest)))
        .service(get!("/healthz", health::healthz))
        .service(get!("/readyz", health::readyz))
        .service(get!("/metrics", health::metrics))
        .service(get!("/results", results::results))
        .service(get!("/results/history", history::history))
        .service(get!("/dashboard", pages::dashboard))
        .service(get!("/experiments", experiments::list))
        .service(
            resource("/experiments/{name}/status")
                .route(web::post().to(experiments::set_status))
                .route(web::delete().to(experiments::clear_status)),
        )
        .service(resource("/admin/reload").route(web::post().to(experiments::reload)));
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

/// The JSON 404 for anything no route matches.
pub async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::NotFound)
}

/// The JSON 405 for a known path with another method.
pub async fn method_not_allowed() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::MethodNotAllowed)
}
