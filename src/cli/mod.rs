//! The command line. `main` parses the arguments ([`Cli`]) and hands them
//! to [`run`]; each command is a function of its own module that returns
//! what it prints, or a [`CliError`] that knows its exit status and where
//! its one line goes.

mod args;
mod check_config;
mod error;
mod experiments;
mod notify_test;
mod outbox;
mod reload;
mod sample_size;
mod serve;

pub use args::{Cli, Command, ExperimentsAction, OutboxAction, SampleSizeArgs, one_line};
pub use check_config::check_config;
pub use error::CliError;
pub use notify_test::{NotifyReport, notify_test};
pub use outbox::{DeadLetters, list_dead_letters, requeue};
pub use reload::{Reloaded, reload};
pub use sample_size::sample_size;
pub use serve::serve;

use crate::configuration::{Settings, Sources};
use std::future::Future;

/// Runs the command (`serve` when none is given) and returns what it prints
/// on stdout.
pub fn run(cli: Cli) -> Result<String, CliError> {
    let command = cli.command.unwrap_or(Command::Serve);
    let sources = Sources::process(cli.config);
    // Planning and validating need nothing else; the rest needs valid settings.
    match &command {
        Command::SampleSize(args) => return sample_size(args),
        Command::CheckConfig => return check_config(sources),
        _ => {}
    }
    let settings = Settings::load(sources.clone())?;
    match command {
        Command::Serve => block_on(serve(settings, sources)).map(|()| String::new()),
        Command::NotifyTest => block_on(notify_test(&settings)).map(|r| r.to_string()),
        Command::Reload { url } => {
            block_on(reload(&settings, url.as_deref())).map(|r| r.to_string())
        }
        Command::Experiments {
            action: ExperimentsAction::Reset { name },
        } => block_on(experiments::reset(&settings, &name)),
        Command::Outbox { action } => block_on(async {
            match action {
                OutboxAction::List => list_dead_letters(&settings).await.map(|d| d.to_string()),
                OutboxAction::Requeue { target } => requeue(&settings, &target).await,
            }
        }),
        Command::SampleSize(_) | Command::CheckConfig => unreachable!("answered above"),
    }
}

/// Runs an async command on a runtime of its own.
fn block_on<T>(future: impl Future<Output = Result<T, CliError>>) -> Result<T, CliError> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| CliError::Failed(anyhow::anyhow!("cannot start the runtime: {e}")))?;
    runtime.block_on(future)
}

/// An error and its causes on one line: `a: b: c`.
fn chain(error: &dyn std::error::Error) -> String {
    let mut line = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // reqwest and hyper repeat part of the message in their causes.
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}
