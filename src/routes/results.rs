//! `GET /results` (JSON or CSV), behind the admin token.

use crate::credentials::{bearer_refusal, log_refusal};
use crate::error::ApiError;
use crate::experiment::Analysis;
use crate::results::Context;
use crate::state::AppState;
use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use std::collections::HashMap;

/// `?experiment=NAME` narrows the report to one experiment; `?format=csv`
/// answers it as CSV (`json`, the default, as JSON).
#[derive(Debug, Deserialize)]
pub struct ResultsQuery {
    experiment: Option<String>,
    format: Option<String>,
}

/// What `?format=` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
}

impl Format {
    fn parse(format: Option<&str>) -> Result<Self, ApiError> {
        match format {
            None | Some("json") => Ok(Self::Json),
            Some("csv") => Ok(Self::Csv),
            Some(other) => Err(ApiError::BadRequest(format!(
                "unknown format {}: use json or csv",
                crate::echo::echo(other)
            ))),
        }
    }
}

/// The results of every experiment (or one), per goal and variant.
pub async fn results(
    req: HttpRequest,
    query: web::Query<ResultsQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    authorize(&req, &state)?;
    let current = state.live.current();
    let format = Format::parse(query.format.as_deref())?;
    let experiments: Vec<_> = match query.experiment.as_deref() {
        None => current.experiments.iter().collect(),
        Some(name) => vec![
            current
                .experiments
                .get(Some(name))
                .ok_or_else(|| ApiError::UnknownExperiment(name.to_owned()))?,
        ],
    };
    let counts = crate::report_counts::read(state.store.as_ref())
        .await
        .map_err(ApiError::store)?;
    let mut context = Context {
        min_sample: current.settings.notify.min_sample_per_variant,
        started_at: HashMap::new(),
        now: crate::clock::now_secs(),
    };
    // Only a fixed-horizon plan has a time left to estimate; sparing the
    // others the lookup keeps /results to one query for them.
    for experiment in experiments
        .iter()
        .filter(|e| matches!(e.analysis, Analysis::Fixed { .. }))
    {
        let name = experiment.name.as_str();
        if let Some(first) = state
            .store
            .first_participant_at(name)
            .await
            .map_err(ApiError::store)?
        {
            context.started_at.insert(name.to_owned(), first);
        }
    }
    let report = crate::results::build(experiments.into_iter(), counts, &context);
    let mut response = HttpResponse::Ok();
    response.insert_header((CACHE_CONTROL, "no-store"));
    Ok(match format {
        Format::Json => response.json(report),
        Format::Csv => response
            .content_type("text/csv; charset=utf-8")
            .body(crate::results_csv::render(&report).map_err(ApiError::internal)?),
    })
}

/// Checks `Authorization: Bearer <admin.token>`, for every admin endpoint.
/// Without a configured token (development only) they are open.
pub(super) fn authorize(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let current = state.live.current();
    let admin = &current.settings.admin;
    if !admin.is_configured() {
        return Ok(());
    }
    match bearer_refusal(req.headers(), &[&admin.token]) {
        None => Ok(()),
        Some(reason) => {
            log_refusal(req.path(), &reason);
            Err(ApiError::Unauthorized)
        }
    }
}
