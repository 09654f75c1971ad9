//! `splitcast check-config`.

use super::CliError;
use crate::configuration::{Settings, Sources};

/// Validates the configuration and returns it with every secret redacted.
pub fn check_config(sources: Sources) -> Result<String, CliError> {
    Ok(Settings::load(sources)?.redacted_toml())
}
