//! Durable storage of events and counts: a [`Store`] trait with one SQL
//! implementation that runs on SQLite (embedded default) and PostgreSQL
//! (shared by several instances), and a group-commit [`EventWriter`] in front
//! of it so that durability does not cost one fsync per request.

mod bulk;
mod digest;
mod outbox;
mod postgres;
mod routing;
mod sql;
mod sqlite;
mod verdicts;
mod writer;

pub use outbox::{Claimed, DeadLetter};
pub use routing::NotifyRouting;
pub use sql::{Backend, SqlStore};
pub use verdicts::Comparison;
pub use writer::EventWriter;

use crate::names::{ExperimentName, Goal, VariantName};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

/// A storage failure. Never shown to clients; logged with its cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// A migration failed at start.
    #[error("migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The storage URL is not usable.
    #[error("storage.url: {0}")]
    Url(String),
    /// The writer task is gone (shutting down).
    #[error("the event writer has stopped")]
    WriterStopped,
}

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A browser, through the session cookie.
    Browser,
    /// A backend, through `POST /webhook`.
    Webhook,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Self::Browser => "browser",
            Self::Webhook => "webhook",
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The unit was assigned; counted once as a participant.
    Enroll,
    /// A page view.
    View,
    /// A conversion on a goal.
    Convert(Goal),
}

/// One event to record. Views and conversions enrol the unit too when it is
/// not yet a participant, so that counts stay consistent.
#[derive(Debug, Clone)]
pub struct Event {
    /// The experiment.
    pub experiment: ExperimentName,
    /// The variant the unit was shown.
    pub variant: VariantName,
    /// The counting unit: the user id, else the visitor id.
    pub unit_id: String,
    /// What happened.
    pub action: Action,
    /// Where it came from.
    pub source: Source,
    /// A client-given event id; an id seen before makes the event a duplicate.
    pub event_id: Option<String>,
    /// Unix seconds.
    pub at: i64,
}

/// What recording an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Enrolment: `new` when the unit was not a participant before.
    Enrolled {
        /// First enrolment of this unit.
        new: bool,
        /// The variant on record: the event's when new, else the unit's
        /// earlier one (a user seen before on another device keeps it).
        variant: String,
    },
    /// A view was counted; `unique` for the unit's first.
    Viewed {
        /// First view of this unit.
        unique: bool,
    },
    /// A conversion was recorded; only the `first` per unit and goal counts.
    Converted {
        /// First conversion of this unit on this goal.
        first: bool,
    },
    /// The event id was seen before; nothing changed.
    DuplicateId,
    /// The unit is a participant of another variant; nothing changed.
    VariantMismatch {
        /// The variant on record.
        recorded: String,
    },
}

/// One aggregated counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    /// Experiment name.
    pub experiment: String,
    /// Variant name.
    pub variant: String,
    /// `participants`, `views`, `unique_views`, `conversions` or `total_conversions`.
    pub metric: String,
    /// The goal for conversion metrics, empty otherwise.
    pub goal: String,
    /// The count.
    pub value: i64,
}

/// Durable storage.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Records a batch of events in one transaction, committed before it
    /// returns; the outcomes are in the order of `events`.
    async fn apply(&self, events: &[Event]) -> Result<Vec<Applied>, StoreError>;
    /// Every counter.
    async fn counters(&self) -> Result<Vec<Counter>, StoreError>;
    /// Whether the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Whether a signed webhook delivery with this id was already recorded.
    async fn delivery_seen(&self, id: &str) -> Result<bool, StoreError>;
    /// Remembers the id of a signed webhook delivery once its events are
    /// durable; `true` when it was not seen before.
    async fn remember_delivery(&self, id: &str, at: i64) -> Result<bool, StoreError>;
    /// Unix seconds of the first participant of `experiment`, if any.
    async fn first_participant_at(&self, experiment: &str) -> Result<Option<i64>, StoreError>;
}

/// Opens the store named by `url` and runs its migrations.
pub async fn open(url: &SecretString, routing: NotifyRouting) -> Result<Arc<SqlStore>, StoreError> {
    sqlx::any::install_default_drivers();
    let url = url.expose_secret();
    let store = if url.starts_with("sqlite:") {
        sqlite::open(url, routing).await?
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        postgres::open(url, routing).await?
    } else {
        return Err(StoreError::Url(
            "must start with sqlite: or postgres://".into(),
        ));
    };
    Ok(Arc::new(store))
}
