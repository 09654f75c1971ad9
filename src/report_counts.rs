//! The store's counters read as the report's counts: the one place where
//! storage rows become the domain counts `results` and the statistics take.

use crate::results::Count;
use crate::store::{Store, StoreError};

/// Every count the store holds.
pub async fn read(store: &dyn Store) -> Result<Vec<Count>, StoreError> {
    Ok(store
        .counters()
        .await?
        .into_iter()
        .map(|c| Count {
            experiment: c.experiment,
            variant: c.variant,
            metric: c.metric,
            goal: c.goal,
            // A counter is a sum of increments: it is never below zero.
            value: u64::try_from(c.value).unwrap_or(0),
        })
        .collect())
}
