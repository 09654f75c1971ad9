//! Which notifications a counted event produces: an outbox row per
//! interested notifier (`immediate`), a digest count (`digest`), or nothing
//! (`off`). The store calls this inside the event's transaction; a reload
//! swaps the rules in ([`LiveRouting`]).

use super::{EventKind, Notification};
use crate::configuration::{NotifierEvent, NotifyPolicy, Settings};
use crate::store::{Action, Applied, Effects, Event, OutboxRow, Routing};

/// The outbox row of `notification` for `notifier`.
pub fn outbox_row(notifier: &str, notification: &Notification) -> OutboxRow {
    OutboxRow {
        notifier: notifier.to_owned(),
        payload: serde_json::to_string(notification).expect("a notification always serialises"),
        is_event: matches!(notification, Notification::Event { .. }),
    }
}

/// Notification routing of counted events.
#[derive(Debug, Clone)]
pub struct NotifyRouting {
    page_view: NotifyPolicy,
    conversion: NotifyPolicy,
    page_view_notifiers: Vec<String>,
    conversion_notifiers: Vec<String>,
}

impl NotifyRouting {
    /// The routing of a configuration.
    pub fn from_settings(settings: &Settings) -> Self {
        let wanting = |event| {
            settings
                .notifiers
                .iter()
                .filter(|n| n.wants(event))
                .map(|n| n.name.clone())
                .collect()
        };
        Self {
            page_view: settings.notify.page_view,
            conversion: settings.notify.conversion,
            page_view_notifiers: wanting(NotifierEvent::PageView),
            conversion_notifiers: wanting(NotifierEvent::Conversion),
        }
    }
}

impl Routing for NotifyRouting {
    /// Nothing, a digest count or an outbox row per interested notifier.
    fn record(&self, effects: &mut Effects, event: &Event, applied: &Applied) {
        let (kind, goal) = match (applied, &event.action) {
            (Applied::Viewed { .. }, _) => (EventKind::PageView, None),
            (Applied::Converted { first: true }, Action::Convert(goal)) => {
                (EventKind::Conversion, Some(goal.as_str()))
            }
            _ => return,
        };
        let (policy, notifiers) = match kind {
            EventKind::PageView => (self.page_view, &self.page_view_notifiers),
            EventKind::Conversion => (self.conversion, &self.conversion_notifiers),
        };
        match policy {
            NotifyPolicy::Off => {}
            NotifyPolicy::Digest => {
                let key = (
                    event.experiment.to_string(),
                    event.variant.to_string(),
                    kind.as_str(),
                    goal.unwrap_or_default().to_owned(),
                );
                *effects.digest.entry(key).or_default() += 1;
            }
            NotifyPolicy::Immediate => {
                for notifier in notifiers {
                    let notification = Notification::Event {
                        id: uuid::Uuid::new_v4().to_string(),
                        event: kind,
                        experiment: event.experiment.to_string(),
                        variant: event.variant.to_string(),
                        goal: goal.map(str::to_owned),
                        unit_count: 1,
                        occurred_at: event.at,
                    };
                    effects.outbox.push(outbox_row(notifier, &notification));
                }
            }
        }
    }
}

/// [`NotifyRouting`] that a configuration reload can replace while the
/// store keeps calling it.
#[derive(Debug)]
pub struct LiveRouting(arc_swap::ArcSwap<NotifyRouting>);

impl LiveRouting {
    /// The routing of `settings`.
    pub fn from_settings(settings: &Settings) -> Self {
        Self(arc_swap::ArcSwap::from_pointee(
            NotifyRouting::from_settings(settings),
        ))
    }

    /// Puts the routing of `settings` in force for the next events.
    pub fn replace(&self, settings: &Settings) {
        self.0
            .store(std::sync::Arc::new(NotifyRouting::from_settings(settings)));
    }
}

impl Routing for LiveRouting {
    fn record(&self, effects: &mut Effects, event: &Event, applied: &Applied) {
        self.0.load().record(effects, event, applied);
    }
}
