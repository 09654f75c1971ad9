//! Who may post events: the holder of `ingest.token` (`Authorization:
//! Bearer`), or a sender signing with `ingest.signing_secret` (Standard
//! Webhooks). Either suffices when both are configured.

use super::IngestError;
use crate::configuration::IngestSettings;
use crate::credentials::{bearer_is_one_of, bearer_refusal, log_refusal};
use crate::standard_webhooks::{
    DEFAULT_TOLERANCE_SECS, HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP,
};
use actix_web::http::header::HeaderMap;

/// How a request proved who sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// The ingest token.
    Token,
    /// A valid, fresh signature. The caller must still check that
    /// `delivery_id` is new: a captured request stays validly signed for
    /// the whole tolerance window.
    Signature {
        /// The `webhook-id` header.
        delivery_id: String,
    },
}

/// Refuses, before its body is read, a request that no body could make
/// authentic: without a signature header (or without a signing secret)
/// only the token can prove the sender, and a stranger must not make the
/// server read and buffer up to `ingest.max_body_bytes` first. The full
/// check is still [`authenticate`]'s, once the body is in.
pub fn precheck(settings: &IngestSettings, headers: &HeaderMap) -> Result<(), IngestError> {
    let signed = settings.signing_key().is_some() && headers.contains_key(HEADER_SIGNATURE);
    let token = settings
        .token()
        .is_some_and(|expected| bearer_is_one_of(headers, &[expected]));
    if signed || token {
        return Ok(());
    }
    let reason = match settings.token() {
        Some(expected) => bearer_refusal(headers, &[expected]).unwrap_or_default(),
        None if settings.signing_key().is_some() => "no webhook-signature header",
        None => "ingest is not configured",
    };
    log_refusal("/webhook", &reason);
    Err(IngestError::Unauthorized)
}

/// Checks the credentials of a request whose body is `body`, at `now`
/// (unix seconds). Any failure is the same 401, so a caller learns nothing
/// about which part was wrong; the reason goes to the INFO log.
pub fn authenticate(
    settings: &IngestSettings,
    headers: &HeaderMap,
    body: &[u8],
    now: i64,
) -> Result<Credential, IngestError> {
    if let Some(expected) = settings.token()
        && bearer_is_one_of(headers, &[expected])
    {
        return Ok(Credential::Token);
    }
    if let Some(key) = settings.signing_key()
        && headers.contains_key(HEADER_SIGNATURE)
    {
        let header = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
        };
        let id = header(HEADER_ID);
        let signed = (id, header(HEADER_TIMESTAMP), header(HEADER_SIGNATURE));
        return match key.verify(signed, body, now, DEFAULT_TOLERANCE_SECS) {
            Ok(()) => Ok(Credential::Signature {
                delivery_id: id.trim().to_owned(),
            }),
            Err(reason) => {
                log_refusal("/webhook", &reason);
                Err(IngestError::Unauthorized)
            }
        };
    }
    let reason = settings
        .token()
        .and_then(|expected| bearer_refusal(headers, &[expected]))
        .unwrap_or("no webhook-signature header");
    log_refusal("/webhook", &reason);
    Err(IngestError::Unauthorized)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::configuration::Settings;
    use actix_web::http::header::{HeaderName, HeaderValue};

    const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

    fn settings(ingest: &str) -> IngestSettings {
        let toml = format!(
            "[ingest]\n{ingest}\n[experiments.e]\nvariants = [{{ name = \"A\", weight = 1 }}, {{ name = \"B\", weight = 1 }}]"
        );
        Settings::from_toml(&toml).unwrap().ingest
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_token_or_a_signature_suffices_when_both_are_configured() {
        let both = settings(&format!("token = \"t0k\"\nsigning_secret = \"{SECRET}\""));
        let token = headers(&[("authorization", "bearer t0k")]);
        assert_eq!(
            authenticate(&both, &token, b"{}", 0).unwrap(),
            Credential::Token
        );
        let key = both.signing_key().unwrap();
        let signed = headers(&[
            ("authorization", "Bearer wrong"),
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", "100"),
            ("webhook-signature", &key.sign("msg_1", 100, b"{}")),
        ]);
        let delivery_id = "msg_1".to_owned();
        assert_eq!(
            authenticate(&both, &signed, b"{}", 100).unwrap(),
            Credential::Signature { delivery_id }
        );
    }

    #[test]
    fn a_wrong_or_missing_token_is_refused_and_a_token_is_not_a_signature() {
        let token_only = settings("token = \"t0k\"");
        for pairs in [
            &[][..],
            &[("authorization", "Bearer t0k2")],
            &[("authorization", "Basic t0k")],
            &[("webhook-signature", "v1,AAAA")],
        ] {
            let result = authenticate(&token_only, &headers(pairs), b"{}", 0);
            assert!(
                matches!(result, Err(IngestError::Unauthorized)),
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn only_a_request_with_the_token_or_a_signature_header_gets_its_body_read() {
        let token_only = settings("token = \"t0k\"");
        let both = settings(&format!("token = \"t0k\"\nsigning_secret = \"{SECRET}\""));
        let token = headers(&[("authorization", "Bearer t0k")]);
        let wrong = headers(&[("authorization", "Bearer nope")]);
        let signed = headers(&[("webhook-signature", "v1,AAAA")]);
        assert!(precheck(&token_only, &token).is_ok());
        assert!(precheck(&token_only, &wrong).is_err());
        assert!(precheck(&token_only, &headers(&[])).is_err());
        // A signature is only checked against the body, so it gets read...
        assert!(precheck(&both, &signed).is_ok());
        // ...but not where no signing secret could ever verify it.
        assert!(precheck(&token_only, &signed).is_err());
    }

    #[test]
    fn an_unusable_signing_secret_fails_at_load_naming_the_key_but_not_the_secret() {
        let toml = "[ingest]\nsigning_secret = \"whsec_short-secretish\"\n[experiments.e]\nvariants = [{ name = \"A\", weight = 1 }, { name = \"B\", weight = 1 }]";
        let message = Settings::from_toml(toml).unwrap_err().to_string();
        assert!(message.contains("ingest.signing_secret"), "{message}");
        assert!(!message.contains("secretish"), "{message}");
        assert!(!message.contains('\n'));
    }
}
