//! Durable storage of events and counts: a [`Store`] trait with one SQL
//! implementation that runs on SQLite (embedded default) and PostgreSQL
//! (shared by several instances), and a group-commit [`EventWriter`] in front
//! of it so that durability does not cost one fsync per request.

mod bulk;
mod deadline;
mod digest;
mod effects;
mod history;
mod jobs;
mod outbox;
mod overrides;
mod postgres;
mod rate_buckets;
mod rules;
mod splits;
mod sql;
mod sqlite;
mod sqlite_events;
mod sqlite_writes;
mod sqlx_enrol;
mod sqlx_tables;
mod sqlx_writes;
mod verdicts;
mod writer;

pub use digest::{DigestSum, TakenDigest};
pub use effects::{Effects, OutboxRow, Routing, no_routing};
pub use history::{HistoryCount, HistoryPoint, PointCause};
pub use outbox::{Claimed, DeadLetter, Outbox};
pub use overrides::StoredOverride;
pub use rate_buckets::{Bucket, BucketUpdate};
pub use sql::{Backend, SqlStore};
pub use verdicts::Comparison;
pub use writer::EventWriter;

use crate::configuration::StorageUrl;
use crate::names::{ExperimentName, Goal, VariantName};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

/// A storage failure. Never shown to clients; logged with its cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// SQLite refused or failed, on the writer's own connection.
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    /// A migration failed at start.
    #[error("migration failed")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The storage URL is not usable.
    #[error("{0}")]
    Url(String),
    /// The writer task is gone (shutting down, or it died).
    #[error("the event writer has stopped")]
    WriterStopped,
    /// The database did not answer within `storage.write_timeout_secs`
    /// (`read_timeout_secs` for a read).
    #[error("the database did not answer in time")]
    Timeout,
    /// An earlier batch failed moments ago; this one was refused without
    /// trying, so that callers hear within milliseconds, not a pool timeout.
    #[error("the store failed moments ago; not retried yet")]
    Failing,
    /// Other instances kept enrolling the batch's new units while it was
    /// applied (PostgreSQL); nothing of it was kept.
    #[error("the batch kept conflicting with concurrent writers")]
    Contended,
    /// The writer's batch this step had joined failed.
    #[error("the batch it joined failed")]
    Batch(#[source] Arc<StoreError>),
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

/// One event to record. A server-side view or conversion enrols the unit
/// too when it is not yet a participant, so that counts stay consistent; a
/// browser's never does (see [`Applied::NotAssigned`]).
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
    /// A browser's view or conversion of a unit that is not a participant:
    /// only an assignment enrols a unit from a browser, so that no client
    /// can enrol made-up units in a variant of its choice. Nothing changed.
    NotAssigned,
}

impl Applied {
    /// Refused: the event changed nothing and gives its id back.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::VariantMismatch { .. } | Self::NotAssigned)
    }
}

/// A sender's id for one request, so that a retry of it changes nothing:
/// the Standard Webhooks `webhook-id`, or an `Idempotency-Key` header.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct DeliveryId(String);

impl DeliveryId {
    /// The `webhook-id` of a signed delivery.
    pub fn signed(id: &str) -> Self {
        // Prefixes keep the kinds apart in one table with the event ids.
        Self(format!("whdelivery:{id}"))
    }

    /// The `Idempotency-Key` of a token-authenticated request.
    pub fn idempotency_key(key: &str) -> Self {
        Self(format!("idem:{key}"))
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What one request asks to record, committed as a whole in one transaction
/// (never split across batches) together with its delivery id.
#[derive(Debug, Clone, Default)]
pub struct Write {
    /// The request's delivery id; when it was recorded before, nothing of
    /// this write is applied.
    pub delivery: Option<DeliveryId>,
    /// The events, applied in order.
    pub events: Vec<Event>,
    /// Answered 4xx when every one of its events is refused (a lone event,
    /// or a batch with nothing ignored): such a write must not consume the
    /// delivery id, so that a corrected retry is applied.
    pub refusable: bool,
    /// Rewrites the writer's probe row: a commit that touches the database
    /// file even without events, for readiness.
    pub probe: bool,
}

impl Write {
    /// Events without a delivery id.
    pub fn events(events: Vec<Event>) -> Self {
        Self {
            events,
            ..Self::default()
        }
    }
}

/// The writes that carry a delivery id, in the order of their ids: both
/// write paths record the ids first and in this order, so that two instances
/// committing the same id wait on each other rather than deadlock.
fn delivery_order(writes: &[Write]) -> Vec<(usize, &DeliveryId)> {
    let mut order: Vec<(usize, &DeliveryId)> = writes
        .iter()
        .enumerate()
        .filter_map(|(i, w)| Some((i, w.delivery.as_ref()?)))
        .collect();
    order.sort_by(|a, b| a.1.cmp(b.1));
    order
}

/// What recording a [`Write`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    /// Applied: one outcome per event, in order.
    Applied(Vec<Applied>),
    /// The delivery id was recorded before; nothing changed.
    DuplicateDelivery,
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
    /// Records a batch of writes in one transaction, committed before it
    /// returns; the outcomes are in the order of `writes`. On any failure
    /// nothing of the batch is kept and no connection stays inside the
    /// failed transaction.
    async fn apply(&self, writes: &[Write]) -> Result<Vec<Written>, StoreError>;
    /// Every counter.
    async fn counters(&self) -> Result<Vec<Counter>, StoreError>;
    /// Unix seconds of the first participant of `experiment`, if any.
    async fn first_participant_at(&self, experiment: &str) -> Result<Option<i64>, StoreError>;
    /// Every results history point, oldest first, with `experiment`'s counts
    /// at each (none at the points before it had any).
    async fn history(&self, experiment: &str) -> Result<Vec<HistoryPoint>, StoreError>;
    /// The variant `unit_id` is a participant of in `experiment`, if it is one.
    async fn recorded_variant(
        &self,
        experiment: &str,
        unit_id: &str,
    ) -> Result<Option<String>, StoreError>;
}

/// Opens the store named by `url` and runs its migrations.
pub async fn open(
    url: &SecretString,
    routing: Arc<dyn Routing>,
) -> Result<Arc<SqlStore>, StoreError> {
    open_with_pool(url, None, routing).await
}

/// [`open`] as `[storage]` says: its URL, pool size and write timeout.
pub async fn open_configured(
    storage: &crate::configuration::StorageSettings,
    routing: Arc<dyn Routing>,
) -> Result<Arc<SqlStore>, StoreError> {
    let mut store = open_store(&storage.url, storage.pool_size, routing).await?;
    store.write_timeout = std::time::Duration::from_secs(storage.write_timeout_secs);
    store.read_timeout = std::time::Duration::from_secs(storage.read_timeout_secs);
    Ok(Arc::new(store))
}

/// [`open`] with `pool_size` connections in the pool (the default when `None`).
pub async fn open_with_pool(
    url: &SecretString,
    pool_size: Option<u32>,
    routing: Arc<dyn Routing>,
) -> Result<Arc<SqlStore>, StoreError> {
    Ok(Arc::new(open_store(url, pool_size, routing).await?))
}

async fn open_store(
    url: &SecretString,
    pool_size: Option<u32>,
    routing: Arc<dyn Routing>,
) -> Result<SqlStore, StoreError> {
    sqlx::any::install_default_drivers();
    Ok(
        match StorageUrl::parse(url).map_err(|e| StoreError::Url(e.to_string()))? {
            StorageUrl::Sqlite { path, synchronous } => {
                sqlite::open(&path, synchronous, pool_size.unwrap_or(4), routing).await?
            }
            StorageUrl::Postgres(url) => {
                postgres::open(url.expose_secret(), pool_size.unwrap_or(10), routing).await?
            }
        },
    )
}
