//! The visitor-facing flow shared by `GET /get_content` and `GET /variant`:
//! previews, paused and concluded experiments, bots, traffic, stickiness, and
//! the durable enrolment of new participants.

use crate::assignment::{Decision, decide};
use crate::configuration::Settings;
use crate::error::ApiError;
use crate::experiment::{Experiment, Experiments};
use crate::metrics::{Recorded, Uncounted};
use crate::session::{UserId, VisitorSession};
use crate::state::AppState;
use crate::store::{Action, Applied, Event, Source};

/// Which variant a request is served, and whether it counts.
pub struct Served<'a> {
    /// The experiment.
    pub experiment: &'a Experiment,
    /// Index of the variant served.
    pub variant: usize,
    /// Why the request was not counted, if it was not (the reason label of
    /// `splitcast_uncounted_requests_total`).
    pub uncounted: Option<Uncounted>,
}

/// Tells the caller whether its request counted: `X-Splitcast-Counted:
/// true|false` and, when false, `X-Splitcast-Uncounted-Reason`. A page (or a
/// person trying splitcast with curl) otherwise cannot tell a bot's or a
/// preview's answer from a counted one.
pub fn mark_counted(response: &mut actix_web::HttpResponseBuilder, uncounted: Option<Uncounted>) {
    response.insert_header(("X-Splitcast-Counted", uncounted.map_or("true", |_| "false")));
    if let Some(reason) = uncounted {
        response.insert_header(("X-Splitcast-Uncounted-Reason", reason.as_str()));
    }
}

/// Why a request is served without being counted, if it is not counted.
pub fn uncounted_reason(
    state: &AppState,
    settings: &Settings,
    req: &actix_web::HttpRequest,
    experiment: &Experiment,
    force: Option<&str>,
) -> Result<Option<(Uncounted, usize)>, ApiError> {
    match whoever_asks(settings, req, experiment, force)? {
        Some(reason) => Ok(Some(reason)),
        None => Ok(bot(state, req, experiment)),
    }
}

/// Served uncounted whoever the client is: a preview, an experiment not
/// running, or a request from another site's page — the browser sends that
/// with the visitor's cookies but hides the answer from the page, so the
/// visitor never sees the variant and must not be enrolled or counted.
fn whoever_asks(
    settings: &Settings,
    req: &actix_web::HttpRequest,
    experiment: &Experiment,
    force: Option<&str>,
) -> Result<Option<(Uncounted, usize)>, ApiError> {
    if let Some(reason) = not_counting(experiment, force)? {
        return Ok(Some(reason));
    }
    let foreign = super::admin_guard::is_foreign_origin(req, &settings.server.cors_allowed_origins);
    Ok(foreign.then_some((Uncounted::Origin, experiment.control)))
}

/// A preview, or an experiment not running.
fn not_counting(
    experiment: &Experiment,
    force: Option<&str>,
) -> Result<Option<(Uncounted, usize)>, ApiError> {
    if let Some(force) = force {
        let index = experiment
            .variant_index(force)
            .ok_or_else(|| ApiError::UnknownVariant(force.to_owned()))?;
        return Ok(Some((Uncounted::Preview, index)));
    }
    if let Some(fixed) = experiment.fixed_variant() {
        let reason = match experiment.status {
            crate::experiment::Status::Paused => Uncounted::Paused,
            _ => Uncounted::Concluded,
        };
        return Ok(Some((reason, fixed)));
    }
    Ok(None)
}

/// A bot is served the control, never counted.
fn bot(
    state: &AppState,
    req: &actix_web::HttpRequest,
    experiment: &Experiment,
) -> Option<(Uncounted, usize)> {
    state.is_bot(req).then(|| {
        state.metrics.bot_requests.inc();
        (Uncounted::Bot, experiment.control)
    })
}

/// Resolves the variant for a visitor, assigning and enrolling when needed.
/// A user id the session has not seen is a new unit: the assignments the
/// cookie holds were made for the unit before it, so it is decided afresh
/// (by the hash, or the weighted draw) exactly as a new visitor is, and a
/// unit already on record keeps its variant.
pub async fn serve<'a>(
    state: &AppState,
    experiments: &'a Experiments,
    settings: &Settings,
    req: &actix_web::HttpRequest,
    experiment_name: Option<&str>,
    force: Option<&str>,
    session: &mut VisitorSession,
) -> Result<Served<'a>, ApiError> {
    let experiment = experiments
        .get(experiment_name)
        .ok_or_else(|| ApiError::UnknownExperiment(experiment_name.unwrap_or_default().into()))?;
    let user = UserId::from_request(req, &settings.session.user_ids)?;
    let known = |name: &str| experiments.get(Some(name)).is_some();
    if session
        .state()
        .assignments
        .iter()
        .any(|a| !known(&a.experiment))
    {
        session.update(|s| s.forget_unknown(known));
    }
    if let Some((reason, variant)) = whoever_asks(settings, req, experiment, force)? {
        return Ok(uncounted(state, experiment, variant, reason));
    }
    if let Some(user) = &user
        && session.state().user_id.as_deref() != Some(user.as_str())
    {
        session.update(|s| s.switch_user(user.as_str()));
    }
    let name = experiment.name.as_str();
    let kept = session
        .state()
        .assignment(name)
        .and_then(|a| match &a.variant {
            None => Some(Decision::NotEnrolled),
            Some(v) => experiment.variant_index(v).map(Decision::Enrolled),
        });
    if let Some(kept) = kept {
        return Ok(served(state, experiment, kept));
    }
    let unit = session.state().unit().to_owned();
    let decision = decide(experiment, &unit);
    // Checked only before an enrolment: a visitor whose cookie holds an
    // assignment was a counted browser already, and the user-agent list is
    // the most expensive check of a returning visitor's request.
    if let Some((reason, variant)) = bot(state, req, experiment) {
        return Ok(uncounted(state, experiment, variant, reason));
    }
    if req.method() == actix_web::http::Method::HEAD {
        // A HEAD request renders no page, so it enrols nobody.
        return Ok(uncounted(
            state,
            experiment,
            experiment.control,
            Uncounted::Head,
        ));
    }
    let Decision::Enrolled(index) = decision else {
        session.update(|s| s.set_assignment(name, None));
        return Ok(served(state, experiment, decision));
    };
    state.admit_write(req)?;
    let event = Event {
        experiment: experiment.name.clone(),
        variant: experiment.variants[index].name.clone(),
        unit_id: unit,
        action: Action::Enroll,
        source: Source::Browser,
        event_id: None,
        at: crate::clock::now_secs(),
    };
    let applied = match state.writer.record(event).await {
        Ok(applied) => applied,
        Err(error) => {
            // The page must work without the store: the control's content,
            // uncounted, and no assignment kept, so the visitor is enrolled
            // on a later visit once the store is back.
            tracing::debug!(error = ?error, "serving the control uncounted: the store failed");
            return Ok(uncounted(
                state,
                experiment,
                experiment.control,
                Uncounted::StoreUnavailable,
            ));
        }
    };
    // A unit already enrolled elsewhere (another device, another instance,
    // a backend's event) keeps its variant.
    let (index, new) = match applied {
        Applied::Enrolled { variant, new } => {
            (experiment.variant_index(&variant).unwrap_or(index), new)
        }
        _ => (index, false),
    };
    let variant_name = experiment.variants[index].name.as_str();
    if new {
        state.metrics.recorded(name, variant_name, Recorded::Enroll);
    }
    session.update(|s| s.set_assignment(name, Some(variant_name)));
    Ok(Served {
        experiment,
        variant: index,
        uncounted: None,
    })
}

/// Served `variant`, not counted for `reason` (and counted as such in `/metrics`).
fn uncounted<'a>(
    state: &AppState,
    experiment: &'a Experiment,
    variant: usize,
    reason: Uncounted,
) -> Served<'a> {
    state.metrics.uncounted(reason);
    Served {
        experiment,
        variant,
        uncounted: Some(reason),
    }
}

fn served<'a>(state: &AppState, experiment: &'a Experiment, decision: Decision) -> Served<'a> {
    match decision {
        Decision::Enrolled(variant) => Served {
            experiment,
            variant,
            uncounted: None,
        },
        Decision::NotEnrolled => uncounted(
            state,
            experiment,
            experiment.control,
            Uncounted::NotEnrolled,
        ),
    }
}
