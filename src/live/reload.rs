//! Reloading the configuration file without a restart (SIGHUP or
//! `POST /admin/reload`). The file is validated as at start-up, but under
//! the running `environment`'s rules whatever the file says (a production
//! process never takes what only development accepts); an invalid one
//! changes nothing. A valid one is put in force at once, except
//! for what a running process cannot take:
//! - the `environment`, `[server]`, `[session]`, `[storage]` and `[history]`
//!   sections (the listener, the session key, the database and the
//!   snapshot schedule are bound at start):
//!   they keep their running values until a restart;
//! - a new definition of an experiment that has participants, when it
//!   changes its variants, their weights, the assignment method or the hash
//!   seed: sticky cookies and hashed users would land in other variants and
//!   the counts would mix two designs (and fail the sample-ratio check).
//!   That experiment keeps its running definition; a new name starts a new one.

use super::Live;
use super::split::{self, Split};
use crate::configuration::{ConfigError, Environment, Settings, Sources, UserIdPolicy};
use crate::experiment::Experiment;
use crate::store::{SqlStore, StoreError};
use std::collections::HashSet;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc};

/// Why a reload changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file is invalid: one line naming the key.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Which experiments have participants could not be read.
    #[error("cannot read the participant counts")]
    Store(#[from] StoreError),
}

/// What a reload put in force, and what it kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReloadOutcome {
    /// One line per refused experiment change (the running definition stays).
    pub refused: Vec<String>,
    /// Sections changed in the file that need a restart (running values stay).
    pub needs_restart: Vec<String>,
    /// Whether the notifiers were restarted with new settings.
    pub notifiers_restarted: bool,
}

/// Reloads the configuration from its sources.
pub struct Reloader {
    live: Arc<Live>,
    store: Arc<SqlStore>,
    sources: Sources,
    /// Told the new settings when a notifier or the `[notify]` section changed.
    notifiers: mpsc::UnboundedSender<Settings>,
    /// One reload at a time (a signal and an admin call may cross).
    running: Mutex<()>,
}

impl Reloader {
    /// Reloads from `sources` into `live`.
    pub fn new(
        live: Arc<Live>,
        store: Arc<SqlStore>,
        sources: Sources,
        notifiers: mpsc::UnboundedSender<Settings>,
    ) -> Self {
        Self {
            live,
            store,
            sources,
            notifiers,
            running: Mutex::new(()),
        }
    }

    /// Re-reads and validates the configuration and puts it in force;
    /// logs what it did, in one line per refusal.
    pub async fn reload(&self) -> Result<ReloadOutcome, ReloadError> {
        let _one_at_a_time = self.running.lock().await;
        let result = self.reload_once().await;
        match &result {
            Ok(outcome) => {
                for line in outcome.refused.iter().chain(&outcome.needs_restart) {
                    tracing::warn!("reload: {line}");
                }
                tracing::info!(
                    refused = outcome.refused.len(),
                    notifiers_restarted = outcome.notifiers_restarted,
                    "configuration reloaded"
                );
            }
            Err(error) => {
                tracing::error!("reload refused, the running configuration stays: {error}")
            }
        }
        result
    }

    async fn reload_once(&self) -> Result<ReloadOutcome, ReloadError> {
        let running = self.live.current().settings.clone();
        let sources = self.sources.clone();
        // Checked under the running environment's rules, not the file's: the
        // environment is kept until a restart, so a file saying
        // `development` must not bring an empty admin token or a loopback
        // notifier into a production process.
        let environment = running.environment;
        let (new, in_file) =
            tokio::task::spawn_blocking(move || Settings::load_as(sources, environment))
                .await
                .map_err(|_| ConfigError("the configuration could not be read".to_owned()))??;
        let with_participants = split::with_participants(&self.store).await?;
        let (merged, mut outcome) = merge(&running, new, &with_participants);
        // The splits now in force, so that a restart with this file is
        // checked against them, not against the ones of the last start.
        for experiment in merged.experiments.iter() {
            split::record(&self.store, experiment).await?;
        }
        if in_file != running.environment {
            outcome
                .needs_restart
                .insert(0, environment_kept(running.environment));
        }
        let restart_notifiers = !same_notifiers(&running, &merged);
        for warning in &merged.warnings {
            tracing::warn!("{warning}");
        }
        self.live.set_settings(merged.clone());
        if restart_notifiers {
            outcome.notifiers_restarted = self.notifiers.send(merged).is_ok();
        }
        Ok(outcome)
    }
}

/// `new`, with what a running process cannot take replaced by `running`'s.
pub fn merge(
    running: &Settings,
    mut new: Settings,
    with_participants: &HashSet<String>,
) -> (Settings, ReloadOutcome) {
    let mut outcome = ReloadOutcome::default();
    let mut keep = |section: &str, changed: bool| {
        if changed {
            outcome.needs_restart.push(format!(
                "{section}: changed in the file; takes effect at the next restart \
                 (the running value stays)"
            ));
        }
    };
    // `new` was validated under the running environment (see `reload_once`).
    new.environment = running.environment;
    keep("server", !same_server(running, &new));
    new.server = running.server.clone();
    keep("session", !same_session(running, &new));
    new.session = running.session.clone();
    keep("storage", !same_storage(running, &new));
    new.storage = running.storage.clone();
    keep(
        "history",
        running.history.interval() != new.history.interval(),
    );
    new.history = running.history.clone();
    for old in running.experiments.iter() {
        let name = old.name.as_str();
        if !with_participants.contains(name) {
            continue;
        }
        let Some(replacement) = new.experiments.get_mut(name) else {
            continue;
        };
        if let Some(what) = assignment_change(old, replacement) {
            outcome.refused.push(format!(
                "experiments.{name}: {what} of an experiment with participants would corrupt \
                 its results; it keeps its running definition (name a new experiment instead)"
            ));
            *replacement = old.clone();
        }
    }
    (new, outcome)
}

/// The restart line of a file whose `environment` is not the running one.
fn environment_kept(running: Environment) -> String {
    let running = match running {
        Environment::Development => "development",
        Environment::Production => "production",
    };
    format!(
        "environment: changed in the file; takes effect at the next restart (the running \
         value stays, and the file was checked under {running}'s rules)"
    )
}

/// What of the assignment `new` changes, if anything.
fn assignment_change(old: &Experiment, new: &Experiment) -> Option<&'static str> {
    Split::of(old).change_to(&Split::of(new))
}

fn same_server(a: &Settings, b: &Settings) -> bool {
    serde_json::to_value(&a.server).ok() == serde_json::to_value(&b.server).ok()
}

fn same_session(a: &Settings, b: &Settings) -> bool {
    let (a, b) = (&a.session, &b.session);
    // A generated key is new at every load; only a configured one can change.
    let same_key = (a.generated_key && b.generated_key) || a.key.master() == b.key.master();
    a.cookie_name == b.cookie_name
        && same_key
        && a.content_security == b.content_security
        && a.secure == b.secure
        && a.same_site == b.same_site
        && a.max_age_days == b.max_age_days
        && same_user_ids(&a.user_ids, &b.user_ids)
}

fn same_user_ids(a: &UserIdPolicy, b: &UserIdPolicy) -> bool {
    use secrecy::ExposeSecret;
    match (a, b) {
        (UserIdPolicy::Signed(a), UserIdPolicy::Signed(b)) => {
            a.expose_secret() == b.expose_secret()
        }
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

fn same_storage(a: &Settings, b: &Settings) -> bool {
    use secrecy::ExposeSecret;
    a.storage.url.expose_secret() == b.storage.url.expose_secret()
        && a.storage.pool_size == b.storage.pool_size
}

fn same_notifiers(a: &Settings, b: &Settings) -> bool {
    a.notifiers.len() == b.notifiers.len()
        && a.notifiers
            .iter()
            .zip(&b.notifiers)
            .all(|(x, y)| x.same_as(y))
        && serde_json::to_value(&a.notify).ok() == serde_json::to_value(&b.notify).ok()
}

#[cfg(test)]
mod tests;
