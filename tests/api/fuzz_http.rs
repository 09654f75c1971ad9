//! Every endpoint through HTTP, with what a hostile or broken client sends:
//! random paths among the real ones (`/results/history`, the status and
//! reload admin routes included), query strings, bodies, methods, tokens,
//! content types, origins and Standard Webhooks headers (validly signed or
//! not). Nothing may be answered 5xx, and every 4xx is the JSON error.
//!
//! The run is seeded: `SPLITCAST_FUZZ_SEED=<n>` repeats one, and a failure
//! prints its seed and the request proptest shrank it to.

use crate::helpers::{DEMO, TestApp, spawn_app_with};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

const INGEST: &str = "fuzz-ingest";
const ADMIN: &str = "fuzz-admin";

/// Text near the formats: pieces of valid input shuffled with noise.
fn near(pieces: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(pieces).prop_map(str::to_owned),
            any::<String>(),
            "[a-zA-Z0-9_.~:@%-]{0,12}",
        ],
        0..8,
    )
    .prop_map(|parts| parts.concat())
}

/// The Standard Webhooks headers a request carries: none, a valid signature
/// of its body, or noise in any of the three.
#[derive(Debug, Clone)]
enum Signing {
    None,
    Valid { id: String },
    Noise { id: String, ts: String, sig: String },
}

/// One request a hostile client might send.
#[derive(Debug, Clone)]
struct Case {
    method: &'static str,
    path: &'static str,
    query: String,
    body: Vec<u8>,
    token: Option<&'static str>,
    content_type: Option<&'static str>,
    origin: Option<&'static str>,
    signing: Signing,
}

fn case() -> impl Strategy<Value = Case> {
    let path = prop::sample::select(vec![
        "/get_content",
        "/variant",
        "/track_view",
        "/track_conversion",
        "/webhook",
        "/results",
        "/results/history",
        "/experiments",
        "/experiments/homepage_cta/status",
        "/experiments/nope/status",
        "/experiments/%ff/status",
        "/admin/reload",
        "/metrics",
        "/readyz",
        "/dashboard",
        "/",
        "/nope",
    ]);
    let query = near(&[
        "experiment=",
        "goal=",
        "force=",
        "homepage_cta",
        "B",
        "format=csv",
        "from=",
        "to=",
        "bucket=",
        "hour",
        "day",
        "1770000000",
        "&",
        "=",
        "%",
        "%ff",
        "+",
    ]);
    let method = prop::sample::select(vec!["GET", "POST", "HEAD", "PUT", "DELETE"]);
    let body = prop_oneof![
        near(&[
            "{",
            "}",
            "\"experiment\"",
            "\"goal\"",
            ":",
            "\"homepage_cta\"",
            ",",
            "\"status\"",
            "\"paused\"",
            "\"concluded\"",
            "\"running\"",
            "\"winner\"",
            "\"B\"",
            "\"reason\"",
            "\"user_id\"",
            "\"version\"",
            "[",
            "]",
        ])
        .prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..64),
    ];
    let token = prop::option::of(prop::sample::select(vec![INGEST, ADMIN, "wrong", ""]));
    let content_type = prop::option::of(prop::sample::select(vec![
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
    ]));
    let origin = prop::option::of(prop::sample::select(vec!["https://evil.example", "null"]));
    let signing = prop_oneof![
        Just(Signing::None),
        "msg_[a-zA-Z0-9]{1,12}".prop_map(|id| Signing::Valid { id }),
        (
            near(&["msg_", "a", " "]),
            near(&["1770000000", "-", "9999999999999999999", " "]),
            near(&["v1,", "v1a,", "=", " ", "AAAA", "v2,"]),
        )
            .prop_map(|(id, ts, sig)| Signing::Noise { id, ts, sig }),
    ];
    (
        path,
        method,
        query,
        body,
        token,
        content_type,
        origin,
        signing,
    )
        .prop_map(
            |(path, method, query, body, token, content_type, origin, signing)| Case {
                method,
                path,
                query,
                body,
                token,
                content_type,
                origin,
                signing,
            },
        )
}

async fn send(app: &TestApp, case: Case) -> Result<(), TestCaseError> {
    let method = reqwest::Method::from_bytes(case.method.as_bytes()).unwrap();
    let mut url = reqwest::Url::parse(&app.url(case.path)).unwrap();
    url.set_query(Some(&case.query));
    let mut request = app.client.request(method.clone(), url.clone());
    if let Some(token) = case.token {
        request = request.bearer_auth(token);
    }
    if let Some(content_type) = case.content_type {
        request = request.header("content-type", content_type);
    }
    if let Some(origin) = case.origin {
        request = request.header("origin", origin);
    }
    let (id, ts, sig) = match &case.signing {
        Signing::None => (None, None, None),
        Signing::Valid { id } => {
            let ts = crate::webhook::now();
            let sig = crate::webhook::sign(id, ts, &case.body);
            (Some(id.clone()), Some(ts.to_string()), Some(sig))
        }
        Signing::Noise { id, ts, sig } => (Some(id.clone()), Some(ts.clone()), Some(sig.clone())),
    };
    // A header value reqwest cannot send is not a request a client makes.
    for (name, value) in [
        ("webhook-id", id),
        ("webhook-timestamp", ts),
        ("webhook-signature", sig),
    ] {
        if let Some(value) = value.filter(|v| reqwest::header::HeaderValue::from_str(v).is_ok()) {
            request = request.header(name, value);
        }
    }
    let response = request
        .header("X-User-Id", "fuzzer")
        .body(case.body)
        .send()
        .await
        .map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
    let status = response.status().as_u16();
    prop_assert!(status < 500, "{method} {url}: {status}");
    if status >= 400 && method != reqwest::Method::HEAD {
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| TestCaseError::fail(format!("{method} {url}: {status} not JSON: {e}")))?;
        prop_assert!(body["error"]["code"].is_string(), "{method} {url}: {body}");
    }
    Ok(())
}

#[test]
fn no_request_a_client_sends_is_answered_5xx() {
    let seed: u64 = std::env::var("SPLITCAST_FUZZ_SEED")
        .ok()
        .map(|s| s.parse().expect("SPLITCAST_FUZZ_SEED is a number"))
        .unwrap_or_else(rand_seed);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let config = format!(
        "[ingest]\ntoken = \"{INGEST}\"\nsigning_secret = \"whsec_{}\"\n[admin]\ntoken = \"{ADMIN}\"\n{DEMO}",
        {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(crate::webhook::KEY)
        }
    );
    let app = runtime.block_on(spawn_app_with(&config));
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 600,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let outcome = runner.run(&case(), |case| runtime.block_on(send(&app, case)));
    match outcome {
        Ok(()) => {}
        Err(TestError::Fail(reason, minimal)) => {
            panic!("SPLITCAST_FUZZ_SEED={seed} reproduces this: {reason}\nshrunk to: {minimal:#?}")
        }
        Err(TestError::Abort(reason)) => panic!("SPLITCAST_FUZZ_SEED={seed}: {reason}"),
    }
}

/// A seed for this run, from the clock (printed when it fails).
fn rand_seed() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}
