//! Run-time status overrides laid over the configuration file's: an
//! override lives in the store, so that every instance applies it.

use crate::experiment::{Experiment, Experiments, Status};
use crate::names::VariantName;
use crate::store::StoredOverride;
use serde::Serialize;
use std::collections::BTreeMap;

/// A status set at run time, as applied to an experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// The status in force.
    pub status: Status,
    /// The winner of a concluded experiment.
    pub winner: Option<VariantName>,
    /// Why, as given.
    pub reason: Option<String>,
    /// Unix milliseconds of the change.
    pub changed_at: i64,
}

/// Lays `stored` over the file's experiments: the effective set, and the
/// overrides that took. An override that no longer fits its experiment (a
/// winner the file no longer has, after a reload) is skipped with a warning,
/// so that the file's status holds rather than a guess.
pub fn apply_overrides(
    file: &Experiments,
    stored: &[StoredOverride],
) -> (Experiments, BTreeMap<String, Override>) {
    let mut effective = file.clone();
    let mut applied = BTreeMap::new();
    for row in stored {
        let Some(experiment) = effective.get_mut(&row.experiment) else {
            continue; // no longer configured; kept in the store for when it returns
        };
        match parse_stored(experiment, row) {
            Ok((status, winner_index, parsed)) => {
                experiment.status = status;
                if status == Status::Concluded {
                    experiment.winner = winner_index;
                }
                applied.insert(row.experiment.clone(), parsed);
            }
            Err(problem) => tracing::warn!(
                experiment = %row.experiment,
                "run-time status ignored, the file's status holds: {problem}"
            ),
        }
    }
    (effective, applied)
}

fn parse_stored(
    experiment: &Experiment,
    row: &StoredOverride,
) -> Result<(Status, Option<usize>, Override), String> {
    let status = parse_status(&row.status)?;
    let (winner_index, winner) = match (status, row.winner.as_deref()) {
        (Status::Concluded, Some(name)) => {
            let index = experiment
                .variant_index(name)
                .ok_or_else(|| format!("winner {name:?} is no longer a variant"))?;
            (Some(index), Some(experiment.variants[index].name.clone()))
        }
        (Status::Concluded, None) => return Err("concluded without a winner".to_owned()),
        _ => (None, None),
    };
    Ok((
        status,
        winner_index,
        Override {
            status,
            winner,
            reason: row.reason.clone(),
            changed_at: row.changed_at,
        },
    ))
}

/// `running`, `paused` or `concluded`.
pub fn parse_status(text: &str) -> Result<Status, String> {
    match text {
        "running" => Ok(Status::Running),
        "paused" => Ok(Status::Paused),
        "concluded" => Ok(Status::Concluded),
        other => Err(format!(
            "status must be running, paused or concluded, not {}",
            crate::echo::echo(other)
        )),
    }
}

/// The wire name of a status.
pub fn status_name(status: Status) -> &'static str {
    match status {
        Status::Running => "running",
        Status::Paused => "paused",
        Status::Concluded => "concluded",
    }
}

/// An experiment's effective state, as `GET /experiments` lists it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ExperimentState {
    /// The experiment.
    pub name: String,
    /// `running`, `paused` or `concluded`.
    pub status: &'static str,
    /// The winner, when concluded.
    pub winner: Option<String>,
    /// `config` (the file's status) or `override` (set at run time).
    pub source: &'static str,
    /// RFC 3339 time of the run-time change; null for the file's status.
    pub changed_at: Option<String>,
    /// Why, as given with the change.
    pub reason: Option<String>,
    /// The variants and their configured weights.
    pub variants: Vec<VariantWeight>,
}

/// A variant and its weight.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VariantWeight {
    /// Its name.
    pub name: String,
    /// Its configured weight.
    pub weight: f64,
}

impl ExperimentState {
    /// The state of `experiment` (effective), set at run time by `applied`.
    pub fn of(experiment: &Experiment, applied: Option<&Override>) -> Self {
        let winner = match experiment.status {
            Status::Concluded => experiment
                .winner
                .map(|i| experiment.variants[i].name.to_string()),
            _ => None,
        };
        Self {
            name: experiment.name.to_string(),
            status: status_name(experiment.status),
            winner,
            source: if applied.is_some() {
                "override"
            } else {
                "config"
            },
            changed_at: applied.map(|o| rfc3339(o.changed_at)),
            reason: applied.and_then(|o| o.reason.clone()),
            variants: experiment
                .variants
                .iter()
                .map(|v| VariantWeight {
                    name: v.name.to_string(),
                    weight: v.weight,
                })
                .collect(),
        }
    }
}

/// Unix milliseconds as RFC 3339 (UTC, milliseconds kept).
pub fn rfc3339(millis: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    at.format(&time::format_description::well_known::Rfc3339)
        .expect("a UTC time always formats as RFC 3339")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::configuration::Settings;

    fn experiments() -> Experiments {
        Settings::from_toml(
            "[experiments.cta]\n[[experiments.cta.variants]]\nname = \"A\"\nweight = 1\n\
             [[experiments.cta.variants]]\nname = \"B\"\nweight = 1\n",
        )
        .unwrap()
        .experiments
    }

    fn stored(status: &str, winner: Option<&str>) -> StoredOverride {
        StoredOverride {
            experiment: "cta".into(),
            status: status.into(),
            winner: winner.map(Into::into),
            reason: None,
            changed_at: 1_700_000_000_123,
        }
    }

    #[test]
    fn an_override_sets_the_status_and_winner() {
        let (effective, applied) =
            apply_overrides(&experiments(), &[stored("concluded", Some("B"))]);
        let cta = effective.get(Some("cta")).unwrap();
        assert_eq!(cta.status, Status::Concluded);
        assert_eq!(cta.fixed_variant(), Some(1));
        let state = ExperimentState::of(cta, applied.get("cta"));
        assert_eq!(state.source, "override");
        assert_eq!(state.winner.as_deref(), Some("B"));
        assert_eq!(
            state.changed_at.as_deref(),
            Some("2023-11-14T22:13:20.123Z")
        );
    }

    #[test]
    fn an_override_that_no_longer_fits_leaves_the_file_status() {
        for bad in [
            stored("concluded", Some("Z")),
            stored("concluded", None),
            stored("archived", None),
        ] {
            let (effective, applied) = apply_overrides(&experiments(), &[bad]);
            assert_eq!(effective.get(Some("cta")).unwrap().status, Status::Running);
            assert!(applied.is_empty());
        }
        let other = StoredOverride {
            experiment: "gone".into(),
            ..stored("paused", None)
        };
        assert!(apply_overrides(&experiments(), &[other]).1.is_empty());
    }
}
