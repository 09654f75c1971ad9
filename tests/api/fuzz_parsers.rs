//! Property tests of the parsers that see bytes from outside besides the
//! request bodies (`fuzz.rs`): Standard Webhooks signatures, the
//! `Retry-After` values notifier services answer, and `storage.url`. Each
//! property says what the parser must answer, not only that it does not
//! panic; proptest shrinks a failure to a minimal input and records it in
//! `tests/proptest-regressions/`.

use proptest::prelude::*;
use secrecy::SecretString;
use splitcast::configuration::StorageUrl;
use splitcast::notify::http::parse_retry_after;
use splitcast::standard_webhooks::{SigningKey, VerifyError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const TOLERANCE: i64 = 300;

fn key() -> SigningKey {
    use base64::Engine;
    let secret = base64::engine::general_purpose::STANDARD.encode(crate::webhook::KEY);
    SigningKey::parse(&format!("whsec_{secret}")).unwrap()
}

/// `value` as an HTTP-date (IMF-fixdate), as services send it.
fn http_date(unix: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(unix).unwrap();
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        &at.weekday().to_string()[..3],
        at.day(),
        &at.month().to_string()[..3],
        at.year(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn a_signature_verifies_the_exact_bytes_it_signed_and_nothing_else(
        id in "[!-~][ -~]{0,40}",
        ts in 0i64..4_000_000_000,
        skew in -2 * TOLERANCE..2 * TOLERANCE,
        body in prop::collection::vec(any::<u8>(), 0..200),
        flip in any::<prop::sample::Index>(),
        noise in "(v1,[A-Za-z0-9+/=]{0,50}|v2,[ -~]{0,20}|[ -~]{0,30})( [ -~]{0,20}){0,3}",
    ) {
        let key = key();
        let stamp = ts.to_string();
        let signature = key.sign(&id, ts, &body);
        let now = ts + skew;
        let verdict = key.verify((&id, &stamp, &signature), &body, now, TOLERANCE);
        match skew {
            s if s > TOLERANCE => prop_assert!(matches!(verdict, Err(VerifyError::TimestampTooOld))),
            s if s < -TOLERANCE => prop_assert!(matches!(verdict, Err(VerifyError::TimestampTooNew))),
            _ => prop_assert!(verdict.is_ok(), "{verdict:?}"),
        }
        // Among other candidates (a rotation), it still verifies.
        let rotated = format!("{noise} {signature}");
        prop_assert!(key.verify((&id, &stamp, &rotated), &body, ts, TOLERANCE).is_ok());
        // Noise alone never does (a 32-byte HMAC is not guessed by chance).
        prop_assert!(key.verify((&id, &stamp, &noise), &body, ts, TOLERANCE).is_err());
        // One bit of the body changed, or another id: no match.
        if !body.is_empty() {
            let mut changed = body.clone();
            changed[flip.index(body.len())] ^= 1;
            let verdict = key.verify((&id, &stamp, &signature), &changed, ts, TOLERANCE);
            prop_assert!(matches!(verdict, Err(VerifyError::NoMatchingSignature)));
        }
        let other = format!("{id}x");
        let verdict = key.verify((&other, &stamp, &signature), &body, ts, TOLERANCE);
        prop_assert!(matches!(verdict, Err(VerifyError::NoMatchingSignature)));
    }

    #[test]
    fn retry_after_is_the_seconds_or_the_time_until_the_date_and_noise_is_none(
        secs in 0u64..10_000_000,
        fraction in 0u32..1000,
        ahead in -100_000i64..100_000,
        noise in "[ -~]{0,40}",
    ) {
        let now = UNIX_EPOCH + Duration::from_secs(1_770_000_000);
        prop_assert_eq!(parse_retry_after(&secs.to_string(), now), Some(Duration::from_secs(secs)));
        let fractional = format!(" {secs}.{fraction:03} ");
        let parsed = parse_retry_after(&fractional, now).unwrap();
        let expected = secs as f64 + f64::from(fraction) / 1000.0;
        prop_assert!((parsed.as_secs_f64() - expected).abs() < 1e-6, "{parsed:?}");
        prop_assert_eq!(parse_retry_after(&format!("-{}", secs + 1), now), None);
        // A date in the past means now.
        let date = http_date(1_770_000_000 + ahead);
        let expected = Duration::from_secs(ahead.max(0) as u64);
        prop_assert_eq!(parse_retry_after(&date, now), Some(expected), "{}", date);
        // Anything else a service sends is no instruction: neither a number
        // nor a date (noise of this alphabet forms no asctime date).
        if noise.trim().parse::<f64>().is_err() && !noise.contains("GMT") {
            prop_assert_eq!(parse_retry_after(&noise, SystemTime::now()), None);
        }
    }

    #[test]
    fn a_storage_url_is_parsed_or_refused_naming_the_key_never_echoing_its_password(
        scheme in prop::sample::select(vec!["postgres://", "postgresql://", "sqlite:", "sqlite://", "mysql://", ""]),
        user in "[a-z%:@/]{0,8}",
        password in "[A-Za-z0-9]{6,12}",
        host in "[a-z0-9.\\[\\]:%-]{0,15}",
        rest in "[ -~]{0,30}",
    ) {
        let secret = format!("Pw{password}Zz");
        let text = format!("{scheme}{user}:{secret}@{host}{rest}");
        match StorageUrl::parse(&SecretString::from(text.clone())) {
            Ok(StorageUrl::Postgres(_)) => prop_assert!(scheme.starts_with("postgres")),
            Ok(StorageUrl::Sqlite { path, .. }) => {
                prop_assert!(scheme.starts_with("sqlite:"));
                prop_assert!(!path.is_empty());
            }
            Err(error) => {
                let message = error.to_string();
                prop_assert!(message.contains("storage.url"), "{message}");
                prop_assert!(!message.contains(&secret), "{message}");
            }
        }
    }
}
