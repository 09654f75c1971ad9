//! Escaping and length limits for the two chat markups: Telegram HTML and
//! Discord markdown. Every inserted value goes through one of the escapers.

/// Escapes `&`, `<`, `>` and `"` as Telegram's HTML mode requires.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// Cuts HTML `text` to at most `max` characters, ending the text in `…` and
/// closing any tag left open; never splits a tag or an entity.
pub fn truncate_html(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut open: Vec<&str> = Vec::new();
    let mut best: (usize, Vec<&str>) = (0, Vec::new());
    let (mut i, mut count) = (0, 0);
    while i < text.len() {
        let rest = &text[i..];
        let len = token_len(rest);
        let token = &rest[..len];
        let tag = token.strip_prefix('<').and_then(|t| t.strip_suffix('>'));
        if let Some(tag) = tag {
            if let Some(name) = tag.strip_prefix('/') {
                let name = tag_name(name);
                if let Some(pos) = open.iter().rposition(|t| *t == name) {
                    open.truncate(pos);
                }
            } else if !tag.ends_with('/') {
                open.push(tag_name(tag));
            }
        }
        count += token.chars().count();
        i += len;
        let closing: usize = open.iter().map(|t| t.chars().count() + 3).sum();
        // Cost never falls along the text, so the first miss ends the search.
        if count + 1 + closing > max {
            break;
        }
        best = (i, open.clone());
    }
    let (end, open) = best;
    let mut out = text[..end].to_owned();
    out.push('…');
    for tag in open.iter().rev() {
        out.push_str(&format!("</{tag}>"));
    }
    out
}

/// Byte length of the token at the start of `s`: a whole tag, a whole entity, or one char.
fn token_len(s: &str) -> usize {
    let first = s.chars().next().map_or(0, char::len_utf8);
    let end = match s.as_bytes().first() {
        Some(b'<') => s.find('>').map(|j| j + 1),
        Some(b'&') => s
            .char_indices()
            .skip(1)
            .take(10)
            .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '#'))
            .filter(|(_, c)| *c == ';')
            .map(|(j, _)| j + 1),
        _ => None,
    };
    end.unwrap_or(first)
}

fn tag_name(tag: &str) -> &str {
    let end = tag
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap_or(tag.len());
    &tag[..end]
}

/// Escapes Discord markdown in an inserted value: `\ * _ ~ ` | > < [ ] # -`
/// get a backslash, and `@` is followed by a zero-width space so that even a
/// client ignoring `allowed_mentions` renders no mention.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '<' | '[' | ']' | '#' | '-' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{200B}"),
            c => out.push(c),
        }
    }
    out
}

/// Cuts plain `text` to at most `max` characters, ending in `…` when cut.
pub fn truncate_plain(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Cuts markdown `text` to at most `max` characters ending in `…`, without
/// leaving a dangling escape backslash that would swallow the ellipsis.
pub fn truncate_markdown(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    let trailing = out.len() - out.trim_end_matches('\\').len();
    if trailing % 2 == 1 {
        out.pop();
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_covers_tags_entities_and_quotes() {
        assert_eq!(
            escape_html(r#"<b>&x"</b>"#),
            "&lt;b&gt;&amp;x&quot;&lt;/b&gt;"
        );
    }

    #[test]
    fn html_truncation_keeps_entities_whole_and_closes_open_tags() {
        let text = format!("<b>{}</b>", "&amp;".repeat(10));
        assert_eq!(truncate_html(&text, 100), text);
        let cut = truncate_html(&text, 20);
        assert_eq!(cut, "<b>&amp;&amp;…</b>");
        assert!(cut.chars().count() <= 20);
        let text = "ab<code>cdefgh</code>ij";
        assert_eq!(truncate_html(text, 15), "ab…");
        assert_eq!(truncate_html(text, 18), "ab<code>cd…</code>");
        assert_eq!(truncate_html("a<b", 2), "a…");
        assert_eq!(truncate_html("abcdef", 4), "abc…");
    }

    #[test]
    fn markdown_escaping_neutralises_markup_and_mentions() {
        assert_eq!(
            escape_markdown("a_b*c`@everyone"),
            "a\\_b\\*c\\`@\u{200B}everyone"
        );
        assert_eq!(escape_markdown(r"\"), r"\\");
    }

    #[test]
    fn markdown_truncation_never_ends_in_a_lone_backslash() {
        assert_eq!(truncate_markdown("abc\\_def", 5), "abc…");
        assert_eq!(truncate_markdown("ab\\\\cdef", 5), "ab\\\\…");
        assert_eq!(truncate_markdown("short", 5), "short");
    }
}
