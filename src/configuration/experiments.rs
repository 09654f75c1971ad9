//! `[experiments.NAME]` tables, parsed into [`Experiments`].

use super::ConfigError;
use crate::experiment::{Analysis, AssignmentMethod, Experiment, Experiments, Status, Variant};
use crate::names::{ExperimentName, Goal, VariantName};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawExperiment {
    #[serde(default)]
    default: bool,
    #[serde(default)]
    status: Status,
    #[serde(default)]
    assignment: AssignmentMethod,
    #[serde(default = "full_traffic")]
    traffic: f64,
    #[serde(default = "default_goals")]
    goals: Vec<String>,
    #[serde(default)]
    control: String,
    #[serde(default)]
    winner: String,
    #[serde(default)]
    seed: String,
    #[serde(default)]
    variants: Vec<RawVariant>,
    #[serde(default)]
    analysis: AnalysisKind,
    sequential_tuning: Option<f64>,
    sample_size: Option<i64>,
}

/// `analysis = "sequential" | "fixed"`.
#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum AnalysisKind {
    #[default]
    Sequential,
    Fixed,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariant {
    name: String,
    weight: f64,
    #[serde(default = "empty_object")]
    content: serde_json::Value,
}

fn full_traffic() -> f64 {
    1.0
}

fn default_goals() -> Vec<String> {
    vec!["conversion".into()]
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(Default::default())
}

pub(super) fn validate(raw: BTreeMap<String, RawExperiment>) -> Result<Experiments, ConfigError> {
    if raw.is_empty() {
        return Err(ConfigError::at(
            "experiments",
            "at least one experiment is required",
        ));
    }
    let single = raw.len() == 1;
    let mut list = Vec::with_capacity(raw.len());
    let mut defaults = Vec::new();
    for (key, experiment) in raw {
        if experiment.default || single {
            defaults.push(list.len());
        }
        list.push(parse_experiment(&key, experiment)?);
    }
    match defaults.as_slice() {
        [index] => Ok(Experiments::new(list, *index)),
        [] => Err(ConfigError::at(
            "experiments",
            "exactly one experiment must have default = true when there are several (none has)",
        )),
        _ => Err(ConfigError::at(
            "experiments",
            format!(
                "exactly one experiment must have default = true ({} have)",
                defaults.len()
            ),
        )),
    }
}

fn parse_experiment(key: &str, raw: RawExperiment) -> Result<Experiment, ConfigError> {
    let at = |field: &str| format!("experiments.{key}.{field}");
    let name =
        ExperimentName::parse(key).map_err(|e| ConfigError::at(format!("experiments.{key}"), e))?;
    if !(0.0..=1.0).contains(&raw.traffic) || raw.traffic.is_nan() {
        return Err(ConfigError::at(
            at("traffic"),
            "must be between 0.0 and 1.0",
        ));
    }
    if raw.goals.is_empty() {
        return Err(ConfigError::at(at("goals"), "needs at least one goal"));
    }
    let mut goals = Vec::new();
    for goal in &raw.goals {
        let goal = Goal::parse(goal).map_err(|e| ConfigError::at(at("goals"), e))?;
        if goals.contains(&goal) {
            return Err(ConfigError::at(
                at("goals"),
                format!("goal {goal} is listed twice"),
            ));
        }
        goals.push(goal);
    }
    let variants = parse_variants(&at("variants"), raw.variants)?;
    let find = |field: &str, wanted: &str| {
        variants
            .iter()
            .position(|v| v.name.as_str() == wanted)
            .ok_or_else(|| ConfigError::at(at(field), format!("names no variant: {wanted:?}")))
    };
    let control = if raw.control.is_empty() {
        0
    } else {
        find("control", &raw.control)?
    };
    let winner = if raw.winner.is_empty() {
        None
    } else {
        Some(find("winner", &raw.winner)?)
    };
    if raw.status == Status::Concluded && winner.is_none() {
        return Err(ConfigError::at(
            at("winner"),
            "is required when status = \"concluded\"",
        ));
    }
    let analysis = parse_analysis(&at, raw.analysis, raw.sequential_tuning, raw.sample_size)?;
    let seed = if raw.seed.is_empty() {
        key.to_owned()
    } else {
        raw.seed
    };
    Ok(Experiment {
        name,
        status: raw.status,
        assignment: raw.assignment,
        traffic: raw.traffic,
        goals,
        variants,
        control,
        winner,
        seed,
        analysis,
    })
}

fn parse_analysis(
    at: &dyn Fn(&str) -> String,
    kind: AnalysisKind,
    tuning: Option<f64>,
    sample_size: Option<i64>,
) -> Result<Analysis, ConfigError> {
    // Checked whatever the analysis, so that switching it never meets a bad
    // value left behind.
    if let Some(tuning) = tuning
        && !(tuning > 0.0 && tuning.is_finite())
    {
        return Err(ConfigError::at(
            at("sequential_tuning"),
            "must be a number above 0 (total participants of both arms, e.g. 5000)",
        ));
    }
    if let Some(size) = sample_size
        && size < 1
    {
        return Err(ConfigError::at(
            at("sample_size"),
            "must be at least 1 (planned participants per variant)",
        ));
    }
    match kind {
        AnalysisKind::Sequential => Ok(Analysis::Sequential {
            tuning: tuning.unwrap_or(Analysis::DEFAULT_TUNING),
        }),
        AnalysisKind::Fixed => match sample_size {
            Some(size) => Ok(Analysis::Fixed {
                sample_size: size as u64,
            }),
            None => Err(ConfigError::at(
                at("sample_size"),
                "is required with analysis = \"fixed\" (planned participants per variant; \
                 see `splitcast sample-size`)",
            )),
        },
    }
}

fn parse_variants(at: &str, raw: Vec<RawVariant>) -> Result<Vec<Variant>, ConfigError> {
    if raw.len() < 2 {
        return Err(ConfigError::at(
            at,
            "an experiment needs at least two variants",
        ));
    }
    let mut seen = HashSet::new();
    let total: f64 = raw.iter().map(|v| v.weight).sum();
    if raw.iter().any(|v| v.weight < 0.0 || !v.weight.is_finite())
        || total <= 0.0
        || !total.is_finite()
    {
        return Err(ConfigError::at(
            at,
            "weights must be non-negative with a positive sum",
        ));
    }
    raw.into_iter()
        .map(|v| {
            let name = VariantName::parse(&v.name).map_err(|e| ConfigError::at(at, e))?;
            if !seen.insert(name.clone()) {
                return Err(ConfigError::at(
                    at,
                    format!("variant name {name} is used twice"),
                ));
            }
            if !v.content.is_object() {
                return Err(ConfigError::at(
                    format!("{at}.{name}.content"),
                    "must be a table (the JSON object served to the page)",
                ));
            }
            let content_json = serde_json::to_vec(&v.content)
                .expect("a JSON value always serialises")
                .into();
            Ok(Variant {
                name,
                weight: v.weight,
                share: v.weight / total,
                content_json,
            })
        })
        .collect()
}
