//! The validated experiment model. Built once from the configuration; request
//! handlers only ever look names up here, so every name they pass on is a
//! configured one.

use crate::names::{ExperimentName, Goal, VariantName};
use serde::{Deserialize, Serialize};

/// Whether an experiment is counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Visitors are assigned and counted.
    #[default]
    Running,
    /// Everyone sees the control; nothing is counted.
    Paused,
    /// Everyone sees the winner; nothing is counted.
    Concluded,
}

/// How a visitor is given a variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssignmentMethod {
    /// A weighted draw, kept in the session.
    #[default]
    Random,
    /// GrowthBook-compatible deterministic hashing of the unit id.
    Hash,
}

/// How an experiment's comparisons are judged (configured per experiment).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Analysis {
    /// Always-valid p-values and confidence sequences: the verdict may be
    /// read at any time, as often as anyone likes.
    Sequential {
        /// N*, the total participants of a comparison (both arms) around
        /// which the interval is tightest; > 0.
        tuning: f64,
    },
    /// A classic test, judged once, when both arms reach the planned sample.
    Fixed {
        /// Planned participants per arm; >= 1.
        sample_size: u64,
    },
}

impl Analysis {
    /// The default N*, as gbstats'.
    pub const DEFAULT_TUNING: f64 = 5000.0;

    /// `sequential` or `fixed`, as configured and reported.
    pub fn name(self) -> &'static str {
        match self {
            Analysis::Sequential { .. } => "sequential",
            Analysis::Fixed { .. } => "fixed",
        }
    }
}

impl Default for Analysis {
    fn default() -> Self {
        Analysis::Sequential {
            tuning: Self::DEFAULT_TUNING,
        }
    }
}

/// One arm of an experiment.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Its configured name.
    pub name: VariantName,
    /// Its configured weight, as written.
    pub weight: f64,
    /// Its share of enrolled traffic, normalised so that all weights sum to 1.
    pub share: f64,
    /// The content object served unchanged, pre-serialised once at start-up.
    pub content_json: bytes::Bytes,
}

/// A configured experiment.
#[derive(Debug, Clone)]
pub struct Experiment {
    /// Its name (the `[experiments.NAME]` key).
    pub name: ExperimentName,
    /// Running, paused or concluded.
    pub status: Status,
    /// Random or hash assignment.
    pub assignment: AssignmentMethod,
    /// The share of visitors enrolled (0..=1).
    pub traffic: f64,
    /// Goals, the first being the default one.
    pub goals: Vec<Goal>,
    /// The variants, in configuration order.
    pub variants: Vec<Variant>,
    /// Index of the control variant.
    pub control: usize,
    /// Index of the winner, for concluded experiments.
    pub winner: Option<usize>,
    /// Seed of the hash assignment (the experiment name unless configured).
    pub seed: String,
    /// Sequential or fixed-horizon analysis of the results.
    pub analysis: Analysis,
}

impl Experiment {
    /// Finds a variant by name.
    pub fn variant_index(&self, name: &str) -> Option<usize> {
        self.variants.iter().position(|v| v.name.as_str() == name)
    }

    /// Finds a goal by name.
    pub fn goal(&self, name: &str) -> Option<&Goal> {
        self.goals.iter().find(|g| g.as_str() == name)
    }

    /// The goal a request that names none means.
    pub fn default_goal(&self) -> &Goal {
        &self.goals[0]
    }

    /// The control variant.
    pub fn control(&self) -> &Variant {
        &self.variants[self.control]
    }

    /// The variant everyone sees while the experiment is not counting, if it
    /// is not counting.
    pub fn fixed_variant(&self) -> Option<usize> {
        match self.status {
            Status::Running => None,
            Status::Paused => Some(self.control),
            Status::Concluded => Some(self.winner.unwrap_or(self.control)),
        }
    }

    /// The normalised weights, in variant order.
    pub fn shares(&self) -> Vec<f64> {
        self.variants.iter().map(|v| v.share).collect()
    }
}

/// All configured experiments and the default one.
#[derive(Debug, Clone)]
pub struct Experiments {
    list: Vec<Experiment>,
    default: usize,
}

impl Experiments {
    /// Builds the set; `default` indexes `list` and must be valid.
    pub fn new(list: Vec<Experiment>, default: usize) -> Self {
        assert!(
            default < list.len(),
            "default experiment index out of range"
        );
        Self { list, default }
    }

    /// Looks an experiment up by name; `None` names the default one.
    pub fn get(&self, name: Option<&str>) -> Option<&Experiment> {
        match name {
            None => Some(&self.list[self.default]),
            Some(name) => self.list.iter().find(|e| e.name.as_str() == name),
        }
    }

    /// The default experiment.
    pub fn default_experiment(&self) -> &Experiment {
        &self.list[self.default]
    }

    /// Every experiment, in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Experiment> {
        self.list.iter()
    }

    /// The experiment named `name`, to change in place (a run-time status,
    /// or a reload keeping a running definition).
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Experiment> {
        self.list.iter_mut().find(|e| e.name.as_str() == name)
    }
}
