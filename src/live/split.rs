//! An experiment's split: what decides which variant a unit gets (the
//! variants, their shares, the assignment method and the hash seed). Once
//! an experiment has participants its split must not change, neither at a
//! reload nor at a restart: returning visitors and hashed users would land
//! in other variants and the counts would mix two designs.

use crate::configuration::ConfigError;
use crate::experiment::{AssignmentMethod, Experiment, Experiments};
use crate::store::{SqlStore, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// The split of one experiment, as the store remembers it (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// `(name, share)` per variant, in configuration order.
    pub variants: Vec<(String, f64)>,
    /// Random or hash.
    pub assignment: AssignmentMethod,
    /// The hash seed.
    pub seed: String,
}

impl Split {
    /// `experiment`'s split.
    pub fn of(experiment: &Experiment) -> Self {
        Self {
            variants: experiment
                .variants
                .iter()
                .map(|v| (v.name.to_string(), v.share))
                .collect(),
            assignment: experiment.assignment,
            seed: experiment.seed.clone(),
        }
    }

    /// The form the store keeps.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a split serializes")
    }

    /// A stored split; `None` for text this version cannot read.
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// What `new` changes of this split, if anything, in words for a log
    /// line ("changing the weights").
    pub fn change_to(&self, new: &Split) -> Option<&'static str> {
        let names = |s: &Split| {
            s.variants
                .iter()
                .map(|(n, _)| n.clone())
                .collect::<Vec<_>>()
        };
        if names(self) != names(new) {
            return Some("changing the variants");
        }
        // Shares, not weights: 50/50 and 1/1 are the same split.
        let moved = self
            .variants
            .iter()
            .zip(&new.variants)
            .any(|((_, a), (_, b))| (a - b).abs() > 1e-12);
        if moved {
            return Some("changing the weights");
        }
        if self.assignment != new.assignment {
            return Some("changing the assignment method");
        }
        if self.seed != new.seed {
            return Some("changing the hash seed");
        }
        None
    }
}

/// At start: refuses a configuration that changes the split of an
/// experiment with participants (one line naming the key, exit 2), and
/// records every other experiment's split as the one in force. An
/// experiment with participants but no recorded split (counted before
/// splits were recorded) has its current split recorded.
pub async fn check_at_start(
    store: &SqlStore,
    experiments: &Experiments,
) -> Result<(), super::ReloadError> {
    let with_participants = with_participants(store).await?;
    let recorded: HashMap<String, String> = store.recorded_splits().await?.into_iter().collect();
    for experiment in experiments.iter() {
        let name = experiment.name.as_str();
        let split = Split::of(experiment);
        let changed = recorded
            .get(name)
            .and_then(|text| Split::from_json(text))
            .filter(|_| with_participants.contains(name))
            .and_then(|old| old.change_to(&split));
        if let Some(what) = changed {
            return Err(ConfigError::at(
                format!("experiments.{name}"),
                format!(
                    "{what} of an experiment with participants would corrupt its results; \
                     restore the split it ran with, give the new design a new experiment \
                     name, or archive its counts and start over with \
                     `splitcast experiments reset {name}`"
                ),
            )
            .into());
        }
        record(store, experiment).await?;
    }
    Ok(())
}

/// Records `experiment`'s split as the one in force.
pub async fn record(store: &SqlStore, experiment: &Experiment) -> Result<(), StoreError> {
    let split = Split::of(experiment).to_json();
    store
        .record_split(experiment.name.as_str(), &split, crate::clock::now_millis())
        .await
}

/// The experiments that have at least one participant.
pub async fn with_participants(store: &SqlStore) -> Result<HashSet<String>, StoreError> {
    Ok(store
        .counters()
        .await?
        .into_iter()
        .filter(|c| c.metric == "participants" && c.value > 0)
        .map(|c| c.experiment)
        .collect())
}
