//! The arguments: `splitcast [--config PATH] [serve|check-config|notify-test|reload|experiments|outbox|sample-size]`.

use crate::telemetry::LogFormat;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// A self-hosted, server-side A/B testing service.
#[derive(Debug, Parser)]
#[command(name = "splitcast", version, about)]
pub struct Cli {
    /// The configuration file (default: config/default.toml).
    #[arg(long, global = true, env = "SPLITCAST_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log line format.
    #[arg(
        long,
        global = true,
        env = "SPLITCAST_LOG_FORMAT",
        value_enum,
        default_value = "pretty"
    )]
    pub log_format: LogFormat,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand, Clone, PartialEq)]
pub enum Command {
    /// Run the server.
    Serve,
    /// Validate the configuration and print it with secrets redacted (exit 2 when invalid).
    CheckConfig,
    /// Send one test notification through every enabled notifier (exit 1 if any
    /// failed); a delivered one also resumes that notifier if it was paused.
    NotifyTest,
    /// Manage the store's record of experiments.
    Experiments {
        /// What to do.
        #[command(subcommand)]
        action: ExperimentsAction,
    },
    /// Inspect and re-queue dead-lettered notifications.
    Outbox {
        /// What to do.
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// Ask the running server to reload its configuration file (as SIGHUP
    /// does) through `POST /admin/reload`, with this configuration's admin
    /// token; prints what it did. Exit 2 when this configuration is invalid
    /// (checked here first; the server, which would refuse the same file, is
    /// not asked) or when no address is known (`server.port = 0` without
    /// `--url`), 1 when the server refused the reload or cannot be reached.
    Reload {
        /// The server's address; by default `http://<server.host>:<server.port>`
        /// of this configuration (`0.0.0.0` and `::` are asked on loopback).
        #[arg(long)]
        url: Option<String>,
    },
    /// Print the participants per variant a fixed-horizon experiment needs
    /// (`sample_size` of `analysis = "fixed"`); the last line is `N per arm`.
    SampleSize(SampleSizeArgs),
}

/// `splitcast sample-size ...`.
#[derive(Debug, clap::Args, Clone, PartialEq)]
pub struct SampleSizeArgs {
    /// The control's conversion rate, a fraction: 0.12 = 12%.
    #[arg(long)]
    pub baseline: f64,
    /// The smallest change worth detecting, a fraction: 0.03 = three points,
    /// or with --relative a share of the baseline, 0.1 = +10%.
    #[arg(long, allow_hyphen_values = true)]
    pub lift: f64,
    /// Read --lift as relative to the baseline.
    #[arg(long)]
    pub relative: bool,
    /// Chance of detecting the lift if it is real.
    #[arg(long, default_value_t = 0.8)]
    pub power: f64,
    /// Two-sided significance level.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
}

/// `splitcast experiments ...`.
#[derive(Debug, Subcommand, Clone, PartialEq, Eq)]
pub enum ExperimentsAction {
    /// Archive an experiment's counts (participants, conversions, verdicts,
    /// history) under `NAME@reset-<unix seconds>` and forget its split, so
    /// that it starts over with no participants and may take a new split.
    /// Run it while no server uses the store.
    Reset {
        /// The experiment.
        name: String,
    },
}

/// `splitcast outbox ...`.
#[derive(Debug, Subcommand, Clone, PartialEq, Eq)]
pub enum OutboxAction {
    /// List dead letters: id, notifier, age, attempts, reason.
    List,
    /// Put a dead letter (by id) or all of them (`all`) back in the queue;
    /// exit 1 when no dead letter has that id.
    Requeue {
        /// A row id from `outbox list`, or `all`.
        target: String,
    },
}

/// A command-line mistake in one line, as every other error of splitcast:
/// clap's message without its usage block, its lines joined.
pub fn one_line(error: &clap::Error) -> String {
    let text = error.render().to_string();
    let message: Vec<&str> = text
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .filter(|line| !line.is_empty())
        .collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    format!("splitcast: {message} (see --help)")
}
