//! Why a command failed: its exit status (2 for a configuration or an
//! argument it cannot use, 1 for a failure while doing the work) and its
//! one line.

use super::notify_test::NotifyReport;
use crate::configuration::ConfigError;
use crate::planner::PlanError;
use crate::store::StoreError;

/// A command's failure.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The configuration is invalid; the line names the key.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// `sample-size` was asked a question without an answer.
    #[error("sample-size: {0}")]
    Plan(#[from] PlanError),
    /// An argument or setting the command cannot use.
    #[error("{0}")]
    Usage(String),
    /// `reload` got no answer from the server.
    #[error("reload: cannot reach the server at {endpoint} ({from}): {cause}")]
    Unreachable {
        /// The URL asked.
        endpoint: String,
        /// Where the address came from: `--url` or the configuration.
        from: &'static str,
        /// Why, with its causes.
        cause: String,
    },
    /// The server answered the reload with an error (an invalid file: 422).
    #[error("reload refused ({status}): {message}")]
    ReloadRefused {
        /// The HTTP status.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// `outbox requeue ID` named no dead letter.
    #[error("outbox requeue: no dead letter has id {0} (see `splitcast outbox list`)")]
    NoSuchDeadLetter(i64),
    /// A notifier of `notify-test` failed; the report is printed too.
    #[error("notify-test: {} of {} notifier(s) failed", .0.failures(), .0.len())]
    NotifyFailed(NotifyReport),
    /// The store could not be opened or read.
    #[error("{}", super::chain(.0))]
    Store(#[from] StoreError),
    /// The server failed to start or stopped on an error.
    #[error("{0:#}")]
    Serve(anyhow::Error),
    /// Any other failure while doing the work.
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

impl CliError {
    /// The process's exit status.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Plan(_) | Self::Usage(_) => 2,
            _ => 1,
        }
    }

    /// What goes to stdout besides the error line (the report of a
    /// `notify-test` with failures).
    pub fn stdout(&self) -> String {
        match self {
            Self::NotifyFailed(report) => report.to_string(),
            _ => String::new(),
        }
    }

    /// Prints the error once: the server's own failure in its log (where a
    /// supervisor reads it, JSON included), any other on stderr.
    pub fn report(&self) {
        print!("{}", self.stdout());
        match self {
            Self::Serve(_) => tracing::error!("{self}"),
            _ => eprintln!("splitcast: {self}"),
        }
    }
}
