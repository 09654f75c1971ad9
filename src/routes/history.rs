//! `GET /results/history`: results over time, behind the admin token.

use super::results::authorize;
use crate::error::ApiError;
use crate::state::AppState;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

/// `?experiment=NAME&goal=G`: the default experiment and its default goal
/// when absent.
#[derive(Debug, Deserialize)]
pub struct HistoryQuery {
    experiment: Option<String>,
    goal: Option<String>,
}

/// Every recorded point of one experiment on one goal, oldest first.
pub async fn history(
    req: HttpRequest,
    query: web::Query<HistoryQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    let current = state.live.current();
    let experiment = current
        .experiments
        .get(query.experiment.as_deref())
        .ok_or_else(|| ApiError::UnknownExperiment(query.experiment.clone().unwrap_or_default()))?;
    let goal = match query.goal.as_deref() {
        None => experiment.default_goal(),
        Some(name) => experiment
            .goal(name)
            .ok_or_else(|| ApiError::UnknownGoal(name.to_owned()))?,
    };
    let points = state
        .store
        .history(experiment.name.as_str())
        .await
        .map_err(ApiError::store)?;
    let history = crate::history::report::build(
        experiment,
        goal,
        &points,
        current.settings.notify.min_sample_per_variant,
    );
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(history))
}
