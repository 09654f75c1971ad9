//! splitcast: a self-hosted, server-side A/B testing service.
//!
//! A page calls `GET /get_content`; splitcast assigns the visitor a variant,
//! keeps it in a signed cookie session, answers the variant's content, and
//! durably counts views and conversions.

pub mod analysis;
pub mod assignment;
pub mod cli;
pub mod client_limit;
pub mod clock;
pub mod configuration;
pub mod credentials;
pub mod echo;
pub mod egress;
pub mod error;
pub mod experiment;
pub mod history;
pub mod ingest;
pub mod live;
pub mod metrics;
pub mod names;
pub mod notify;
pub mod planner;
pub mod report_counts;
pub mod results;
pub mod results_csv;
pub mod routes;
pub mod session;
pub mod significance;
pub mod standard_webhooks;
pub mod startup;
pub mod state;
pub mod stats;
pub mod store;
pub mod supervisor;
pub mod telemetry;
