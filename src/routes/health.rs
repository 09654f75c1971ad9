//! `GET /healthz`, `GET /readyz` and `GET /metrics`.

use crate::credentials::{bearer_refusal, log_refusal};
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

/// Liveness: the process answers.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Readiness: the event writer is alive and a commit succeeds now. A store
/// that answers `SELECT 1` may still refuse every write (a full disk), so the
/// probe is a real commit through the writer's own queue.
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    match state.writer.probe().await {
        Ok(()) => Ok(HttpResponse::Ok().json(json!({"status": "ready"}))),
        Err(error) => {
            tracing::debug!(error = ?error, "readiness check failed");
            Err(ApiError::StoreUnavailable)
        }
    }
}

/// Prometheus text exposition. Per-variant counts are results: in
/// production, or once either token is set, they need `admin.token` or
/// `metrics.token`.
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let current = state.live.current();
    let settings = &current.settings;
    if settings.metrics_need_a_token()
        && let Some(reason) = bearer_refusal(
            req.headers(),
            &[&settings.admin.token, &settings.metrics.token],
        )
    {
        log_refusal("/metrics", &reason);
        return Err(ApiError::Unauthorized);
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render()))
}
