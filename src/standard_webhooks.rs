//! Standard Webhooks v1 (HMAC-SHA256) signing and verification.
//!
//! Used both to sign outgoing webhooks and to verify incoming ones, so it
//! depends on nothing else in the crate.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Header carrying the message id (stable across retries; idempotency key).
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the attempt's unix seconds.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying space-separated `v1,<base64>` signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// Prefix of a serialized secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The reference libraries' tolerance: five minutes either way.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;
/// The spec asks for 24 to 64 random bytes; shorter keys are refused.
pub const MIN_KEY_BYTES: usize = 24;

/// A secret that cannot be used. Never contains the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Nothing after the prefix.
    #[error("webhook secret is empty")]
    Empty,
    /// The part after `whsec_` is not standard base64.
    #[error("webhook secret is not valid base64 after the `whsec_` prefix")]
    InvalidBase64,
    /// The decoded key is too short to be safe.
    #[error("webhook secret decodes to {len} bytes; at least {MIN_KEY_BYTES} are required")]
    TooShort {
        /// Decoded length.
        len: usize,
    },
}

/// Why an incoming webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The configured secret is unusable.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// A required header is missing or empty.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// `webhook-timestamp` is not an integer.
    #[error("webhook-timestamp is not a unix timestamp")]
    InvalidTimestamp,
    /// Older than the tolerance: possibly a replay.
    #[error("webhook-timestamp is too old")]
    TimestampTooOld,
    /// Newer than the tolerance: clock skew or forgery.
    #[error("webhook-timestamp is too far in the future")]
    TimestampTooNew,
    /// No `v1` signature matched.
    #[error("no matching webhook signature")]
    NoMatchingSignature,
}

/// A decoded HMAC key, parsed once from `whsec_<base64>`.
#[derive(Clone)]
pub struct SigningKey(SecretSlice<u8>);

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKey([REDACTED])")
    }
}

impl SigningKey {
    /// Decodes `whsec_<base64>` (the prefix is optional, as in the reference libraries).
    pub fn parse(secret: &str) -> Result<Self, SecretError> {
        let secret = secret.trim();
        let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
        if encoded.is_empty() {
            return Err(SecretError::Empty);
        }
        // Line breaks and spaces (a wrapped `openssl rand -base64`) are layout.
        let compact: String = encoded.split_ascii_whitespace().collect();
        let bytes = STANDARD
            .decode(compact)
            .map_err(|_| SecretError::InvalidBase64)?;
        if bytes.len() < MIN_KEY_BYTES {
            return Err(SecretError::TooShort { len: bytes.len() });
        }
        Ok(Self(bytes.into()))
    }

    fn mac(&self, msg_id: &str, timestamp: &str, body: &[u8]) -> [u8; 32] {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.0.expose_secret())
            .expect("HMAC accepts keys of any length");
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }

    /// `v1,<base64 HMAC-SHA256 of "msg_id.timestamp.body">` over the exact body bytes.
    pub fn sign(&self, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
        let mac = self.mac(msg_id, &timestamp.to_string(), body);
        format!("v1,{}", STANDARD.encode(mac))
    }

    /// Checks the headers `(webhook-id, webhook-timestamp, webhook-signature)`
    /// against `body`: the timestamp within `tolerance_secs` of `now`, and any
    /// one of the space-separated `v1` signatures matching (so rotation works).
    pub fn verify(
        &self,
        (msg_id, timestamp, signatures): (&str, &str, &str),
        body: &[u8],
        now: i64,
        tolerance_secs: i64,
    ) -> Result<(), VerifyError> {
        for (value, name) in [
            (msg_id, HEADER_ID),
            (timestamp, HEADER_TIMESTAMP),
            (signatures, HEADER_SIGNATURE),
        ] {
            if value.trim().is_empty() {
                return Err(VerifyError::MissingHeader(name));
            }
        }
        let ts: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| VerifyError::InvalidTimestamp)?;
        if now.saturating_sub(ts) > tolerance_secs {
            return Err(VerifyError::TimestampTooOld);
        }
        if ts.saturating_sub(now) > tolerance_secs {
            return Err(VerifyError::TimestampTooNew);
        }
        let expected = self.mac(msg_id, timestamp.trim(), body);
        // Every candidate is compared, in constant time, so timing reveals neither
        // which one matched nor how much of it.
        let mut matched = subtle::Choice::from(0);
        for candidate in signatures.split_whitespace() {
            if let Some(("v1", encoded)) = candidate.split_once(',')
                && let Ok(sig) = STANDARD.decode(encoded)
            {
                matched |= sig.as_slice().ct_eq(&expected);
            }
        }
        if bool::from(matched) {
            Ok(())
        } else {
            Err(VerifyError::NoMatchingSignature)
        }
    }
}

/// Signs with a `whsec_` secret; see [`SigningKey::sign`].
pub fn sign(
    secret: &SecretString,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, SecretError> {
    Ok(SigningKey::parse(secret.expose_secret())?.sign(msg_id, timestamp, body))
}

/// Verifies with a `whsec_` secret; see [`SigningKey::verify`].
pub fn verify(
    secret: &SecretString,
    headers: (&str, &str, &str),
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    SigningKey::parse(secret.expose_secret())?.verify(headers, body, now, tolerance_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const ID: &str = "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk";
    const TS: i64 = 1_649_367_553;
    const BODY: &[u8] = br#"{"email":"test@example.com","username":"test_user"}"#;
    const SIG: &str = "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=";

    fn secret() -> SecretString {
        SecretString::from(SECRET)
    }

    #[test]
    fn signing_matches_the_standard_webhooks_test_vector() {
        assert_eq!(sign(&secret(), ID, TS, BODY).unwrap(), SIG);
        assert_eq!(
            verify(&secret(), (ID, "1649367553", SIG), BODY, TS, 300),
            Ok(())
        );
    }

    #[test]
    fn verification_accepts_any_of_several_signatures_during_rotation() {
        let header = format!("v1,AAAA v1a,xyz {SIG}");
        assert_eq!(
            verify(&secret(), (ID, "1649367553", &header), BODY, TS, 300),
            Ok(())
        );
    }

    #[test]
    fn verification_rejects_tampering_and_stale_or_future_timestamps() {
        let key = SigningKey::parse(SECRET).unwrap();
        let check = |id, ts, sig, body: &[u8], now| key.verify((id, ts, sig), body, now, 300);
        let e = Err(VerifyError::NoMatchingSignature);
        assert_eq!(check(ID, "1649367553", SIG, b"{}", TS), e);
        assert_eq!(check("msg_other", "1649367553", SIG, BODY, TS), e);
        assert_eq!(check(ID, "1649367553", "v2,abc", BODY, TS), e);
        assert_eq!(
            check(ID, "1649367553", SIG, BODY, TS + 301),
            Err(VerifyError::TimestampTooOld)
        );
        assert_eq!(
            check(ID, "1649367553", SIG, BODY, TS - 301),
            Err(VerifyError::TimestampTooNew)
        );
        assert_eq!(
            check(ID, "16493x", SIG, BODY, TS),
            Err(VerifyError::InvalidTimestamp)
        );
        assert_eq!(
            check("", "1", SIG, BODY, TS),
            Err(VerifyError::MissingHeader(HEADER_ID))
        );
    }

    #[test]
    fn bad_secrets_are_errors_that_never_print_the_secret() {
        let bad = "whsec_not*base64!!secretish";
        let err = SigningKey::parse(bad).unwrap_err();
        assert_eq!(err, SecretError::InvalidBase64);
        assert!(!format!("{err} {err:?}").contains("secretish"));
        assert_eq!(SigningKey::parse("whsec_").unwrap_err(), SecretError::Empty);
        let short = SigningKey::parse("whsec_AAAA").unwrap_err();
        assert_eq!(short, SecretError::TooShort { len: 3 });
        let key = SigningKey::parse(SECRET).unwrap();
        assert_eq!(format!("{key:?}"), "SigningKey([REDACTED])");
    }
}
