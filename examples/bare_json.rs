//! Benchmark baseline: a bare actix-web handler answering `GET /get_content`
//! with the demo content and the headers splitcast sends.
//!
//!     cargo run --release --example bare_json -- PORT WORKERS

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use actix_web::{App, HttpResponse, HttpServer, web};

const BODY: &str = r#"{"button_color":"blue","headline":"Welcome to our amazing service!"}"#;

async fn get_content() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((VARY, "Cookie"))
        .insert_header(("X-Experiment", "homepage_cta"))
        .insert_header(("X-Variant", "A"))
        .body(BODY)
}

/// `PORT WORKERS` from the command line (defaults 8081 and 1).
fn args() -> (u16, usize) {
    let mut args = std::env::args().skip(1);
    let port = args.next().map_or(8081, |p| p.parse().expect("PORT"));
    let workers = args.next().map_or(1, |w| w.parse().expect("WORKERS"));
    (port, workers)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let (port, workers) = args();
    HttpServer::new(|| App::new().route("/get_content", web::get().to(get_content)))
        .workers(workers)
        .bind(("127.0.0.1", port))?
        .run()
        .await
}
