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

/// The log filter when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,actix_http::h1=off";

/// Installs the global subscriber. `RUST_LOG` overrides the default filter
/// ([`DEFAULT_FILTER`]). Safe to call twice: the second call is a no-op.
pub fn init(format: LogFormat) {
    // actix-http logs a client's malformed HTTP at ERROR ("stream error"),
    // which would let any client flood the error log; those requests are
    // answered 400 anyway, so the default keeps them out.
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
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
