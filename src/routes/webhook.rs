//! `POST /webhook`: conversions and page views reported by a backend, one
//! event or a batch, authenticated by the ingest token or a Standard
//! Webhooks signature. A batch answers 202 with what became of each item (no
//! item is silently dropped), or 422 `all_rejected` with the same summary
//! when every item was refused; a single object answers with its own outcome.
//! A repeated delivery id answers 200 `{"duplicate_delivery": true}` and
//! changes nothing.

use super::body::read_body;
use crate::error::ApiError;
use crate::ingest::{
    Credential, Rejection, Resolved, Summary, authenticate, parse_batch, precheck, resolve,
};
use crate::metrics::Recorded;
use crate::state::AppState;
use crate::store::{Action, DeliveryId, Write, Written};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

/// Authenticates, parses and records a request's events and its delivery
/// id in one transaction.
pub async fn ingest(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let current = state.live.current();
    let settings = &current.settings.ingest;
    // Without credentials configured the endpoint is off, not open: anyone
    // could otherwise write the results.
    if !settings.is_enabled() {
        return Err(ApiError::IngestDisabled);
    }
    // A wrong or missing token is refused before a large body is read.
    precheck(settings, req.headers())?;
    let body = read_body(
        &req,
        payload,
        settings.max_body_bytes,
        current.settings.server.body_timeout(),
    )
    .await?;
    let now = crate::clock::now_secs();
    let delivery = match authenticate(settings, req.headers(), &body, now)? {
        Credential::Signature { delivery_id } => Some(DeliveryId::signed(&delivery_id)),
        Credential::Token => idempotency_key(&req)?,
    };
    let batch = parse_batch(&body)?;
    let mut summary = Summary::default();
    let mut events = Vec::with_capacity(batch.items.len());
    let mut indices = Vec::with_capacity(batch.items.len());
    for (index, item) in batch.items.iter().enumerate() {
        match resolve(&current.experiments, item, now) {
            Ok(Resolved::Count(event)) => {
                indices.push(index);
                events.push(event);
            }
            Ok(Resolved::Ignored(reason)) => {
                state.metrics.uncounted(reason);
                summary.ignore();
            }
            // A lone event's refusal is the answer, and consumes no id.
            Err(rejection) if batch.single => return Err(ApiError::Rejected(rejection)),
            Err(rejection) => summary.reject(index, rejection),
        }
    }
    // A request of which every event is refused is answered 4xx and must not
    // consume its delivery id: a corrected retry with the same id applies.
    let refusable = batch.single || summary.ignored == 0;
    if events.is_empty() && summary.nothing_taken() {
        return Err(ApiError::AllRejected(summary.finish()));
    }
    let labels: Vec<_> = events
        .iter()
        .map(|e| {
            let action = match e.action {
                Action::View => Recorded::WebhookView,
                _ => Recorded::WebhookConversion,
            };
            (e.experiment.clone(), e.variant.clone(), action)
        })
        .collect();
    let write = Write {
        delivery,
        events,
        refusable,
        probe: false,
    };
    // Nothing to write at all (every item ignored, no id to consume).
    let outcomes = if write.events.is_empty() && write.delivery.is_none() {
        Vec::new()
    } else {
        match state.writer.write(write).await.map_err(ApiError::store)? {
            Written::Applied(outcomes) => outcomes,
            Written::DuplicateDelivery => {
                tracing::info!("a repeated webhook delivery changed nothing");
                return Ok(HttpResponse::Ok().json(json!({"duplicate_delivery": true})));
            }
        }
    };
    for ((index, applied), (experiment, variant, action)) in
        indices.into_iter().zip(&outcomes).zip(labels)
    {
        if summary.applied(index, applied) {
            state
                .metrics
                .recorded(experiment.as_str(), variant.as_str(), action);
        }
    }
    let summary = summary.finish();
    if batch.single
        && let Some(rejected) = summary.rejected.first()
    {
        return Err(ApiError::Rejected(Rejection::new(
            rejected.code,
            rejected.message.clone(),
        )));
    }
    if summary.nothing_taken() {
        return Err(ApiError::AllRejected(summary));
    }
    Ok(HttpResponse::Accepted().json(summary))
}

/// The `Idempotency-Key` of a token-authenticated sender: 1 to 255 visible
/// ASCII characters, else the request is refused rather than applied
/// without the protection the sender asked for.
fn idempotency_key(req: &HttpRequest) -> Result<Option<DeliveryId>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| (1..=255).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            ApiError::BadRequest("Idempotency-Key must be 1 to 255 visible ASCII characters".into())
        })?;
    Ok(Some(DeliveryId::idempotency_key(key)))
}
