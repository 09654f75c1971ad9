//! The event rules, once, for every backend: what a batch of writes does,
//! decided in memory from what the database held before it. No SQL and no
//! I/O here; each executor (`sqlite_writes.rs` on SQLite, `sqlx_writes.rs`
//! on PostgreSQL) reads the "before" state the rules ask for, writes the row
//! changes they produce, and tells them the counts its database holds after.
//!
//! The rules: a repeated event id is a duplicate; the first event of a unit
//! enrols it, except a browser's view or conversion, which needs the unit
//! on record (only an assignment enrols from a browser); an event naming
//! another variant than the one on record is refused and gives its id back;
//! the first view of a unit is a unique view; the first conversion of a unit
//! on a goal counts, later ones only add to `total_conversions`.

mod increments;
mod plan;
mod settle;

pub(super) use increments::Increments;
pub(super) use plan::{Before, Plan, Unit};
pub(super) use settle::{Settled, live_events, settle, units};
