//! Property tests (bounded fuzzing, a few seconds in CI) of everything that
//! parses client input: the cookie state, webhook bodies and signatures, and
//! the query strings and bodies of every endpoint through HTTP. Nothing may
//! panic, and nothing a client sends may be answered 5xx.

use crate::helpers::{DEMO, spawn_app_with};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use splitcast::configuration::Settings;
use splitcast::ingest::{parse_batch, resolve};
use splitcast::session::VisitorState;

fn experiments() -> splitcast::experiment::Experiments {
    let toml = format!(
        "{DEMO}\n[experiments.pricing]\nassignment = \"hash\"\ntraffic = 0.5\n\
         variants = [{{ name = \"A\", weight = 1 }}, {{ name = \"B\", weight = 1 }}]"
    );
    Settings::from_toml(&toml).unwrap().experiments
}

/// Text near the formats: pieces of valid input shuffled with noise.
fn near(pieces: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(pieces).prop_map(str::to_owned),
            any::<String>(),
            "[a-zA-Z0-9_.~:@%-]{0,12}",
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(Config { cases: 2000, ..Config::default() })]

    #[test]
    fn the_cookie_state_decoder_never_panics_and_round_trips(
        text in near(&["1", "~", ".", "-", "AAAAAAAAAAAAAAAAAAAAAA", "homepage_cta", "B"]),
        experiments in prop::collection::vec(("[a-z_]{1,20}", prop::option::of("[A-Za-z]{1,8}")), 0..20),
    ) {
        let _ = VisitorState::decode(&text);
        let mut state = VisitorState::new_visitor();
        for (experiment, variant) in &experiments {
            state.set_assignment(experiment, variant.as_deref());
        }
        prop_assert_eq!(VisitorState::decode(&state.encode()), Some(state));
    }

    #[test]
    fn the_webhook_parser_never_panics(
        body in near(&["{", "}", "[", "]", ",", ":", "\"user_id\"", "\"version\"", "\"B\"",
                       "\"event\"", "\"page_view\"", "\"goal\"", "\"id\"", "null", "1e999", "\"\\u0000\""]),
    ) {
        if let Ok(batch) = parse_batch(body.as_bytes()) {
            for item in &batch.items {
                let _ = resolve(&experiments(), item, 0);
            }
        }
    }
}

/// One request a hostile client might send.
fn request() -> impl Strategy<Value = (String, &'static str, String, Vec<u8>)> {
    let path = prop::sample::select(vec![
        "/get_content",
        "/variant",
        "/track_view",
        "/track_conversion",
        "/webhook",
        "/results",
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
        "&",
        "=",
        "%",
        "%ff",
        "+",
    ]);
    let method = prop::sample::select(vec!["GET", "POST", "HEAD", "PUT"]);
    let body = prop_oneof![
        near(&[
            "{",
            "}",
            "\"experiment\"",
            "\"goal\"",
            ":",
            "\"homepage_cta\"",
            ","
        ])
        .prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..64),
    ];
    (path, method, query, body).prop_map(|(p, m, q, b)| (format!("{p}?{q}"), m, q, b))
}

#[tokio::test]
async fn no_query_or_body_a_client_sends_is_answered_5xx() {
    let app = spawn_app_with(&format!("[ingest]\ntoken = \"fuzz\"\n{DEMO}")).await;
    let mut runner = TestRunner::new(Config {
        cases: 400,
        ..Config::default()
    });
    let strategy = request();
    for _ in 0..400 {
        let (target, method, _, body) = strategy.new_tree(&mut runner).unwrap().current();
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let Ok(url) = reqwest::Url::parse(&app.url(&target)) else {
            continue;
        };
        let response = app
            .client
            .request(method.clone(), url)
            .bearer_auth("fuzz")
            .header("X-User-Id", "fuzzer")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!(status < 500, "{method} {target}: {status}");
        if status >= 400 && method != reqwest::Method::HEAD {
            let body: serde_json::Value = response.json().await.expect("a JSON error");
            assert!(body["error"]["code"].is_string(), "{method} {target}");
        }
    }
}
