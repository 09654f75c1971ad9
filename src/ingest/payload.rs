//! The body of `POST /webhook`: one event object or an array of them, each
//! parsed into a store [`Event`] naming only configured experiments,
//! variants and goals, or into the reason it cannot be counted.

use super::IngestError;
use super::{RejectCode, Rejection, quoted};
use crate::assignment::{Decision, decide};
use crate::experiment::{AssignmentMethod, Experiments, Status};
use crate::metrics::Uncounted;
use crate::session::UserId;
use crate::store::{Action, Event, Source};
use serde::Deserialize;
use serde_json::value::RawValue;

/// The most events one request may carry.
pub const MAX_BATCH: usize = 500;

/// Which event an item reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    #[default]
    Conversion,
    PageView,
}

/// One item as sent; the seed's `{"user_id", "version"}` is the smallest.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    user_id: String,
    experiment: Option<String>,
    #[serde(alias = "version")]
    variant: Option<String>,
    #[serde(default)]
    event: Kind,
    goal: Option<String>,
    id: Option<String>,
}

/// What an item means.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// An event to record.
    Count(Event),
    /// The experiment is not counting; the reason is `paused` or `concluded`.
    Ignored(Uncounted),
}

/// A body's items, each still unparsed so that [`resolve`] sees duplicate
/// keys (a parsed `Value` would keep only the last of them).
#[derive(Debug)]
pub struct Batch {
    /// The items in order.
    pub items: Vec<Box<RawValue>>,
    /// The body was one object rather than an array: its rejection is the
    /// request's answer.
    pub single: bool,
}

/// Splits a body into its items. Only a body that is not JSON, neither an
/// object nor an array, or an empty or oversized array fails as a whole;
/// a bad item fails alone, in [`resolve`].
pub fn parse_batch(body: &[u8]) -> Result<Batch, IngestError> {
    let malformed = |e: serde_json::Error| IngestError::Malformed(format!("malformed JSON: {e}"));
    let raw: Box<RawValue> = serde_json::from_slice(body).map_err(malformed)?;
    match raw.get().trim_start().as_bytes().first() {
        Some(b'{') => Ok(Batch {
            items: vec![raw],
            single: true,
        }),
        Some(b'[') => {
            let items: Vec<Box<RawValue>> = serde_json::from_str(raw.get()).map_err(malformed)?;
            if items.is_empty() {
                return Err(IngestError::Malformed("the batch is empty".into()));
            }
            if items.len() > MAX_BATCH {
                return Err(IngestError::Malformed(format!(
                    "a batch holds at most {MAX_BATCH} events, not {}",
                    items.len()
                )));
            }
            Ok(Batch {
                items,
                single: false,
            })
        }
        _ => Err(IngestError::Malformed(
            "the body must be an event object or an array of them".into(),
        )),
    }
}

/// Parses one item received at `at` (unix seconds).
pub fn resolve(experiments: &Experiments, item: &RawValue, at: i64) -> Result<Resolved, Rejection> {
    let bad = |message: String| Rejection::new(RejectCode::BadEvent, message);
    // Derived deserialisation refuses duplicate and unknown keys alike.
    let raw: RawItem = serde_json::from_str(item.get()).map_err(|e| bad(e.to_string()))?;
    let user = UserId::parse(&raw.user_id).map_err(|e| bad(format!("user_id: {e}")))?;
    let event_id = raw.id.as_deref().map(parse_event_id).transpose()?;
    let experiment = experiments.get(raw.experiment.as_deref()).ok_or_else(|| {
        Rejection::new(
            RejectCode::UnknownExperiment,
            format!(
                "unknown experiment {}",
                quoted(raw.experiment.as_deref().unwrap_or_default())
            ),
        )
    })?;
    let action = match (raw.event, raw.goal) {
        (Kind::PageView, None) => Action::View,
        (Kind::PageView, Some(_)) => return Err(bad("a page_view has no goal".into())),
        (Kind::Conversion, None) => Action::Convert(experiment.default_goal().clone()),
        (Kind::Conversion, Some(goal)) => {
            Action::Convert(experiment.goal(&goal).cloned().ok_or_else(|| {
                Rejection::new(
                    RejectCode::UnknownGoal,
                    format!("unknown goal {}", quoted(&goal)),
                )
            })?)
        }
    };
    let named = match raw.variant.as_deref() {
        None => None,
        Some(name) => Some(experiment.variant_index(name).ok_or_else(|| {
            Rejection::new(
                RejectCode::UnknownVariant,
                format!("unknown variant {}", quoted(name)),
            )
        })?),
    };
    match experiment.status {
        Status::Running => {}
        Status::Paused => return Ok(Resolved::Ignored(Uncounted::Paused)),
        Status::Concluded => return Ok(Resolved::Ignored(Uncounted::Concluded)),
    }
    let index = match (experiment.assignment, named) {
        (AssignmentMethod::Random, Some(index)) => index,
        (AssignmentMethod::Random, None) => {
            return Err(Rejection::new(
                RejectCode::VariantRequired,
                "a random-assignment experiment needs the variant the user saw",
            ));
        }
        // The same decision as GET /get_content with X-User-Id, so both agree.
        (AssignmentMethod::Hash, named) => match decide(experiment, user.as_str()) {
            Decision::NotEnrolled => {
                return Err(Rejection::new(
                    RejectCode::NotEnrolled,
                    "the user is outside the experiment's traffic",
                ));
            }
            Decision::Enrolled(computed) if named.is_some_and(|n| n != computed) => {
                return Err(Rejection::new(
                    RejectCode::VariantMismatch,
                    format!(
                        "the user is assigned variant {:?}",
                        experiment.variants[computed].name.as_str()
                    ),
                ));
            }
            Decision::Enrolled(computed) => computed,
        },
    };
    Ok(Resolved::Count(Event {
        experiment: experiment.name.clone(),
        variant: experiment.variants[index].name.clone(),
        unit_id: user.as_str().to_owned(),
        action,
        source: Source::Webhook,
        // Namespaced: the same table holds the signed deliveries' ids.
        event_id: event_id.map(|id| format!("event:{id}")),
        at,
    }))
}

/// An event id: 1 to 128 visible ASCII characters.
fn parse_event_id(id: &str) -> Result<&str, Rejection> {
    if (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(id)
    } else {
        Err(Rejection::new(
            RejectCode::BadEvent,
            "id must be 1 to 128 visible ASCII characters",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::configuration::Settings;
    use serde_json::{Value, json};

    fn raw(item: &Value) -> Box<RawValue> {
        RawValue::from_string(item.to_string()).unwrap()
    }

    fn experiments() -> Experiments {
        let toml = r#"
            [experiments.homepage_cta]
            default = true
            goals = ["conversion", "signup"]
            variants = [{ name = "A", weight = 50 }, { name = "B", weight = 50 }]
            [experiments.pricing]
            assignment = "hash"
            variants = [{ name = "A", weight = 50 }, { name = "B", weight = 50 }]
        "#;
        Settings::from_toml(toml).unwrap().experiments
    }

    fn event(item: Value) -> Event {
        match resolve(&experiments(), &raw(&item), 7) {
            Ok(Resolved::Count(event)) => event,
            other => panic!("not counted: {other:?}"),
        }
    }

    fn code(item: Value) -> RejectCode {
        resolve(&experiments(), &raw(&item), 7).unwrap_err().code
    }

    #[test]
    fn the_seed_payload_is_a_conversion_on_the_default_experiment_and_goal() {
        let e = event(json!({"user_id": "u1", "version": "B"}));
        assert_eq!(
            (
                e.experiment.as_str(),
                e.variant.as_str(),
                e.unit_id.as_str()
            ),
            ("homepage_cta", "B", "u1")
        );
        assert_eq!(
            e.action,
            Action::Convert(experiments().get(None).unwrap().goals[0].clone())
        );
        assert_eq!((e.source, e.event_id, e.at), (Source::Webhook, None, 7));
    }

    #[test]
    fn a_hash_experiment_computes_the_variant_that_get_content_would_serve() {
        let pricing = experiments().get(Some("pricing")).unwrap().clone();
        for user in ["u1", "u2", "u3", "customer-42"] {
            let Decision::Enrolled(index) = decide(&pricing, user) else {
                panic!("full traffic enrols everyone")
            };
            let e = event(json!({"user_id": user, "experiment": "pricing", "event": "page_view"}));
            assert_eq!(e.variant, pricing.variants[index].name);
            assert_eq!(e.action, Action::View);
        }
    }

    #[test]
    fn malformed_items_are_bad_events() {
        for item in [
            json!({"user_id": "u1", "version": "B", "colour": "red"}),
            json!({"user_id": "u1", "version": "B", "variant": "B"}),
            json!({"user_id": "has space", "version": "B"}),
            json!({"user_id": 7, "version": "B"}),
            json!({"version": "B"}),
            json!({"user_id": "u1", "version": "B", "event": "click"}),
            json!({"user_id": "u1", "version": "B", "event": "page_view", "goal": "signup"}),
            json!({"user_id": "u1", "version": "B", "id": ""}),
            json!(["nested"]),
        ] {
            assert_eq!(code(item.clone()), RejectCode::BadEvent, "{item}");
        }
    }

    #[test]
    fn duplicate_keys_are_bad_events() {
        for body in [
            r#"{"user_id": "u1", "version": "B", "version": "A"}"#,
            r#"{"user_id": "u1", "user_id": "u2", "version": "B"}"#,
        ] {
            let batch = parse_batch(body.as_bytes()).unwrap();
            let rejection = resolve(&experiments(), &batch.items[0], 7).unwrap_err();
            assert_eq!(rejection.code, RejectCode::BadEvent, "{body}");
            assert!(
                rejection.message.contains("duplicate"),
                "{}",
                rejection.message
            );
        }
    }

    #[test]
    fn a_body_is_one_object_or_a_bounded_non_empty_array() {
        let single = parse_batch(br#" {"user_id": "u1"}"#).unwrap();
        assert_eq!((single.items.len(), single.single), (1, true));
        let batch = parse_batch(br#"[{}, {}]"#).unwrap();
        assert_eq!((batch.items.len(), batch.single), (2, false));
        let too_many = serde_json::to_vec(&vec![json!({}); MAX_BATCH + 1]).unwrap();
        for body in [&b"[]"[..], b"\"u1\"", b"{", &too_many] {
            assert!(matches!(parse_batch(body), Err(IngestError::Malformed(_))));
        }
    }
}
