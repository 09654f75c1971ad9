//! What keeps another site's page from driving the admin API through a
//! visitor's browser (cross-site request forgery). A Bearer token cannot be
//! forged cross-site, but development may run without one, and a browser
//! sends a `text/plain` POST to any origin without asking first. So every
//! admin write must come from this server's own pages or an origin listed in
//! `server.cors_allowed_origins`, and a POST must say it carries JSON, which
//! a page of another origin cannot send without a CORS preflight.

use crate::error::ApiError;
use actix_web::HttpRequest;
use actix_web::http::header::{CONTENT_TYPE, HOST, ORIGIN};

/// Refuses an admin write whose `Origin` is foreign (403) or, with
/// `json_body`, whose `Content-Type` is not `application/json` (415). A
/// request without `Origin` (curl, `splitcast reload`) is not a browser's
/// cross-site request and passes the origin check.
pub fn check(req: &HttpRequest, allowed: &[String], json_body: bool) -> Result<(), ApiError> {
    if is_foreign_origin(req, allowed) {
        return Err(ApiError::ForbiddenOrigin);
    }
    if json_body && !is_json(req) {
        return Err(ApiError::UnsupportedMediaType);
    }
    Ok(())
}

/// Whether the request carries an `Origin` that is neither this server nor
/// one of `allowed`. No `Origin` (curl, a same-origin GET) is not foreign.
pub fn is_foreign_origin(req: &HttpRequest, allowed: &[String]) -> bool {
    let Some(origin) = req.headers().get(ORIGIN) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or_default();
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    !same_origin(origin, host) && !allowed.iter().any(|a| a == origin)
}

/// Whether `origin` names the host the request was sent to. The scheme is
/// not compared: behind a TLS-terminating proxy the server cannot know it.
fn same_origin(origin: &str, host: &str) -> bool {
    match origin.split_once("://") {
        Some((_, authority)) => !host.is_empty() && authority.eq_ignore_ascii_case(host),
        // `null` (a sandboxed frame, a file) or garbage.
        None => false,
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

#[cfg(test)]
mod tests {
    use super::same_origin;

    #[test]
    fn only_the_host_the_request_went_to_is_the_same_origin() {
        assert!(same_origin("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(same_origin("https://AB.example.com", "ab.example.com"));
        assert!(!same_origin("https://evil.example", "127.0.0.1:8080"));
        assert!(!same_origin("http://127.0.0.1:8081", "127.0.0.1:8080"));
        assert!(!same_origin("http://127.0.0.1", "127.0.0.1:8080"));
        assert!(!same_origin("null", "127.0.0.1:8080"));
        assert!(!same_origin("http://", ""));
    }
}
