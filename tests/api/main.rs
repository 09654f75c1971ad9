//! The HTTP test suite: one binary, every test through the public surface.

mod access;
mod background_timeouts;
mod browser;
mod cluster_rate_limit;
mod config_validation;
mod content;
mod disk_full;
mod durability;
mod errors;
mod fuzz;
mod helpers;
mod history;
mod http_edges;
mod lifecycle;
mod notifications;
mod notifier_egress;
#[path = "../notifiers_wire/mod.rs"]
mod notifiers_wire;
mod notify_durability;
mod notify_test;
mod outbox;
mod outbox_on_writer;
mod postgres;
mod postgres_batches;
mod relay;
mod reload;
mod results;
mod sample_size;
mod sessions;
mod significance;
mod store_down;
mod tracking;
mod wal_size;
mod webhook;
mod webhook_delivery;
mod webhook_refused;
