//! The demo page, the dashboard page and their static assets.

use crate::error::ApiError;
use crate::state::AppState;
use actix_files::{Files, NamedFile};
use actix_web::{guard, web};

/// The static folder, mounted last so that API routes win. Only GET and
/// HEAD reach it: any other method on an unknown path falls through to the
/// JSON 404 rather than the file service's text 405.
pub fn static_files(dir: &str) -> Files {
    Files::new("/", dir)
        .index_file("index.html")
        .guard(guard::Any(guard::Get()).or(guard::Head()))
        .default_handler(web::to(super::not_found))
}

/// The results page.
pub async fn dashboard(state: web::Data<AppState>) -> Result<NamedFile, ApiError> {
    let current = state.live.current();
    let path = std::path::Path::new(&current.settings.server.static_dir).join("dashboard.html");
    NamedFile::open(path).map_err(|_| ApiError::NotFound)
}
