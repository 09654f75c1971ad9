//! The compact text form of a visitor's session. actix-session stores values
//! as JSON inside JSON, and the cookie percent-encodes quotes and braces, so a
//! plain JSON map would triple in size; this form uses only characters that
//! travel through a cookie unescaped: `1~<visitor>~<user>~<exp>.<variant>[.<goal>-<goal>]~...`.

use base64::Engine;
use base64::alphabet::Alphabet;
use base64::engine::general_purpose::{GeneralPurpose, NO_PAD, URL_SAFE_NO_PAD};

const VERSION: &str = "1";

/// base64url's 64 characters, sorted: an encoding that keeps byte order.
const ORDERED: GeneralPurpose = GeneralPurpose::new(
    &match Alphabet::new("-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz") {
        Ok(alphabet) => alphabet,
        Err(_) => panic!("64 distinct printable characters"),
    },
    NO_PAD,
);
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
    /// A new visitor with a unique, time-ordered 128-bit id (a UUIDv7: 48
    /// bits of milliseconds, then 74 random bits).
    ///
    /// Time-ordered because the id becomes the participant's key: random
    /// keys put every new visitor of a batch on a B-tree page of its own
    /// (SQLite wrote ~2 pages per new visitor), ordered ones append to the
    /// same few pages. Encoded with base64url's characters in ASCII order so
    /// that the text sorts as the bytes do.
    pub fn new_visitor() -> Self {
        Self {
            visitor_id: ORDERED.encode(uuid::Uuid::now_v7().as_bytes()),
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

    /// Makes `user` the counting unit. A new unit forgets the assignments
    /// of the one before: each was made for the unit that held the cookie
    /// then, and a browser must never count another unit in them.
    pub fn switch_user(&mut self, user: &str) {
        if self.user_id.as_deref() != Some(user) {
            self.user_id = Some(user.to_owned());
            self.assignments.clear();
        }
    }

    /// The counting unit: the user id once known, else the visitor id.
    pub fn unit(&self) -> &str {
        self.user_id.as_deref().unwrap_or(&self.visitor_id)
    }

    /// Forgets the assignments of experiments that `exists` does not know,
    /// so that the cookie cannot grow with experiments long gone.
    pub fn forget_unknown(&mut self, exists: impl Fn(&str) -> bool) {
        self.assignments.retain(|a| exists(&a.experiment));
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

    #[test]
    fn new_visitor_ids_sort_in_creation_order_and_stay_valid() {
        let ids: Vec<String> = (0..10_000)
            .map(|_| VisitorState::new_visitor().visitor_id)
            .collect();
        assert!(ids.iter().all(|id| valid_visitor_id(id)));
        assert!(
            ids.windows(2).all(|pair| pair[0] < pair[1]),
            "ids must strictly increase as text"
        );
    }

    #[test]
    fn the_ordered_encoding_keeps_byte_order() {
        let mut pairs: Vec<([u8; 16], String)> = (0..2_000)
            .map(|_| {
                let bytes: [u8; 16] = rand::random();
                (bytes, ORDERED.encode(bytes))
            })
            .collect();
        pairs.sort_by_key(|pair| pair.0);
        assert!(pairs.windows(2).all(|pair| pair[0].1 < pair[1].1));
    }

    /// Ordered ids share their leading characters: the variant hash must still
    /// spread them evenly (a hash that weighed only the prefix would not).
    #[test]
    fn ordered_ids_still_hash_into_even_buckets() {
        const BINS: usize = 10;
        const IDS: usize = 20_000;
        let mut counts = [0_usize; BINS];
        for _ in 0..IDS {
            let id = VisitorState::new_visitor().visitor_id;
            let bucket = crate::assignment::hashing::bucket("homepage_cta", &id);
            counts[(bucket * BINS as f64) as usize] += 1;
        }
        let expected = (IDS / BINS) as f64;
        let chi_square: f64 = counts
            .iter()
            .map(|&n| (n as f64 - expected).powi(2) / expected)
            .sum();
        // 9 degrees of freedom: even buckets exceed 60 with p < 1e-9.
        assert!(chi_square < 60.0, "chi-square {chi_square}: {counts:?}");
    }
}
