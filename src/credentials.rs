//! Bearer tokens, shared by every endpoint that takes one: the scheme is
//! matched case-insensitively (RFC 7235) and tokens are compared in constant
//! time, their length included.

use actix_web::http::header::{AUTHORIZATION, HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Compares digests rather than the strings, so that neither the contents
/// nor the length of the token leak through timing.
pub fn same_secret(given: &str, expected: &str) -> bool {
    let given = Sha256::digest(given.as_bytes());
    let expected = Sha256::digest(expected.as_bytes());
    bool::from(given.ct_eq(&expected))
}

/// Whether the request's Bearer token is one of `accepted` (empty ones never match).
pub fn bearer_is_one_of(headers: &HeaderMap, accepted: &[&SecretString]) -> bool {
    let Some(given) = bearer(headers) else {
        return false;
    };
    // Every candidate is compared, so timing does not tell which one matched.
    accepted
        .iter()
        .filter(|secret| !secret.expose_secret().is_empty())
        .fold(false, |found, secret| {
            same_secret(given, secret.expose_secret()) | found
        })
}

/// Why a request's Bearer token is not one of `accepted`, for the operator's
/// log (the client only ever gets the same 401): `None` when it is. The
/// reason never quotes what was sent or expected.
pub fn bearer_refusal(headers: &HeaderMap, accepted: &[&SecretString]) -> Option<&'static str> {
    if bearer_is_one_of(headers, accepted) {
        return None;
    }
    Some(match headers.get(AUTHORIZATION) {
        None => "no Authorization header",
        Some(_) if bearer(headers).is_none() => "the Authorization header is not `Bearer <token>`",
        Some(_) => "the Bearer token is not the configured one",
    })
}

/// Logs a refused credential at INFO: the answer stays a bare 401, which
/// must not help an attacker, but the operator needs to know what was wrong.
pub fn log_refusal(endpoint: &str, reason: &dyn std::fmt::Display) {
    tracing::info!(endpoint, %reason, "401: credentials refused");
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn the_scheme_is_case_insensitive_and_the_token_exact() {
        let token = SecretString::from("s3cret-token");
        let empty = SecretString::from("");
        for ok in [
            "Bearer s3cret-token",
            "bearer s3cret-token",
            "BEARER  s3cret-token ",
        ] {
            assert!(bearer_is_one_of(&with(ok), &[&empty, &token]), "{ok}");
        }
        for refused in [
            "Bearer s3cret-toke",
            "Basic s3cret-token",
            "Bearer",
            "Bearer ",
        ] {
            assert!(!bearer_is_one_of(&with(refused), &[&token]), "{refused}");
        }
        assert!(!bearer_is_one_of(&with("Bearer "), &[&empty]));
        assert!(!bearer_is_one_of(&HeaderMap::new(), &[&token]));
    }
}
