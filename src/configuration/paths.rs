//! Relative paths in the configuration name files beside the configuration
//! file, not in whatever folder the process happens to start in: a service
//! started by systemd from `/` must not quietly create a new, empty
//! database there.

use super::RawSettings;
use secrecy::{ExposeSecret, SecretString};
use std::path::{Component, Path, PathBuf};

/// Resolves `server.static_dir` and an SQLite `storage.url` path against
/// `base`, the configuration file's folder (made absolute).
pub(super) fn resolve(raw: &mut RawSettings, base: &Path) {
    let base = normalized(&std::path::absolute(base).unwrap_or_else(|_| base.to_owned()));
    let dir = &mut raw.server.static_dir;
    if !dir.is_empty() {
        *dir = against(&base, dir).display().to_string();
    }
    let url = raw.storage.url.expose_secret();
    if let Some(rest) = url.strip_prefix("sqlite:") {
        let rest = rest.trim_start_matches("//");
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, format!("?{query}")),
            None => (rest, String::new()),
        };
        // Left for validation to refuse with its own message.
        if !path.is_empty() && !path.contains(":memory:") {
            let path = against(&base, path);
            raw.storage.url = SecretString::from(format!("sqlite://{}{query}", path.display()));
        }
    }
}

fn against(base: &Path, path: &str) -> PathBuf {
    normalized(&base.join(path))
}

/// `a/b/../c` as `a/c`, without touching the file system (the folder may
/// not exist yet: the database's is created at start).
fn normalized(path: &Path) -> PathBuf {
    path.components().fold(PathBuf::new(), |mut out, part| {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
        out
    })
}

#[cfg(test)]
mod tests {
    use super::normalized;
    use std::path::Path;

    #[test]
    fn parent_and_current_folders_are_folded_away() {
        assert_eq!(
            normalized(Path::new("/srv/app/config/../data/./x.db")),
            Path::new("/srv/app/data/x.db")
        );
        assert_eq!(normalized(Path::new("/a/b")), Path::new("/a/b"));
    }
}
