//! `GET /get_content` and `GET /variant`.

use super::ExperimentQuery;
use super::visitor::{mark_counted, serve};
use crate::error::ApiError;
use crate::session::VisitorSession;
use crate::state::AppState;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

/// The content object of the visitor's variant, unchanged.
pub async fn get_content(
    req: HttpRequest,
    query: web::Query<ExperimentQuery>,
    state: web::Data<AppState>,
    mut session: VisitorSession,
) -> Result<HttpResponse, ApiError> {
    let current = state.live.current();
    let served = serve(
        &state,
        &current.experiments,
        &current.settings,
        &req,
        query.experiment.as_deref(),
        query.force.as_deref(),
        &mut session,
    )
    .await?;
    let variant = &served.experiment.variants[served.variant];
    let mut response = HttpResponse::Ok();
    mark_counted(&mut response, served.uncounted);
    let response = response
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((VARY, "Cookie"))
        .insert_header(("X-Experiment", served.experiment.name.as_str()))
        .insert_header(("X-Variant", variant.name.as_str()))
        .body(variant.content_json.clone());
    session.save()?;
    Ok(response)
}

/// `{"experiment": NAME, "variant": NAME}`, assigning like `/get_content`.
pub async fn variant(
    req: HttpRequest,
    query: web::Query<ExperimentQuery>,
    state: web::Data<AppState>,
    mut session: VisitorSession,
) -> Result<HttpResponse, ApiError> {
    let current = state.live.current();
    let served = serve(
        &state,
        &current.experiments,
        &current.settings,
        &req,
        query.experiment.as_deref(),
        query.force.as_deref(),
        &mut session,
    )
    .await?;
    let variant = &served.experiment.variants[served.variant];
    session.save()?;
    let mut response = HttpResponse::Ok();
    mark_counted(&mut response, served.uncounted);
    Ok(response
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((VARY, "Cookie"))
        .json(json!({"experiment": served.experiment.name, "variant": variant.name})))
}
