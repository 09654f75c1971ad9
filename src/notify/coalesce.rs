//! Exact-count summaries: a backlog of event notifications merged into one
//! message (never dropped), and the periodic digest.

use super::{EventKind, Notification, SummaryLine, SummaryReason};
use std::collections::BTreeMap;

/// One counted item: (experiment, event, goal, variant, count).
pub type CountItem = (String, EventKind, Option<String>, String, u64);

/// Lines with exact per-variant counts, one per (experiment, event, goal).
pub fn lines(items: impl IntoIterator<Item = CountItem>) -> Vec<SummaryLine> {
    let mut grouped: BTreeMap<(String, EventKind, Option<String>), BTreeMap<String, u64>> =
        BTreeMap::new();
    for (experiment, event, goal, variant, count) in items {
        *grouped
            .entry((experiment, event, goal))
            .or_default()
            .entry(variant)
            .or_default() += count;
    }
    grouped
        .into_iter()
        .map(|((experiment, event, goal), counts)| SummaryLine {
            experiment,
            event,
            goal,
            counts,
        })
        .collect()
}

/// The count items of event notifications; other kinds are not events and
/// yield nothing.
pub fn event_items(notifications: &[Notification]) -> Vec<CountItem> {
    notifications
        .iter()
        .filter_map(|n| match n {
            Notification::Event {
                event,
                experiment,
                variant,
                goal,
                unit_count,
                ..
            } => Some((
                experiment.clone(),
                *event,
                goal.clone(),
                variant.clone(),
                *unit_count,
            )),
            _ => None,
        })
        .collect()
}

/// A summary notification.
pub fn summary(
    id: String,
    reason: SummaryReason,
    since: i64,
    until: i64,
    items: impl IntoIterator<Item = CountItem>,
) -> Notification {
    Notification::Summary {
        id,
        reason,
        since,
        until,
        lines: lines(items),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(variant: &str, event: EventKind, goal: Option<&str>) -> Notification {
        Notification::Event {
            id: "x".into(),
            event,
            experiment: "homepage_cta".into(),
            variant: variant.into(),
            goal: goal.map(str::to_owned),
            unit_count: 1,
            occurred_at: 0,
        }
    }

    #[test]
    fn a_backlog_is_merged_into_exact_counts_per_variant() {
        let mut backlog = Vec::new();
        for _ in 0..15 {
            backlog.push(event("A", EventKind::Conversion, Some("conversion")));
        }
        for _ in 0..22 {
            backlog.push(event("B", EventKind::Conversion, Some("conversion")));
        }
        backlog.push(event("B", EventKind::PageView, None));
        let lines = lines(event_items(&backlog));
        assert_eq!(lines.len(), 2);
        let rendered: Vec<String> = lines.iter().map(SummaryLine::render).collect();
        assert!(rendered.contains(&"homepage_cta · conversion: 37 (A: 15, B: 22)".to_owned()));
        assert!(rendered.contains(&"homepage_cta · page_view: 1 (B: 1)".to_owned()));
    }
}
