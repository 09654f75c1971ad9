//! The domain notification that every notifier renders for its own target.

use std::collections::BTreeMap;

/// What a visitor did.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The variant was shown.
    PageView,
    /// The visitor reached a goal.
    Conversion,
}

impl EventKind {
    /// The wire name, identical to the serde form (`page_view`, `conversion`).
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::PageView => "page_view",
            EventKind::Conversion => "conversion",
        }
    }
}

/// Why a summary was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryReason {
    /// The periodic digest of `digest` events.
    Digest,
    /// A backlog larger than the rate limit allows, coalesced into one message.
    Backlog,
}

/// Exact counts for one (experiment, event, goal) in a summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SummaryLine {
    /// Experiment name.
    pub experiment: String,
    /// Event kind counted on this line.
    pub event: EventKind,
    /// Goal of a conversion; `None` means the default goal.
    pub goal: Option<String>,
    /// Variant name to count.
    pub counts: BTreeMap<String, u64>,
}

impl SummaryLine {
    /// Sum over all variants.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// `conversion`, `conversion/<goal>` or `page_view`: the goal is only
    /// spelled out when it is not the default one, so the common line stays short.
    pub fn label(&self) -> String {
        match (self.event, self.goal.as_deref()) {
            (EventKind::Conversion, Some(goal)) if goal != "conversion" => {
                format!("conversion/{goal}")
            }
            (event, _) => event.as_str().to_owned(),
        }
    }

    /// The fixed plain-text form `homepage_cta · conversion: 37 (A: 15, B: 22)`.
    pub fn render(&self) -> String {
        let parts: Vec<String> = self
            .counts
            .iter()
            .map(|(v, n)| format!("{v}: {n}"))
            .collect();
        format!(
            "{} · {}: {} ({})",
            self.experiment,
            self.label(),
            self.total(),
            parts.join(", ")
        )
    }
}

/// One message to deliver; each notifier renders and escapes it for its target.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notification {
    /// One event. Names are already validated config names (experiment/goal:
    /// `[a-z0-9_]{1,40}`, variant `[A-Za-z0-9_]{1,40}`) but must still be escaped per target.
    Event {
        /// Stable across retries; used as the `webhook-id`.
        id: String,
        /// What happened.
        event: EventKind,
        /// Experiment name.
        experiment: String,
        /// Variant name.
        variant: String,
        /// Goal of a conversion.
        goal: Option<String>,
        /// Number of units; 1 for a single event.
        unit_count: u64,
        /// Unix seconds.
        occurred_at: i64,
    },
    /// Digest or coalesced backlog: exact counts, one line per (experiment, event, goal).
    Summary {
        /// Stable across retries.
        id: String,
        /// Digest or backlog.
        reason: SummaryReason,
        /// Start of the window, unix seconds.
        since: i64,
        /// End of the window, unix seconds.
        until: i64,
        /// The counted lines.
        lines: Vec<SummaryLine>,
    },
    /// Sent by `splitcast notify-test`.
    Test {
        /// Stable across retries.
        id: String,
    },
    /// A significance verdict change (rendered text is given; still escape it).
    Significance {
        /// Stable across retries.
        id: String,
        /// Experiment name.
        experiment: String,
        /// Goal name.
        goal: String,
        /// The variant compared with the control.
        variant: String,
        /// The control variant.
        control: String,
        /// Human-readable verdict.
        text: String,
        /// Two-sided p-value.
        p_value: f64,
        /// Whether the difference is significant.
        significant: bool,
    },
    /// An experiment paused, resumed, concluded or returned to its
    /// configured status at run time.
    Lifecycle {
        /// Stable across retries.
        id: String,
        /// Experiment name.
        experiment: String,
        /// The status now in force: `running`, `paused` or `concluded`.
        status: String,
        /// The winner of a concluded experiment.
        winner: Option<String>,
        /// Why, as given with the change (free text: escape it).
        reason: Option<String>,
        /// `override` (set at run time) or `config` (back to the file's status).
        source: String,
        /// Human-readable line, e.g. `homepage_cta concluded: B ships — reason …`.
        text: String,
        /// Unix milliseconds of the change.
        changed_at: i64,
    },
}

/// Plain-text line of a `Test` notification, shared so every target says the same.
pub const TEST_TEXT: &str = "A/B Test: splitcast test notification";

impl Notification {
    /// The id, stable across retries of the same notification.
    pub fn id(&self) -> &str {
        match self {
            Notification::Event { id, .. }
            | Notification::Summary { id, .. }
            | Notification::Test { id }
            | Notification::Significance { id, .. }
            | Notification::Lifecycle { id, .. } => id,
        }
    }

    /// Short kind label: `page_view`, `conversion`, `summary`, `test`,
    /// `significance`, `lifecycle`.
    pub fn kind_label(&self) -> &'static str {
        match self {
            Notification::Event { event, .. } => event.as_str(),
            Notification::Summary { .. } => "summary",
            Notification::Test { .. } => "test",
            Notification::Significance { .. } => "significance",
            Notification::Lifecycle { .. } => "lifecycle",
        }
    }

    /// The experiment concerned, when there is exactly one.
    pub fn experiment(&self) -> Option<&str> {
        match self {
            Notification::Event { experiment, .. }
            | Notification::Significance { experiment, .. }
            | Notification::Lifecycle { experiment, .. } => Some(experiment),
            Notification::Summary { lines, .. } => match lines.as_slice() {
                [only] => Some(&only.experiment),
                _ => None,
            },
            Notification::Test { .. } => None,
        }
    }

    /// The variant concerned, when there is one.
    pub fn variant(&self) -> Option<&str> {
        match self {
            Notification::Event { variant, .. } | Notification::Significance { variant, .. } => {
                Some(variant)
            }
            Notification::Lifecycle { winner, .. } => winner.as_deref(),
            _ => None,
        }
    }

    /// Event of a summary's lines, or `mixed` when they differ (or there are none).
    pub fn summary_event_label(lines: &[SummaryLine]) -> &'static str {
        match lines.split_first() {
            Some((first, rest)) if rest.iter().all(|l| l.event == first.event) => {
                first.event.as_str()
            }
            _ => "mixed",
        }
    }

    /// Plain, unescaped text: `A/B Test Event: conversion`, or the summary
    /// lines joined by newlines, or the significance text.
    pub fn headline(&self) -> String {
        match self {
            Notification::Event { event, .. } => format!("A/B Test Event: {}", event.as_str()),
            Notification::Summary { lines, .. } => lines
                .iter()
                .map(SummaryLine::render)
                .collect::<Vec<_>>()
                .join("\n"),
            Notification::Test { .. } => TEST_TEXT.to_owned(),
            Notification::Significance { text, .. } | Notification::Lifecycle { text, .. } => {
                text.clone()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(event: EventKind, goal: Option<&str>, counts: &[(&str, u64)]) -> SummaryLine {
        SummaryLine {
            experiment: "homepage_cta".into(),
            event,
            goal: goal.map(Into::into),
            counts: counts.iter().map(|(v, n)| ((*v).into(), *n)).collect(),
        }
    }

    #[test]
    fn headlines_use_the_fixed_plain_forms() {
        let event = Notification::Event {
            id: "e1".into(),
            event: EventKind::PageView,
            experiment: "x".into(),
            variant: "A".into(),
            goal: None,
            unit_count: 1,
            occurred_at: 0,
        };
        assert_eq!(event.headline(), "A/B Test Event: page_view");
        let summary = Notification::Summary {
            id: "s1".into(),
            reason: SummaryReason::Digest,
            since: 0,
            until: 60,
            lines: vec![
                line(
                    EventKind::Conversion,
                    Some("conversion"),
                    &[("B", 22), ("A", 15)],
                ),
                line(EventKind::Conversion, Some("signup"), &[("A", 1)]),
                line(EventKind::PageView, None, &[("A", 5), ("B", 7)]),
            ],
        };
        assert_eq!(
            summary.headline(),
            "homepage_cta · conversion: 37 (A: 15, B: 22)\n\
             homepage_cta · conversion/signup: 1 (A: 1)\n\
             homepage_cta · page_view: 12 (A: 5, B: 7)"
        );
    }
}
