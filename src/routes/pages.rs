//! The demo page, the dashboard page and their static assets: built into
//! the binary, or read from `server.static_dir` when one is configured.

use crate::error::ApiError;
use crate::state::AppState;
use actix_files::{Files, NamedFile};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse, guard, web};

/// The repository's `static/` folder, compiled in: a binary started from
/// any folder (by systemd, say) serves the same pages.
#[derive(rust_embed::Embed)]
#[folder = "static/"]
struct Builtin;

/// Mounts the static pages last, so that API routes win. Only GET and HEAD
/// reach them: any other method on an unknown path falls through to the
/// JSON 404 rather than the file service's text 405. `dir` empty means the
/// built-in pages.
pub fn static_files(cfg: &mut web::ServiceConfig, dir: &str) {
    let get = || guard::Any(guard::Get()).or(guard::Head());
    if dir.is_empty() {
        cfg.service(web::resource("/{path:.*}").guard(get()).to(builtin));
    } else {
        cfg.service(
            Files::new("/", dir)
                .index_file("index.html")
                .guard(get())
                .default_handler(web::to(super::not_found)),
        );
    }
}

/// A built-in asset by its path; `/` is the demo page.
async fn builtin(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let path = req.match_info().query("path");
    builtin_file(if path.is_empty() { "index.html" } else { path })
}

fn builtin_file(path: &str) -> Result<HttpResponse, ApiError> {
    let file = Builtin::get(path).ok_or(ApiError::NotFound)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    // As actix-files answers: text is UTF-8.
    let content_type = match mime.type_() {
        mime_guess::mime::TEXT => format!("{mime}; charset=utf-8"),
        _ if mime.subtype() == mime_guess::mime::JAVASCRIPT => format!("{mime}; charset=utf-8"),
        _ => mime.to_string(),
    };
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, content_type))
        .body(file.data.into_owned()))
}

/// The results page.
pub async fn dashboard(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let current = state.live.current();
    let dir = &current.settings.server.static_dir;
    if dir.is_empty() {
        return builtin_file("dashboard.html");
    }
    let path = std::path::Path::new(dir).join("dashboard.html");
    let file = NamedFile::open(path).map_err(|_| ApiError::NotFound)?;
    Ok(file.into_response(&req))
}
