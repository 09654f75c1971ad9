//! The compact text form of a visitor's session. actix-session stores values
//! as JSON inside JSON, and the cookie percent-encodes quotes and braces, so a
//! plain JSON map would triple in size; this form uses only characters that
//! travel through a cookie unescaped: `1~<visitor>~<user>~<exp>.<variant>[.<goal>-<goal>]~...`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const VERSION: &str = "1";
/// Marks an experiment the visitor was drawn out of (traffic < 1).
const NOT_ENROLLED: &str = "-";

/// What the session remembers of one experiment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The experiment name.
    pub experiment: String,
    /// The variant, or `None` when the visitor is outside the traffic share.
    pub variant: Option<String>,
    /// Goals already converted.
    pub goals: Vec<String>,
}

/// Everything the cookie holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitorState {
    /// Random id of this browser.
    pub visitor_id: String,
    /// The `X-User-Id` last seen, which becomes the counting unit.
    pub user_id: Option<String>,
    /// Assignments by experiment.
    pub assignments: Vec<Assignment>,
}

impl VisitorState {
    /// A new visitor with a random 128-bit id.
    pub fn new_visitor() -> Self {
        let bytes: [u8; 16] = rand::random();
        Self {
            visitor_id: URL_SAFE_NO_PAD.encode(bytes),
            user_id: None,
            assignments: Vec::new(),
        }
    }

    /// The assignment kept for `experiment`.
    pub fn assignment(&self, experiment: &str) -> Option<&Assignment> {
        self.assignments.iter().find(|a| a.experiment == experiment)
    }

    /// The assignment kept for `experiment`, mutably.
    pub fn assignment_mut(&mut self, experiment: &str) -> Option<&mut Assignment> {
        self.assignments
            .iter_mut()
            .find(|a| a.experiment == experiment)
    }

    /// Replaces the assignment for `experiment` (forgetting its goals).
    pub fn set_assignment(&mut self, experiment: &str, variant: Option<&str>) {
        self.assignments.retain(|a| a.experiment != experiment);
        self.assignments.push(Assignment {
            experiment: experiment.to_owned(),
            variant: variant.map(str::to_owned),
            goals: Vec::new(),
        });
    }

    /// The compact form.
    pub fn encode(&self) -> String {
        let user = self
            .user_id
            .as_deref()
            .map(|u| URL_SAFE_NO_PAD.encode(u))
            .unwrap_or_default();
        let mut out = format!("{VERSION}~{}~{user}", self.visitor_id);
        for a in &self.assignments {
            out.push('~');
            out.push_str(&a.experiment);
            out.push('.');
            out.push_str(a.variant.as_deref().unwrap_or(NOT_ENROLLED));
            if !a.goals.is_empty() {
                out.push('.');
                out.push_str(&a.goals.join("-"));
            }
        }
        out
    }

    /// Parses the compact form; `None` for anything malformed, which the
    /// caller treats as a new visitor.
    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.split('~');
        if parts.next()? != VERSION {
            return None;
        }
        let visitor_id = parts.next().filter(|v| valid_visitor_id(v))?.to_owned();
        let user_id = match parts.next()? {
            "" => None,
            encoded => {
                let bytes = URL_SAFE_NO_PAD.decode(encoded).ok()?;
                Some(String::from_utf8(bytes).ok()?)
            }
        };
        let assignments = parts.map(decode_assignment).collect::<Option<Vec<_>>>()?;
        Some(Self {
            visitor_id,
            user_id,
            assignments,
        })
    }
}

fn valid_visitor_id(id: &str) -> bool {
    id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn decode_assignment(text: &str) -> Option<Assignment> {
    let mut fields = text.split('.');
    let experiment = fields.next().filter(|e| !e.is_empty())?.to_owned();
    let variant = match fields.next()? {
        NOT_ENROLLED => None,
        "" => return None,
        v => Some(v.to_owned()),
    };
    let goals = match fields.next() {
        None => Vec::new(),
        Some(goals) => goals.split('-').map(str::to_owned).collect(),
    };
    if fields.next().is_some() {
        return None;
    }
    Some(Assignment {
        experiment,
        variant,
        goals,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_compact_form_round_trips() {
        let mut state = VisitorState::new_visitor();
        state.user_id = Some("user:42@example.com".into());
        state.set_assignment("homepage_cta", Some("B"));
        state.set_assignment("pricing", None);
        state
            .assignment_mut("homepage_cta")
            .unwrap()
            .goals
            .extend(["conversion".to_owned(), "signup".to_owned()]);
        let encoded = state.encode();
        assert_eq!(VisitorState::decode(&encoded), Some(state));
    }

    #[test]
    fn malformed_text_is_rejected_not_panicked_on() {
        for text in [
            "",
            "1",
            "2~AAAAAAAAAAAAAAAAAAAAAA~",
            "1~short~",
            "1~AAAAAAAAAAAAAAAAAAAAAA~%%~",
            "1~AAAAAAAAAAAAAAAAAAAAAA~~x",
            "1~AAAAAAAAAAAAAAAAAAAAAA~~x.B.c.d",
        ] {
            assert_eq!(VisitorState::decode(text), None, "{text}");
        }
    }

    #[test]
    fn twenty_experiments_stay_compact() {
        let mut state = VisitorState::new_visitor();
        for i in 0..20 {
            state.set_assignment(&format!("experiment_{i:02}"), Some("B"));
        }
        assert!(state.encode().len() < 400, "{}", state.encode().len());
    }
}
