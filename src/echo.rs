//! How much of a client's text an answer repeats. A refusal names what it
//! refuses, but never sends a client's 40,000 characters back (nor writes
//! them into a log or a batch summary).

/// The most characters of one client value a message repeats.
pub const MAX_ECHO_CHARS: usize = 64;

/// The longest message sent to a client. The values quoted by [`echo`] keep
/// messages well under it; it also bounds what a library's message repeats
/// (serde names an unknown field whole).
pub const MAX_MESSAGE_CHARS: usize = 300;

/// `value` quoted for a message, cut to [`MAX_ECHO_CHARS`] characters and
/// marked `…` when longer.
pub fn echo(value: &str) -> String {
    let mut chars = value.chars();
    let head: String = chars.by_ref().take(MAX_ECHO_CHARS).collect();
    if chars.next().is_some() {
        format!("{:?}", format!("{head}…"))
    } else {
        format!("{head:?}")
    }
}

/// `message` cut to [`MAX_MESSAGE_CHARS`] characters, marked `…` when cut.
pub fn cut_message(message: &str) -> String {
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        return message.to_owned();
    }
    let head: String = message.chars().take(MAX_MESSAGE_CHARS - 1).collect();
    format!("{head}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_and_messages_are_cut_and_marked() {
        assert_eq!(echo("homepage_cta"), "\"homepage_cta\"");
        assert_eq!(echo("a\"b"), "\"a\\\"b\"");
        let long = "é".repeat(40_000);
        let shown = echo(&long);
        assert_eq!(shown.chars().count(), MAX_ECHO_CHARS + 3);
        assert!(shown.ends_with("…\""), "{shown}");
        assert_eq!(
            echo(&"x".repeat(MAX_ECHO_CHARS)).chars().count(),
            MAX_ECHO_CHARS + 2
        );
        assert_eq!(cut_message("short"), "short");
        let cut = cut_message(&long);
        assert_eq!(cut.chars().count(), MAX_MESSAGE_CHARS);
        assert!(cut.ends_with('…'));
    }
}
