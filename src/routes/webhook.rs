//! `POST /webhook`: conversions and page views reported by a backend, one
//! event or a batch, authenticated by the ingest token or a Standard
//! Webhooks signature. Once authenticated and well-formed the answer is 202
//! with what became of each item; no item is silently dropped.

use super::body::read_body;
use crate::error::ApiError;
use crate::ingest::{Credential, Resolved, Summary, authenticate, parse_batch, resolve};
use crate::state::AppState;
use crate::store::Action;
use actix_web::{HttpRequest, HttpResponse, web};

/// Authenticates, parses and records a batch.
pub async fn ingest(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let settings = &state.settings.ingest;
    // Without credentials configured the endpoint is off, not open: anyone
    // could otherwise write the results.
    if !settings.is_enabled() {
        return Err(ApiError::NotFound);
    }
    let body = read_body(&req, payload, settings.max_body_bytes).await?;
    let now = crate::clock::now_secs();
    let delivery = match authenticate(settings, req.headers(), &body, now)? {
        Credential::Signature { delivery_id } => Some(delivery_id),
        _ => None,
    };
    let seen = match &delivery {
        Some(id) => state.store.delivery_seen(id).await,
        None => Ok(false),
    };
    if seen.map_err(ApiError::internal)? {
        tracing::warn!("refused a replayed webhook delivery");
        return Err(ApiError::Unauthorized);
    }
    let items = parse_batch(&body)?;
    let mut summary = Summary::default();
    let mut events = Vec::with_capacity(items.len());
    let mut indices = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        match resolve(&state.experiments, item, now) {
            Ok(Resolved::Count(event)) => {
                indices.push(index);
                events.push(event);
            }
            Ok(Resolved::Ignored(reason)) => {
                state.metrics.uncounted.with_label_values(&[reason]).inc();
                summary.ignore();
            }
            Err(rejection) => summary.reject(index, rejection),
        }
    }
    let labels: Vec<_> = events
        .iter()
        .map(|e| {
            let action = match e.action {
                Action::View => "webhook_view",
                _ => "webhook_conversion",
            };
            (e.experiment.clone(), e.variant.clone(), action)
        })
        .collect();
    let outcomes = if events.is_empty() {
        Vec::new()
    } else {
        state
            .writer
            .record_all(events)
            .await
            .map_err(ApiError::internal)?
    };
    for ((index, applied), (experiment, variant, action)) in
        indices.into_iter().zip(&outcomes).zip(labels)
    {
        if summary.applied(index, applied) {
            state
                .metrics
                .events
                .with_label_values(&[experiment.as_str(), variant.as_str(), action])
                .inc();
        }
    }
    // Consumed only once its events are durable: a delivery that failed may
    // be retried with the same id; events it shares with a retry are deduplicated.
    if let Some(id) = &delivery {
        state
            .store
            .remember_delivery(id, now)
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(HttpResponse::Accepted().json(summary.finish()))
}
