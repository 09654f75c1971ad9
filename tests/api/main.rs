//! The HTTP test suite: one binary, every test through the public surface.

mod browser;
mod config_validation;
mod content;
mod durability;
mod errors;
mod helpers;
mod notifications;
#[path = "../notifiers_wire/mod.rs"]
mod notifiers_wire;
mod notify_durability;
mod notify_test;
mod outbox;
mod postgres;
mod results;
mod sample_size;
mod sessions;
mod significance;
mod tracking;
mod webhook;
