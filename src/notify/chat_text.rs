//! The text of a chat message, shared by the Telegram (HTML) and Discord
//! (markdown) renderings: the same lines, each value escaped for its target.

use super::Notification;
use super::notification::{SummaryReason, TEST_TEXT};

/// How a chat target marks text up. Each function takes text already escaped.
pub(super) struct Markup {
    /// Escapes a value for the target.
    pub escape: fn(&str) -> String,
    /// Emphasises escaped text.
    pub bold: fn(&str) -> String,
    /// Marks escaped text as a name (monospace where the target has it).
    pub code: fn(&str) -> String,
}

/// The message text, before the target's length cut.
pub(super) fn render(notification: &Notification, m: &Markup) -> String {
    let esc = m.escape;
    match notification {
        Notification::Event {
            experiment,
            variant,
            goal,
            unit_count,
            ..
        } => {
            let mut s = format!(
                "{}\nExperiment: {}\nVariant: {}",
                (m.bold)(&esc(&notification.headline())),
                (m.code)(&esc(experiment)),
                (m.bold)(&esc(variant))
            );
            if let Some(goal) = goal {
                s.push_str(&format!("\nGoal: {}", esc(goal)));
            }
            if *unit_count != 1 {
                s.push_str(&format!("\nCount: {unit_count}"));
            }
            s
        }
        Notification::Summary { reason, lines, .. } => {
            let mut s = (m.bold)(match reason {
                SummaryReason::Digest => "A/B Test Digest",
                SummaryReason::Backlog => "A/B Test Summary (backlog)",
            });
            for line in lines {
                s.push('\n');
                s.push_str(&esc(&line.render()));
            }
            s
        }
        Notification::Test { .. } => (m.bold)(&esc(TEST_TEXT)),
        Notification::Significance {
            experiment,
            goal,
            text,
            ..
        } => format!(
            "{}\n{}",
            (m.bold)(&format!(
                "A/B Test Significance: {} · {}",
                esc(experiment),
                esc(goal)
            )),
            esc(text)
        ),
        Notification::Lifecycle {
            experiment, text, ..
        } => format!(
            "{}\n{}",
            (m.bold)(&format!("A/B Test Lifecycle: {}", esc(experiment))),
            esc(text)
        ),
    }
}
