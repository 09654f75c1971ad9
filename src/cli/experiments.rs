//! `splitcast experiments reset NAME`: the explicit, logged way to give an
//! experiment with participants a new split.

use super::CliError;
use super::outbox::open_store;
use crate::configuration::Settings;

/// Archives `name`'s counts and forgets its split; answers what it did.
pub async fn reset(settings: &Settings, name: &str) -> Result<String, CliError> {
    if name.trim().is_empty() {
        return Err(CliError::Usage(
            "experiments reset: name the experiment".to_owned(),
        ));
    }
    let store = open_store(settings).await?;
    let archive = format!("{name}@reset-{}", crate::clock::now_secs());
    let moved = store.reset_experiment(name, &archive).await?;
    tracing::info!(
        experiment = name,
        archive = archive.as_str(),
        participants = moved,
        "experiment reset: its counts are archived and it starts over"
    );
    Ok(format!(
        "{name}: {moved} participant(s) and their counts archived as {archive}; \
         it starts over with the configured split\n"
    ))
}
