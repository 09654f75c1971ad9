//! The demo page, the dashboard page and their static assets.

use crate::error::ApiError;
use crate::state::AppState;
use actix_files::{Files, NamedFile};
use actix_web::web;

/// The static folder, mounted last so that API routes win.
pub fn static_files(dir: &str) -> Files {
    Files::new("/", dir)
        .index_file("index.html")
        .default_handler(web::to(super::not_found))
}

/// The results page.
pub async fn dashboard(state: web::Data<AppState>) -> Result<NamedFile, ApiError> {
    let path = std::path::Path::new(&state.settings.server.static_dir).join("dashboard.html");
    NamedFile::open(path).map_err(|_| ApiError::NotFound)
}
