//! Pausing, resuming and concluding an experiment at run time. A change
//! commits in one transaction with its notification rows, so that it is
//! announced exactly once however many instances share the store; it is in
//! force on this instance when the call returns and on the others within
//! one poll ([`super::poll::POLL_PERIOD`]).

use super::announce::Announced;
use super::{ExperimentState, Live, status_name};
use crate::experiment::{Experiment, Status};
use crate::names::VariantName;
use crate::store::{SqlStore, StoreError, StoredOverride};
use std::sync::Arc;

/// The longest `reason` accepted, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// What a lifecycle request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// No configured experiment has this name.
    #[error("unknown experiment {}", crate::echo::echo(.0))]
    UnknownExperiment(String),
    /// The change is not one the experiment can take.
    #[error("{0}")]
    InvalidChange(String),
    /// The store failed; nothing was changed.
    #[error("the store failed")]
    Store(#[from] StoreError),
}

/// A requested status, checked against its experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The status to put in force.
    pub status: Status,
    /// The winner, exactly when concluding.
    pub winner: Option<VariantName>,
    /// Why, one line.
    pub reason: Option<String>,
}

impl Change {
    /// Checks a request's fields against `experiment`: a concluded status
    /// needs a winner that names one of its variants, the others take none.
    pub fn parse(
        experiment: &Experiment,
        status: &str,
        winner: Option<&str>,
        reason: Option<String>,
    ) -> Result<Self, LifecycleError> {
        let invalid = |message: String| LifecycleError::InvalidChange(message);
        let status = super::parse_status(status).map_err(invalid)?;
        let winner = match (status, winner) {
            (Status::Concluded, None) => {
                return Err(invalid(
                    "a concluded status needs a winner (one of the variants)".to_owned(),
                ));
            }
            (Status::Concluded, Some(name)) => {
                let index = experiment.variant_index(name).ok_or_else(|| {
                    invalid(format!(
                        "winner {} names no variant of {}",
                        crate::echo::echo(name),
                        experiment.name
                    ))
                })?;
                Some(experiment.variants[index].name.clone())
            }
            (_, Some(_)) => {
                return Err(invalid(
                    "a winner goes only with status \"concluded\"".to_owned(),
                ));
            }
            (_, None) => None,
        };
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if let Some(reason) = &reason
            && (reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control))
        {
            return Err(invalid(format!(
                "reason must be one line of at most {MAX_REASON_CHARS} characters"
            )));
        }
        Ok(Self {
            status,
            winner,
            reason,
        })
    }
}

/// Run-time status changes, against the shared store.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    store: Arc<SqlStore>,
    live: Arc<Live>,
}

impl Lifecycle {
    /// Changes through `store`, put in force in `live`.
    pub fn new(store: Arc<SqlStore>, live: Arc<Live>) -> Self {
        Self { store, live }
    }

    /// Reads every override from the store and puts it in force; returns
    /// whether anything changed. One step of the poll loop.
    pub async fn refresh(&self) -> Result<bool, StoreError> {
        let stored = self.store.overrides().await?;
        Ok(self.live.set_overrides(stored))
    }

    /// Puts `change` in force for `name` on every instance; returns the
    /// experiment's state and whether anything changed (the same status
    /// again changes and announces nothing).
    pub async fn set_status(
        &self,
        name: &str,
        change: Change,
        now_ms: i64,
    ) -> Result<(ExperimentState, bool), LifecycleError> {
        // Compared with the store's state, not the last poll's.
        self.refresh().await?;
        let current = self.live.current();
        let experiment = current
            .experiments
            .get(Some(name))
            .ok_or_else(|| LifecycleError::UnknownExperiment(name.to_owned()))?;
        let winner_now = experiment.winner.map(|i| &experiment.variants[i].name);
        let unchanged = experiment.status == change.status
            && (change.status != Status::Concluded || winner_now == change.winner.as_ref());
        if unchanged {
            return Ok((current.state(name).expect("looked up above"), false));
        }
        let announced = Announced {
            experiment: name,
            status: change.status,
            winner: change.winner.as_ref().map(VariantName::as_str),
            reason: change.reason.as_deref(),
            back_to_config: false,
            changed_at: now_ms,
        };
        let row = StoredOverride {
            experiment: name.to_owned(),
            status: status_name(change.status).to_owned(),
            winner: change.winner.as_ref().map(ToString::to_string),
            reason: change.reason.clone(),
            changed_at: now_ms,
        };
        let changed = self
            .store
            .set_override(&row, &announced.rows(&current.settings))
            .await?;
        self.refresh().await?;
        if changed {
            self.snapshot(now_ms).await;
            tracing::info!(
                experiment = name,
                status = status_name(change.status),
                winner = change.winner.as_ref().map_or("-", VariantName::as_str),
                reason = ?change.reason,
                "experiment status set at run time"
            );
        }
        Ok((self.state(name)?, changed))
    }

    /// Removes `name`'s run-time status: the file's holds again, on every
    /// instance. Returns the state and whether there was an override.
    pub async fn clear_status(
        &self,
        name: &str,
        now_ms: i64,
    ) -> Result<(ExperimentState, bool), LifecycleError> {
        let current = self.live.current();
        let file = current
            .settings
            .experiments
            .get(Some(name))
            .ok_or_else(|| LifecycleError::UnknownExperiment(name.to_owned()))?;
        let announced = Announced {
            experiment: name,
            status: file.status,
            winner: match file.status {
                Status::Concluded => file.winner.map(|i| file.variants[i].name.as_str()),
                _ => None,
            },
            reason: None,
            back_to_config: true,
            changed_at: now_ms,
        };
        let removed = self
            .store
            .clear_override(name, &announced.rows(&current.settings))
            .await?;
        self.refresh().await?;
        if removed {
            self.snapshot(now_ms).await;
            tracing::info!(
                experiment = name,
                status = status_name(file.status),
                "experiment back to its configured status"
            );
        }
        Ok((self.state(name)?, removed))
    }

    /// The results as they stood at a change, a point of their history.
    /// The change is in force already; a failed snapshot only costs that point.
    async fn snapshot(&self, now_ms: i64) {
        if let Err(error) = crate::history::record_point(&self.store, now_ms).await {
            tracing::warn!(error = ?error, "cannot record the results at a lifecycle change");
        }
    }

    fn state(&self, name: &str) -> Result<ExperimentState, LifecycleError> {
        // A reload between the change and this read may have removed it.
        self.live
            .current()
            .state(name)
            .ok_or_else(|| LifecycleError::UnknownExperiment(name.to_owned()))
    }
}
