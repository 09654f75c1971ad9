//! Server-side events, as posted to `POST /webhook` by a backend: who may
//! send them ([`auth`]), what a body means ([`payload`]), and the per-item
//! [`Summary`] the sender gets back. The route only glues these to the store.

pub mod auth;
pub mod payload;

pub use auth::{Credential, authenticate, precheck};
pub use payload::{Batch, MAX_BATCH, Resolved, parse_batch, resolve};

use crate::store::Applied;
use serde::Serialize;

/// Why a request is refused as a whole (mapped to HTTP by the web layer).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The body is not a payload this endpoint takes.
    #[error("{0}")]
    Malformed(String),
    /// A missing or wrong token or signature.
    #[error("missing or invalid credentials")]
    Unauthorized,
}

/// Why one item was not counted; the `code` of a rejected item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// The experiment is not configured.
    UnknownExperiment,
    /// The variant is not one of the experiment's.
    UnknownVariant,
    /// The goal is not one of the experiment's.
    UnknownGoal,
    /// A `random` experiment cannot guess which variant the user saw.
    VariantRequired,
    /// The variant contradicts the computed or the recorded one.
    VariantMismatch,
    /// The user falls outside the experiment's traffic share.
    NotEnrolled,
    /// The item is malformed: wrong types, unknown fields, a bad user id.
    BadEvent,
}

impl RejectCode {
    /// The code as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UnknownExperiment => "unknown_experiment",
            Self::UnknownVariant => "unknown_variant",
            Self::UnknownGoal => "unknown_goal",
            Self::VariantRequired => "variant_required",
            Self::VariantMismatch => "variant_mismatch",
            Self::NotEnrolled => "not_enrolled",
            Self::BadEvent => "bad_event",
        }
    }
}

/// One item refused, with a message for the sender's logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The machine-readable reason.
    pub code: RejectCode,
    /// What exactly was wrong.
    pub message: String,
}

impl Rejection {
    /// A rejection with `code`.
    pub fn new(code: RejectCode, message: impl Into<String>) -> Self {
        Self {
            code,
            // serde's messages repeat a client's unknown key whole.
            message: crate::echo::cut_message(&message.into()),
        }
    }
}

/// A rejected item in the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedItem {
    /// Position in the batch (0 for a single object).
    pub index: usize,
    /// The reason.
    pub code: RejectCode,
    /// Details.
    pub message: String,
}

/// The 202 body: what became of every item (also the body of the 422 of a
/// batch of which nothing was taken, beside its error object).
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Items counted now.
    pub accepted: usize,
    /// Items already counted before (same event id, or a repeat conversion).
    pub duplicates: usize,
    /// Items for paused or concluded experiments, which count nothing.
    pub ignored: usize,
    /// Items refused, in batch order.
    pub rejected: Vec<RejectedItem>,
}

impl Summary {
    /// Notes a refused item.
    pub fn reject(&mut self, index: usize, rejection: Rejection) {
        self.rejected.push(RejectedItem {
            index,
            code: rejection.code,
            message: rejection.message,
        });
    }

    /// Notes an item that counts nothing on purpose.
    pub fn ignore(&mut self) {
        self.ignored += 1;
    }

    /// Notes what the store did with item `index`; `true` when it counted.
    pub fn applied(&mut self, index: usize, applied: &Applied) -> bool {
        match applied {
            Applied::Viewed { .. }
            | Applied::Enrolled { .. }
            | Applied::Converted { first: true } => {
                self.accepted += 1;
                true
            }
            Applied::Converted { first: false } | Applied::DuplicateId => {
                self.duplicates += 1;
                false
            }
            Applied::VariantMismatch { recorded } => {
                self.reject(
                    index,
                    Rejection::new(
                        RejectCode::VariantMismatch,
                        format!("the user is a participant of variant {recorded:?}"),
                    ),
                );
                false
            }
            // Webhook events enrol their unit; only a browser's are refused so.
            Applied::NotAssigned => {
                self.reject(
                    index,
                    Rejection::new(RejectCode::NotEnrolled, "the user is not a participant"),
                );
                false
            }
        }
    }

    /// No item was counted, a duplicate or ignored: every one was refused,
    /// so the request as a whole failed.
    pub fn nothing_taken(&self) -> bool {
        self.accepted == 0 && self.duplicates == 0 && self.ignored == 0
    }

    /// Puts the rejections in batch order (the store's come after the parser's).
    pub fn finish(mut self) -> Self {
        self.rejected.sort_by_key(|r| r.index);
        self
    }
}

/// `value` quoted for a message, cut short: it came from the client.
pub(crate) fn quoted(value: &str) -> String {
    crate::echo::echo(value)
}
