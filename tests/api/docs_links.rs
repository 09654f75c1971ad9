//! Every relative link of the README and of `docs/` resolves: the file it
//! names exists, and the heading its `#anchor` names is in that file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// GitHub's anchor of a heading: lower case, punctuation dropped (but `-`
/// and `_`), spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> HashSet<String> {
    let mut in_code = false;
    let mut found = HashSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
        }
        if !in_code && line.starts_with('#') {
            found.insert(slug(line.trim_start_matches('#')));
        }
    }
    found
}

/// `(target, line)` of every inline link outside code.
fn links(text: &str) -> Vec<(String, usize)> {
    let mut in_code = false;
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            rest = &rest[start + 2..];
            let Some(end) = rest.find(')') else { break };
            found.push((rest[..end].to_owned(), n + 1));
            rest = &rest[end..];
        }
    }
    found
}

fn documents() -> Vec<PathBuf> {
    let mut files = vec![
        Path::new(ROOT).join("README.md"),
        Path::new(ROOT).join("BENCHMARKS.md"),
    ];
    if let Ok(entries) = std::fs::read_dir(Path::new(ROOT).join("docs")) {
        files.extend(
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "md")),
        );
    }
    files
}

#[test]
fn every_relative_link_of_the_documentation_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        for (target, line) in links(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let file = if path.is_empty() {
                document.clone()
            } else {
                document.parent().unwrap().join(path)
            };
            let at = format!("{}:{line}: {target}", document.display());
            if !file.exists() {
                broken.push(format!("{at} (no such file)"));
            } else if !anchor.is_empty() {
                let text = std::fs::read_to_string(&file).unwrap_or_default();
                if !anchors(&text).contains(anchor) {
                    broken.push(format!("{at} (no such heading)"));
                }
            }
        }
    }
    assert!(
        checked > 20,
        "only {checked} links found: is the parser right?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_documentation_never_points_outside_the_repository() {
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        for (target, line) in links(&text) {
            let resolved = document
                .parent()
                .unwrap()
                .join(target.split('#').next().unwrap());
            let inside = std::fs::canonicalize(&resolved)
                .map(|p| p.starts_with(ROOT))
                .unwrap_or(true);
            assert!(
                inside,
                "{}:{line}: {target} leaves the repository",
                document.display()
            );
        }
    }
}
