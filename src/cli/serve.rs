//! `splitcast serve` (the default command).

use super::CliError;
use crate::configuration::{Settings, Sources};
use crate::startup::Application;

/// Runs the server until SIGINT or SIGTERM; `sources` are re-read on reload.
pub async fn serve(settings: Settings, sources: Sources) -> Result<(), CliError> {
    let host = settings.server.host.clone();
    let app = Application::build(settings, sources)
        .await
        .map_err(CliError::Serve)?;
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
