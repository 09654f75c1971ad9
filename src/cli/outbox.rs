//! `splitcast outbox list|requeue`.

use super::CliError;
use crate::configuration::Settings;
use crate::store::{DeadLetter, SqlStore};
use std::fmt;
use std::sync::Arc;

/// The dead letters, as of `now` (unix ms).
#[derive(Debug)]
pub struct DeadLetters {
    /// The rows.
    pub rows: Vec<DeadLetter>,
    /// When they were read, for their age.
    pub now: i64,
}

/// `N dead letter(s)`, then one tab-separated line per row: id, notifier,
/// age, attempts, reason.
impl fmt::Display for DeadLetters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} dead letter(s)", self.rows.len())?;
        for row in &self.rows {
            let age_min = (self.now - row.created_at) / 60_000;
            writeln!(
                f,
                "{}\t{}\t{} min ago\t{} attempt(s)\t{}",
                row.id, row.notifier, age_min, row.attempts, row.last_error
            )?;
        }
        Ok(())
    }
}

/// The store of `settings`, without the notifiers' routing.
pub(super) async fn open_store(settings: &Settings) -> Result<Arc<SqlStore>, CliError> {
    Ok(crate::store::open(&settings.storage.url, crate::store::no_routing()).await?)
}

/// `outbox list`.
pub async fn list_dead_letters(settings: &Settings) -> Result<DeadLetters, CliError> {
    let store = open_store(settings).await?;
    let rows = store.dead_letters().await?;
    Ok(DeadLetters {
        rows,
        now: crate::clock::now_millis(),
    })
}

/// `outbox requeue ID|all`: `N row(s) re-queued`. An id that names no dead
/// letter is [`CliError::NoSuchDeadLetter`], not a silent `0`.
pub async fn requeue(settings: &Settings, target: &str) -> Result<String, CliError> {
    let id = match target {
        "all" => None,
        other => Some(other.parse::<i64>().map_err(|_| {
            CliError::Usage(format!(
                "outbox requeue takes a row id or `all`, not {other:?}"
            ))
        })?),
    };
    let store = open_store(settings).await?;
    let count = store.requeue(id, crate::clock::now_millis()).await?;
    match id {
        Some(id) if count == 0 => Err(CliError::NoSuchDeadLetter(id)),
        _ => Ok(format!("{count} row(s) re-queued\n")),
    }
}
