//! Benchmark baseline: `bare_json` plus actix-session's `CookieSessionStore`
//! (signed, 64-byte key), reading one session key per request (and setting
//! it when absent, so the first answer carries the cookie).
//!
//!     cargo run --release --example bare_session -- PORT WORKERS

use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionMiddleware};
use actix_web::cookie::{Key, SameSite, time::Duration};
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use actix_web::{App, HttpResponse, HttpServer, web};

const BODY: &str = r#"{"button_color":"blue","headline":"Welcome to our amazing service!"}"#;

async fn get_content(session: Session) -> HttpResponse {
    let variant = match session.get::<String>("v") {
        Ok(Some(variant)) => variant,
        _ => {
            let variant = "A".to_owned();
            let _ = session.insert("v", &variant);
            variant
        }
    };
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((VARY, "Cookie"))
        .insert_header(("X-Experiment", "homepage_cta"))
        .insert_header(("X-Variant", variant))
        .body(BODY)
}

/// `PORT WORKERS` from the command line (defaults 8082 and 1).
fn args() -> (u16, usize) {
    let mut args = std::env::args().skip(1);
    let port = args.next().map_or(8082, |p| p.parse().expect("PORT"));
    let workers = args.next().map_or(1, |w| w.parse().expect("WORKERS"));
    (port, workers)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let (port, workers) = args();
    // A fixed 64-byte key: restarts keep the benchmark's cookie valid.
    let key = Key::from(&[7u8; 64]);
    HttpServer::new(move || {
        let session = SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
            .cookie_name("splitcast".into())
            .cookie_content_security(CookieContentSecurity::Signed)
            .cookie_http_only(true)
            .cookie_same_site(SameSite::Lax)
            .cookie_path("/".into())
            .session_lifecycle(PersistentSession::default().session_ttl(Duration::days(90)))
            .build();
        App::new()
            .wrap(session)
            .route("/get_content", web::get().to(get_content))
    })
    .workers(workers)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
