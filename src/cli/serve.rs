//! `splitcast serve` (the default command).

use super::CliError;
use crate::configuration::{ConfigError, Settings, Sources, StorageUrl};
use crate::startup::Application;

/// Runs the server until SIGINT or SIGTERM; `sources` are re-read on reload.
pub async fn serve(settings: Settings, sources: Sources) -> Result<(), CliError> {
    log_what_it_runs_on(&settings, &sources);
    let host = settings.server.host.clone();
    let app = Application::build(settings, sources)
        .await
        // A configuration the store's state refuses (a changed split) is a
        // configuration error: exit 2, one line naming the key.
        .map_err(|error| match error.downcast::<ConfigError>() {
            Ok(config) => CliError::Config(config),
            Err(error) => CliError::Serve(error),
        })?;
    app.stop_on_signals()
        .map_err(|e| CliError::Serve(anyhow::anyhow!("cannot listen for signals: {e}")))?;
    // Tests and scripts read the port from this line.
    tracing::info!("listening on http://{host}:{}", app.port());
    app.run_until_stopped()
        .await
        .map_err(|e| CliError::Serve(e.into()))?;
    tracing::info!("stopped");
    Ok(())
}

/// The first lines of a server's log: every file it read and every path it
/// uses, absolute, so that a process started from an unexpected folder says
/// so at once.
fn log_what_it_runs_on(settings: &Settings, sources: &Sources) {
    let files: Vec<String> = sources
        .files()
        .iter()
        .map(|f| f.display().to_string())
        .collect();
    tracing::info!(
        "configuration: {} and SPLITCAST__* environment variables",
        files.join(", ")
    );
    match settings.server.static_dir.as_str() {
        "" => tracing::info!("pages: built in"),
        dir => tracing::info!("pages: {dir}"),
    }
    if let Ok(StorageUrl::Sqlite { path, .. }) = StorageUrl::parse(&settings.storage.url) {
        tracing::info!("SQLite database: {path}");
    }
}
