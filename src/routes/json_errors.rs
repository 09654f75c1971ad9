//! The last line of the JSON error promise: any error answer that was not
//! made by [`crate::error::ApiError`] — actix's own (a CORS refusal, a path
//! it cannot decode, a method a service refuses) — gets the same
//! `{"error": {"code", "message"}}` body, so that a client never has to
//! parse text/plain.

use actix_web::body::{BoxBody, EitherBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, HeaderValue};
use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
use serde_json::json;

/// The middleware, for every 4xx and 5xx status.
pub fn middleware<B: 'static>() -> ErrorHandlers<B> {
    ErrorHandlers::new().default_handler(to_json)
}

fn to_json<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let is_json = res
        .headers()
        .get(CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let body = json!({"error": {"code": code(status), "message": status.canonical_reason().unwrap_or("error")}});
    let (req, mut response) = res.into_parts();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let response = response.set_body(BoxBody::new(body.to_string()));
    let res = ServiceResponse::new(req, response).map_body(|_, body| EitherBody::right(body));
    Ok(ErrorHandlerResponse::Response(res))
}

/// The machine-readable code of a status, as [`crate::error::ApiError`] names them.
fn code(status: StatusCode) -> String {
    match status {
        StatusCode::BAD_REQUEST => "bad_request".into(),
        StatusCode::NOT_FOUND => "not_found".into(),
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed".into(),
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large".into(),
        StatusCode::INTERNAL_SERVER_ERROR => "internal".into(),
        other => other
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase()
            .replace([' ', '-'], "_"),
    }
}
