//! `POST /track_view` and `POST /track_conversion`, posted by the page's JS.

use super::body::{parse_json, read_body};
use super::visitor::{mark_counted, uncounted_reason};
use crate::configuration::Settings;
use crate::error::ApiError;
use crate::experiment::{Experiment, Experiments};
use crate::metrics::{Recorded, Uncounted};
use crate::names::Goal;
use crate::session::{UserId, VisitorSession};
use crate::state::AppState;
use crate::store::{Action, Applied, Event, Source};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

/// The query of both tracking endpoints.
#[derive(Debug, Deserialize)]
pub struct TrackQuery {
    experiment: Option<String>,
    goal: Option<String>,
    force: Option<String>,
}

/// The optional JSON body of `POST /track_conversion`.
#[derive(Debug, Default, Deserialize)]
struct ConversionBody {
    experiment: Option<String>,
    goal: Option<String>,
}

/// Records a page view of the visitor's variant.
pub async fn track_view(
    req: HttpRequest,
    query: web::Query<TrackQuery>,
    payload: web::Payload,
    state: web::Data<AppState>,
    session: VisitorSession,
) -> Result<HttpResponse, ApiError> {
    let current = state.live.current();
    let server = &current.settings.server;
    read_body(&req, payload, server.max_body_bytes, server.body_timeout()).await?;
    let experiment = find_experiment(&current.experiments, query.experiment.as_deref())?;
    track(
        &state,
        &current.settings,
        &req,
        experiment,
        query.force.as_deref(),
        Action::View,
        session,
    )
    .await
}

/// Records a conversion; the goal comes from the query or the JSON body,
/// else the experiment's first goal.
pub async fn track_conversion(
    req: HttpRequest,
    query: web::Query<TrackQuery>,
    payload: web::Payload,
    state: web::Data<AppState>,
    session: VisitorSession,
) -> Result<HttpResponse, ApiError> {
    let current = state.live.current();
    let server = &current.settings.server;
    let body = read_body(&req, payload, server.max_body_bytes, server.body_timeout()).await?;
    let body: ConversionBody = if body.iter().all(u8::is_ascii_whitespace) {
        ConversionBody::default()
    } else {
        parse_json(&body)?
    };
    let query = query.into_inner();
    let experiment = find_experiment(
        &current.experiments,
        query.experiment.or(body.experiment).as_deref(),
    )?;
    let goal = match query.goal.or(body.goal) {
        None => experiment.default_goal().clone(),
        Some(name) => experiment
            .goal(&name)
            .cloned()
            .ok_or(ApiError::UnknownGoal(name))?,
    };
    track(
        &state,
        &current.settings,
        &req,
        experiment,
        query.force.as_deref(),
        Action::Convert(goal),
        session,
    )
    .await
}

fn find_experiment<'a>(
    experiments: &'a Experiments,
    name: Option<&str>,
) -> Result<&'a Experiment, ApiError> {
    experiments
        .get(name)
        .ok_or_else(|| ApiError::UnknownExperiment(name.unwrap_or_default().to_owned()))
}

/// Records a view or conversion for the unit the session was assigned, in
/// the variant it was assigned: a browser never enrols a unit and never
/// names a variant for another unit. A proven user id the session has not
/// seen counts only when it is already a participant, in its recorded
/// variant.
async fn track(
    state: &AppState,
    settings: &Settings,
    req: &HttpRequest,
    experiment: &Experiment,
    force: Option<&str>,
    action: Action,
    mut session: VisitorSession,
) -> Result<HttpResponse, ApiError> {
    let user = UserId::from_request(req, &settings.session.user_ids)?;
    if let Some((reason, _)) = uncounted_reason(state, settings, req, experiment, force)? {
        state.metrics.uncounted(reason);
        return Ok(answer(Some(reason)));
    }
    let name = experiment.name.as_str();
    let not_assigned = || ApiError::NotAssigned(name.to_owned());
    let another_user = user
        .as_ref()
        .filter(|u| session.state().user_id.as_deref() != Some(u.as_str()));
    let (unit, variant) = match another_user {
        Some(user) => {
            let recorded = state
                .store
                .recorded_variant(name, user.as_str())
                .await
                .map_err(ApiError::store)?;
            let variant = recorded
                .and_then(|v| experiment.variant_index(&v))
                .ok_or_else(not_assigned)?;
            (user.as_str().to_owned(), variant)
        }
        None => match session
            .state()
            .assignment(name)
            .map(|a| a.variant.as_deref())
        {
            None => return Err(not_assigned()),
            // Drawn out of the traffic share: served the control, never counted.
            Some(None) => {
                state.metrics.uncounted(Uncounted::NotEnrolled);
                return Ok(answer(Some(Uncounted::NotEnrolled)));
            }
            Some(Some(variant)) => {
                let variant = experiment.variant_index(variant).ok_or_else(not_assigned)?;
                (session.state().unit().to_owned(), variant)
            }
        },
    };
    let variant = experiment.variants[variant].name.clone();
    let goal = match &action {
        Action::Convert(goal) => Some(goal.clone()),
        _ => None,
    };
    let event = Event {
        experiment: experiment.name.clone(),
        variant: variant.clone(),
        unit_id: unit,
        action,
        source: Source::Browser,
        event_id: None,
        at: crate::clock::now_secs(),
    };
    state.admit_write(req)?;
    let applied = state.writer.record(event).await.map_err(ApiError::store)?;
    let recorded = match &applied {
        Applied::Viewed { .. } => Some(Recorded::View),
        Applied::Converted { first: true } => Some(Recorded::Conversion),
        Applied::Converted { first: false } => Some(Recorded::RepeatConversion),
        // Not a participant, or one of another variant: nothing was counted.
        Applied::NotAssigned | Applied::VariantMismatch { .. } => return Err(not_assigned()),
        // A browser's view or conversion carries no event id and never
        // enrols: these do not occur for it.
        Applied::Enrolled { .. } | Applied::DuplicateId => None,
    };
    if let Some(recorded) = recorded {
        state.metrics.recorded(name, variant.as_str(), recorded);
    }
    if let Some(goal) = goal
        && another_user.is_none()
    {
        remember_goal(&mut session, name, &goal);
    }
    session.save()?;
    Ok(answer(None))
}

/// The empty 204 of both endpoints, saying whether it counted.
fn answer(uncounted: Option<Uncounted>) -> HttpResponse {
    let mut response = HttpResponse::NoContent();
    mark_counted(&mut response, uncounted);
    response.finish()
}

fn remember_goal(session: &mut VisitorSession, experiment: &str, goal: &Goal) {
    let known = session
        .state()
        .assignment(experiment)
        .is_some_and(|a| a.goals.iter().any(|g| g == goal.as_str()));
    if !known {
        session.update(|s| {
            if let Some(a) = s.assignment_mut(experiment) {
                a.goals.push(goal.as_str().to_owned());
            }
        });
    }
}
