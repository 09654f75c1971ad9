//! The configuration in force, and the two ways it changes while the server
//! runs: a run-time status set through the admin API (an override in the
//! store, applied by every instance: `lifecycle.rs`, `poll.rs`) and a reload
//! of the configuration file (`reload.rs`). Handlers take one consistent
//! [`Current`] per request; an update builds a new one and swaps it in
//! atomically, so that no request sees half of a change.

mod announce;
mod lifecycle;
mod overrides;
mod poll;
mod reload;
mod split;

pub use lifecycle::{Change, Lifecycle, LifecycleError};
pub use overrides::{
    ExperimentState, Override, VariantWeight, apply_overrides, parse_status, rfc3339, status_name,
};
pub use poll::{OverridePoller, POLL_PERIOD};
pub use reload::{ReloadError, ReloadOutcome, Reloader};
pub use split::{Split, check_at_start};

use crate::configuration::Settings;
use crate::experiment::Experiments;
use crate::store::StoredOverride;
use arc_swap::ArcSwap;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// One consistent view of the configuration in force.
#[derive(Debug)]
pub struct Current {
    /// The configuration as loaded. After a reload, the new file's, except
    /// for the sections that need a restart and for experiments whose
    /// change was refused, which keep their running values. Its
    /// `experiments` are the file's: read [`Current::experiments`] instead.
    pub settings: Settings,
    /// The experiments in force: the file's, with run-time overrides laid over.
    pub experiments: Experiments,
    /// The run-time overrides that took, by experiment name.
    pub overrides: BTreeMap<String, Override>,
}

impl Current {
    fn build(settings: Settings, stored: &[StoredOverride]) -> Self {
        let (experiments, overrides) = apply_overrides(&settings.experiments, stored);
        Self {
            settings,
            experiments,
            overrides,
        }
    }

    /// The effective state of every experiment, in name order.
    pub fn states(&self) -> Vec<ExperimentState> {
        self.experiments
            .iter()
            .map(|e| ExperimentState::of(e, self.overrides.get(e.name.as_str())))
            .collect()
    }

    /// The effective state of one experiment.
    pub fn state(&self, name: &str) -> Option<ExperimentState> {
        let experiment = self.experiments.get(Some(name))?;
        Some(ExperimentState::of(experiment, self.overrides.get(name)))
    }
}

/// The configuration in force, shared by every handler and background task.
#[derive(Debug)]
pub struct Live {
    current: ArcSwap<Current>,
    /// What `current` is built from. Updates take this lock, so that a
    /// reload and an override poll running at once never lose each other's
    /// change.
    inputs: Mutex<Inputs>,
}

#[derive(Debug)]
struct Inputs {
    settings: Settings,
    stored: Vec<StoredOverride>,
}

impl Live {
    /// The file's configuration, no overrides yet.
    pub fn new(settings: Settings) -> Self {
        Self {
            current: ArcSwap::from_pointee(Current::build(settings.clone(), &[])),
            inputs: Mutex::new(Inputs {
                settings,
                stored: Vec::new(),
            }),
        }
    }

    /// The configuration in force now; hold it for a whole request.
    pub fn current(&self) -> Arc<Current> {
        self.current.load_full()
    }

    /// Lays `stored` over the file's experiments; returns whether anything
    /// changed (an unchanged poll swaps nothing).
    pub fn set_overrides(&self, stored: Vec<StoredOverride>) -> bool {
        let mut inputs = self.inputs.lock().expect("never poisoned");
        if inputs.stored == stored {
            return false;
        }
        self.current
            .store(Arc::new(Current::build(inputs.settings.clone(), &stored)));
        inputs.stored = stored;
        true
    }

    /// Puts `settings` in force, overrides laid over as before.
    pub fn set_settings(&self, settings: Settings) {
        let mut inputs = self.inputs.lock().expect("never poisoned");
        self.current
            .store(Arc::new(Current::build(settings.clone(), &inputs.stored)));
        inputs.settings = settings;
    }
}
