//! Reading a request body with the configured limit, so that an oversized
//! body is a JSON 413 and a broken one a JSON 400.

use crate::error::ApiError;
use actix_web::web::{self, Bytes, BytesMut};
use futures_util::StreamExt;

/// Reads the whole body, refusing more than `limit` bytes (checked against
/// `Content-Length` first, then while streaming) and a body that takes longer
/// than `server.body_timeout_secs` to arrive.
pub async fn read_body(
    req: &actix_web::HttpRequest,
    payload: web::Payload,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, ApiError> {
    tokio::time::timeout(timeout, read_within(req, payload, limit))
        .await
        .map_err(|_| ApiError::RequestTimeout)?
}

async fn read_within(
    req: &actix_web::HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::BadRequest(format!("cannot read the body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses a JSON body into `T`, with a JSON 400 for anything malformed.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("malformed JSON: {e}")))
}
