//! Property tests (bounded fuzzing, a few seconds in CI) of the cookie state
//! and webhook bodies; `fuzz_parsers.rs` has signatures, `Retry-After` and
//! storage URLs, `fuzz_http.rs` every endpoint through HTTP. Each property
//! says what the parser must answer; proptest shrinks a failure.

use crate::helpers::DEMO;
use proptest::prelude::*;
use proptest::test_runner::Config;
use splitcast::configuration::Settings;
use splitcast::ingest::{RejectCode, Resolved, parse_batch, resolve};
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

/// An event object built from the fields the parser knows, each present or
/// not, with values near the valid ones: most resolve or are refused item by
/// item, which bodies of noise almost never reach.
fn event_item() -> impl Strategy<Value = serde_json::Value> {
    let value = prop_oneof![
        prop::sample::select(vec![
            "homepage_cta",
            "pricing",
            "A",
            "B",
            "C",
            "page_view",
            "conversion",
            "signup",
            "u1",
        ])
        .prop_map(serde_json::Value::from),
        "[ -~]{0,140}".prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::Null),
    ];
    let key = prop::sample::select(vec![
        "user_id",
        "experiment",
        "variant",
        "version",
        "event",
        "goal",
        "id",
        "extra",
    ]);
    prop::collection::vec((key, value), 0..7).prop_map(|fields| {
        serde_json::Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    })
}

/// What the parser must make of `body`, decided without it: whole-body
/// failures only for what is not JSON, neither object nor array, or an
/// empty or oversized array. (`IgnoredAny` reads numbers such as `1e999`
/// as the parser's raw values do, without a range check.)
fn expected_items(body: &[u8]) -> Option<usize> {
    serde_json::from_slice::<serde::de::IgnoredAny>(body).ok()?;
    match body.iter().find(|b| !b.is_ascii_whitespace())? {
        b'{' => Some(1),
        b'[' => {
            let items: Vec<serde::de::IgnoredAny> = serde_json::from_slice(body).ok()?;
            (1..=splitcast::ingest::MAX_BATCH)
                .contains(&items.len())
                .then_some(items.len())
        }
        _ => None,
    }
}

proptest! {
    #![proptest_config(Config { cases: 2000, ..Config::default() })]

    #[test]
    fn the_cookie_state_decoder_never_panics_and_round_trips(
        text in near(&["1", "~", ".", "-", "AAAAAAAAAAAAAAAAAAAAAA", "homepage_cta", "B"]),
        experiments in prop::collection::vec(("[a-z_]{1,20}", prop::option::of("[A-Za-z]{1,8}")), 0..20),
    ) {
        let decoded = VisitorState::decode(&text);
        // Another version's cookie, or none, is a new visitor.
        prop_assert!(text.starts_with("1~") || decoded.is_none());
        // Whatever decodes is a state that encodes back to itself: a
        // cookie is never half-read.
        let reencoded = decoded.as_ref().map(|state| VisitorState::decode(&state.encode()));
        prop_assert_eq!(reencoded, decoded.clone().map(Some));
        prop_assert!(decoded.is_none_or(|state| state.visitor_id.len() == 22));
        let mut state = VisitorState::new_visitor();
        for (experiment, variant) in &experiments {
            state.set_assignment(experiment, variant.as_deref());
        }
        prop_assert_eq!(VisitorState::decode(&state.encode()), Some(state));
    }

    #[test]
    fn the_webhook_parser_splits_exactly_what_json_allows_and_resolves_only_configured_arms(
        body in prop_oneof![
            near(&["{", "}", "[", "]", ",", ":", "\"user_id\"", "\"version\"", "\"B\"",
                   "\"event\"", "\"page_view\"", "\"goal\"", "\"id\"", "null", "1e999", "\"\\u0000\""])
                .prop_map(String::into_bytes),
            event_item().prop_map(|item| item.to_string().into_bytes()),
            prop::collection::vec(event_item(), 0..4)
                .prop_map(|items| serde_json::Value::from(items).to_string().into_bytes()),
        ],
    ) {
        let experiments = experiments();
        let parsed = parse_batch(&body);
        prop_assert_eq!(parsed.as_ref().ok().map(|b| b.items.len()), expected_items(&body));
        for item in parsed.map(|b| b.items).unwrap_or_default() {
            let is_object = serde_json::from_str::<serde_json::Value>(item.get())
                .is_ok_and(|v| v.is_object());
            match resolve(&experiments, &item, 7) {
                Ok(Resolved::Count(event)) => {
                    prop_assert!(is_object);
                    let experiment = experiments.get(Some(event.experiment.as_str()));
                    prop_assert!(experiment.is_some_and(|e| e.variant_index(event.variant.as_str()).is_some()));
                    prop_assert_eq!(event.at, 7);
                    prop_assert!(event.event_id.as_deref().is_none_or(|id| id.starts_with("event:")));
                }
                Ok(Resolved::Ignored(_)) => prop_assert!(false, "nothing is paused here"),
                Err(rejection) => {
                    prop_assert!(!rejection.message.is_empty());
                    if !is_object {
                        prop_assert_eq!(rejection.code, RejectCode::BadEvent);
                    }
                }
            }
        }
    }
}
