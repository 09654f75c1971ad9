//! `GET /healthz`, `GET /readyz` and `GET /metrics`.

use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use serde_json::json;

/// Liveness: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness: the store answers.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({"status": "ready"}))),
        Err(error) => {
            tracing::warn!(error = ?error, "readiness check failed");
            Err(ApiError::Unavailable("storage is unreachable".into()))
        }
    }
}

/// Prometheus text exposition.
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
