//! Tracing setup: `RUST_LOG`-style filtering, human or JSON lines on stderr.

use tracing_subscriber::EnvFilter;

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The log filter when `RUST_LOG` is not set (before [`QUIET`] is added).
pub const DEFAULT_FILTER: &str = "info";

/// Per-request lines any client can cause, each with the crate whose
/// mention in `RUST_LOG` turns it back on. actix-http logs a malformed
/// request (a huge request line, a header without a colon, a bad
/// `Content-Length`, `HTTP/9.9`, TLS on the plain port) at ERROR, and
/// actix-session a tampered cookie at WARN: either would let anyone fill
/// the log and page whoever watches it. The requests are answered 400 (or
/// served as a new visitor) anyway.
pub const QUIET: [(&str, &str); 2] = [
    ("actix_http", "actix_http::h1=off"),
    ("actix_session", "actix_session::middleware=error"),
];

/// The filter directives for a `RUST_LOG` value: the value (or
/// [`DEFAULT_FILTER`]) plus each [`QUIET`] directive whose crate it does not
/// name. A more specific target wins in `EnvFilter`, so `RUST_LOG=info` or
/// `RUST_LOG=debug` keeps the quiet ones quiet.
pub fn directives(rust_log: Option<&str>) -> String {
    let base = rust_log
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .unwrap_or(DEFAULT_FILTER);
    let mut directives = base.to_owned();
    for (krate, quiet) in QUIET {
        if !base.contains(krate) {
            directives.push(',');
            directives.push_str(quiet);
        }
    }
    directives
}

/// Installs the global subscriber, filtered by [`directives`] of `RUST_LOG`
/// (an unparseable `RUST_LOG` falls back to the default). Safe to call
/// twice: the second call is a no-op.
pub fn init(format: LogFormat) {
    let rust_log = std::env::var("RUST_LOG").ok();
    let filter = EnvFilter::try_new(directives(rust_log.as_deref()))
        .unwrap_or_else(|_| EnvFilter::new(directives(None)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = match format {
        LogFormat::Pretty => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

/// The span of one HTTP request: its method and path, so that a line logged
/// while handling it says which request it was. Deliberately small:
/// tracing-actix-web's root span (a random request id, the client address,
/// a dozen fields) cost several percent of a returning visitor's request.
pub fn request_span(method: &actix_web::http::Method, path: &str) -> tracing::Span {
    tracing::info_span!("request", %method, path)
}

#[cfg(test)]
mod tests {
    use super::directives;

    #[test]
    fn client_caused_lines_stay_quiet_unless_rust_log_names_their_crate() {
        let quiet = "actix_http::h1=off,actix_session::middleware=error";
        assert_eq!(directives(None), format!("info,{quiet}"));
        assert_eq!(directives(Some(" ")), format!("info,{quiet}"));
        assert_eq!(directives(Some("info")), format!("info,{quiet}"));
        assert_eq!(
            directives(Some("debug,splitcast=trace")),
            format!("debug,splitcast=trace,{quiet}")
        );
        assert_eq!(
            directives(Some("info,actix_http=debug")),
            "info,actix_http=debug,actix_session::middleware=error"
        );
        assert_eq!(
            directives(Some("actix_session=warn")),
            "actix_session=warn,actix_http::h1=off"
        );
    }
}
