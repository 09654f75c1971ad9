//! The command line: `splitcast [--config PATH] [serve|check-config|notify-test]`.

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
#[derive(Debug, Subcommand, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// Run the server.
    Serve,
    /// Validate the configuration and print it with secrets redacted (exit 2 when invalid).
    CheckConfig,
    /// Send one test notification through every enabled notifier (exit 1 if any failed).
    NotifyTest,
}
