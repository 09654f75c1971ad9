//! The admin API of the experiments' run-time lifecycle:
//! `GET /experiments`, `POST` and `DELETE /experiments/{name}/status`, and
//! `POST /admin/reload`. Every one needs the admin token; the writes also
//! refuse a foreign `Origin` and a POST not declared as JSON (see
//! [`super::admin_guard`]).

use super::admin_guard;
use super::body::{parse_json, read_body};
use super::results::authorize;
use crate::error::ApiError;
use crate::live::Change;
use crate::state::AppState;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

/// The largest status-change body: a status, a winner and a reason.
const MAX_CHANGE_BYTES: usize = 4096;

/// `{"status": "...", "winner": "B", "reason": "..."}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    status: String,
    winner: Option<String>,
    reason: Option<String>,
}

/// Every experiment's effective state.
pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    let current = state.live.current();
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(json!({"experiments": current.states()})))
}

/// Sets an experiment's status at run time, for every instance.
pub async fn set_status(
    req: HttpRequest,
    name: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    let current = state.live.current();
    admin_guard::check(&req, &current.settings.server.cors_allowed_origins, true)?;
    let timeout = current.settings.server.body_timeout();
    let body = read_body(&req, payload, MAX_CHANGE_BYTES, timeout).await?;
    let experiment = current
        .experiments
        .get(Some(name.as_str()))
        .ok_or_else(|| ApiError::UnknownExperiment(name.to_string()))?;
    let body: ChangeBody = parse_json(&body)?;
    let change = Change::parse(
        experiment,
        &body.status,
        body.winner.as_deref(),
        body.reason,
    )?;
    let (state_now, changed) = state
        .lifecycle
        .set_status(&name, change, crate::clock::now_millis())
        .await?;
    Ok(answer(state_now, changed))
}

/// Returns an experiment to its configured status, for every instance.
pub async fn clear_status(
    req: HttpRequest,
    name: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    let current = state.live.current();
    admin_guard::check(&req, &current.settings.server.cors_allowed_origins, false)?;
    let (state_now, changed) = state
        .lifecycle
        .clear_status(&name, crate::clock::now_millis())
        .await?;
    Ok(answer(state_now, changed))
}

/// The experiment's state, and whether the request changed it.
fn answer(experiment: crate::live::ExperimentState, changed: bool) -> HttpResponse {
    let mut body = serde_json::to_value(experiment).expect("a state always serialises");
    body["changed"] = json!(changed);
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(body)
}

/// Reloads the configuration file, as SIGHUP does, and answers what it did.
pub async fn reload(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    let current = state.live.current();
    admin_guard::check(&req, &current.settings.server.cors_allowed_origins, true)?;
    let outcome = state.reloader.reload().await?;
    Ok(HttpResponse::Ok().json(json!({
        "reloaded": true,
        "refused": outcome.refused,
        "needs_restart": outcome.needs_restart,
        "notifiers_restarted": outcome.notifiers_restarted,
    })))
}
