//! The `X-User-Id` a browser claims, believed only as the configuration says:
//! with a proof the site's backend made (`X-User-Id-Signature`, the hex
//! HMAC-SHA256 of the id under `session.user_id_secret`, the pattern of
//! Intercom's identity verification), from a trusted proxy, or as sent in
//! development. Anything else is refused, so that no browser can count under
//! a user id it cannot prove.

use super::SessionError;
use crate::configuration::UserIdPolicy;
use actix_web::HttpRequest;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

/// A user id (`X-User-Id`), checked at the edge: 1 to 128 visible ASCII
/// characters, no quotes or backslashes, and proven as the policy asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserId(String);

impl UserId {
    /// The header name.
    pub const HEADER: &'static str = "X-User-Id";
    /// The header carrying the id's proof.
    pub const SIGNATURE_HEADER: &'static str = "X-User-Id-Signature";

    /// Checks the form of a user id (not its proof).
    pub fn parse(value: &str) -> Result<Self, SessionError> {
        let ok = (1..=128).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\');
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(SessionError::BadUserId(
                "user id must be 1 to 128 visible ASCII characters without quotes or backslashes",
            ))
        }
    }

    /// The request's `X-User-Id`, if it has one the policy believes; a
    /// header it does not believe is an error, never silently ignored, so
    /// that a site whose proofs are wrong hears of it.
    pub fn from_request(
        req: &HttpRequest,
        policy: &UserIdPolicy,
    ) -> Result<Option<Self>, SessionError> {
        let Some(value) = req.headers().get(Self::HEADER) else {
            return Ok(None);
        };
        let text = value
            .to_str()
            .map_err(|_| SessionError::BadUserId("X-User-Id is not ASCII"))?;
        let id = Self::parse(text)?;
        match policy {
            UserIdPolicy::Trusted | UserIdPolicy::Unproven => Ok(Some(id)),
            UserIdPolicy::Refused => Err(SessionError::UnprovenUserId(
                "X-User-Id is not accepted: this server needs session.user_id_secret \
                 (proofs in X-User-Id-Signature) or session.trust_user_id_header",
            )),
            UserIdPolicy::Signed(secret) => {
                let signature = req
                    .headers()
                    .get(Self::SIGNATURE_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .ok_or(SessionError::UnprovenUserId(
                        "X-User-Id needs X-User-Id-Signature: the hex HMAC-SHA256 of the id \
                         under session.user_id_secret",
                    ))?;
                if proves(secret.expose_secret(), &id.0, signature) {
                    Ok(Some(id))
                } else {
                    Err(SessionError::UnprovenUserId(
                        "X-User-Id-Signature does not prove X-User-Id",
                    ))
                }
            }
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `signature` (hex) is the HMAC-SHA256 of `id` under `secret`,
/// compared in constant time.
fn proves(secret: &str, id: &str, signature: &str) -> bool {
    let Ok(bytes) = hex::decode(signature.trim()) else {
        return false;
    };
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.verify_slice(&bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The proof a backend makes, computed here the way README shows it.
    fn proof(secret: &str, id: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(id.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    const SECRET: &str = "a-user-id-secret-of-at-least-32-characters";

    #[test]
    fn a_proof_is_the_hex_hmac_of_the_id_under_the_secret() {
        // RFC 4231-style check against a value computed with Python's hmac:
        // hmac.new(b"key", b"The quick brown fox jumps over the lazy dog", "sha256").hexdigest()
        assert_eq!(
            proof("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        let good = proof(SECRET, "customer-42");
        assert!(proves(SECRET, "customer-42", &good));
        assert!(proves(SECRET, "customer-42", &good.to_uppercase()));
        assert!(!proves(SECRET, "customer-43", &good));
        assert!(!proves(
            "another-secret-of-at-least-32-chars!",
            "customer-42",
            &good
        ));
        assert!(!proves(SECRET, "customer-42", &good[..62]));
        assert!(!proves(SECRET, "customer-42", "not hex"));
        assert!(!proves(SECRET, "customer-42", ""));
    }
}
