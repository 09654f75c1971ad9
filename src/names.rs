//! Names that reach storage, metrics and chat messages. They are parsed once,
//! from the configuration, so that nothing a client sends can reach a message
//! unchecked: a request names an experiment, variant or goal only by looking
//! one up among the configured ones.

use crate::echo::{MAX_ECHO_CHARS, echo};
use std::fmt;

/// Why a name was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{what} {} must match {pattern}", echo(value))]
pub struct NameError {
    what: &'static str,
    value: String,
    pattern: &'static str,
}

fn parse(
    value: &str,
    what: &'static str,
    pattern: &'static str,
    allowed: fn(char) -> bool,
) -> Result<String, NameError> {
    let ok = (1..=40).contains(&value.len()) && value.chars().all(allowed);
    if ok {
        Ok(value.to_owned())
    } else {
        Err(NameError {
            what,
            // One more than is shown, so that `echo` knows it was cut.
            value: value.chars().take(MAX_ECHO_CHARS + 1).collect(),
            pattern,
        })
    }
}

fn lower_snake(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
}

fn word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $pattern:literal, $allowed:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Checks `value` against the allowed pattern.
            pub fn parse(value: &str) -> Result<Self, NameError> {
                parse(value, $what, $pattern, $allowed).map(Self)
            }

            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

name_type!(
    /// An experiment name: `[a-z0-9_]{1,40}` (it is a TOML table key).
    ExperimentName,
    "experiment name",
    "[a-z0-9_]{1,40}",
    lower_snake
);
name_type!(
    /// A variant name: `[A-Za-z0-9_]{1,40}`.
    VariantName,
    "variant name",
    "[A-Za-z0-9_]{1,40}",
    word
);
name_type!(
    /// A goal name: `[a-z0-9_]{1,40}`.
    Goal,
    "goal name",
    "[a-z0-9_]{1,40}",
    lower_snake
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goal_names_follow_the_contract_pattern() {
        assert!(Goal::parse("conversion").is_ok());
        assert!(Goal::parse("signup_2").is_ok());
        assert!(Goal::parse("").is_err());
        assert!(Goal::parse("Signup").is_err());
        assert!(Goal::parse(&"a".repeat(41)).is_err());
        assert!(Goal::parse("a-b").is_err());
    }

    #[test]
    fn variant_names_allow_upper_case_but_no_markup() {
        assert!(VariantName::parse("B").is_ok());
        assert!(VariantName::parse("<b>").is_err());
        assert!(VariantName::parse("a.b").is_err());
    }

    #[test]
    fn the_error_names_the_pattern_and_truncates_the_value() {
        let err = ExperimentName::parse(&"X".repeat(100)).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("[a-z0-9_]{1,40}"));
        assert!(text.len() < 140);
    }
}
