//! Counter increments of one batch, shared by both write paths.

use std::collections::BTreeMap;

/// Increments keyed (experiment, variant, metric, goal), applied in key
/// order so that concurrent instances lock counter rows in the same order.
pub(in crate::store) type Increments = BTreeMap<(String, String, &'static str, String), i64>;

/// Adds one to a counter of the batch.
pub(in crate::store) fn count(
    increments: &mut Increments,
    experiment: &str,
    variant: &str,
    metric: &'static str,
    goal: &str,
) {
    *increments
        .entry((
            experiment.to_owned(),
            variant.to_owned(),
            metric,
            goal.to_owned(),
        ))
        .or_default() += 1;
}
