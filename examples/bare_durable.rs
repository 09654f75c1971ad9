//! Benchmark baseline: the least a durable answer costs on this machine. A bare
//! actix-web handler answers `GET /get_content` with the demo content only
//! after its row is on disk, through the simplest group commit there is: one
//! thread owns the store, takes whatever requests are waiting (waiting a
//! moment for more when fewer came than last time), writes them and syncs
//! once, then answers them all. No session, no routing, no counters.
//!
//!     cargo run --release --example bare_durable -- PORT WORKERS DIR [sqlite|file]
//!
//! `sqlite` (the default): one row per request (a UUIDv7 key, like a
//! visitor's) in a WAL database with `synchronous = FULL`, splitcast's own
//! settings. `file`: 64 bytes appended to a plain file and `fdatasync`, the
//! floor under any store.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, VARY};
use actix_web::{App, HttpResponse, HttpServer, web};
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::sync::{mpsc, oneshot};

const BODY: &str = r#"{"button_color":"blue","headline":"Welcome to our amazing service!"}"#;
/// As many requests as splitcast's writer takes into one batch.
const MAX_BATCH: usize = 512;
/// How long a batch smaller than the last waits for more (the kernel's timer
/// slack adds up to 50 µs).
const GATHER: std::time::Duration = std::time::Duration::from_micros(20);

type Job = (String, oneshot::Sender<()>);

async fn get_content(jobs: web::Data<mpsc::Sender<Job>>) -> HttpResponse {
    let (done, committed) = oneshot::channel();
    let id = uuid::Uuid::now_v7().simple().to_string();
    if jobs.send((id, done)).await.is_err() || committed.await.is_err() {
        return HttpResponse::ServiceUnavailable().finish();
    }
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/json"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header((VARY, "Cookie"))
        .insert_header(("X-Experiment", "homepage_cta"))
        .insert_header(("X-Variant", "A"))
        .body(BODY)
}

/// Where one batch goes, durably.
enum Sink {
    Sqlite(rusqlite::Connection),
    File(std::fs::File),
}

impl Sink {
    fn open(dir: &Path, kind: &str) -> Sink {
        match kind {
            "sqlite" => {
                let conn = rusqlite::Connection::open(dir.join("bare.db")).expect("open database");
                conn.execute_batch(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                     CREATE TABLE IF NOT EXISTS visitors (id TEXT PRIMARY KEY, at INTEGER NOT NULL);",
                )
                .expect("set up database");
                Sink::Sqlite(conn)
            }
            "file" => Sink::File(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join("bare.log"))
                    .expect("open log"),
            ),
            other => panic!("unknown sink {other}: sqlite or file"),
        }
    }

    fn commit(&mut self, batch: &[Job]) -> Result<(), String> {
        match self {
            Sink::Sqlite(conn) => {
                let tx = conn.transaction().map_err(|e| e.to_string())?;
                {
                    let mut insert = tx
                        .prepare_cached("INSERT INTO visitors (id, at) VALUES (?1, unixepoch())")
                        .map_err(|e| e.to_string())?;
                    for (id, _) in batch {
                        insert.execute([id]).map_err(|e| e.to_string())?;
                    }
                }
                tx.commit().map_err(|e| e.to_string())
            }
            Sink::File(file) => {
                let mut bytes = Vec::with_capacity(batch.len() * 64);
                for (id, _) in batch {
                    let _ = writeln!(bytes, "{id:<63}");
                }
                file.write_all(&bytes).map_err(|e| e.to_string())?;
                file.sync_data().map_err(|e| e.to_string())
            }
        }
    }
}

fn run_writer(mut sink: Sink, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut last_size = 0;
    while let Some(job) = jobs.blocking_recv() {
        batch.push(job);
        fill(&mut batch, &mut jobs);
        if batch.len() < last_size {
            // Under load, the clients answered by the last commit are sending
            // again: a short sleep gives the core to the HTTP worker parsing
            // them, so they join this commit (fewer, fuller syncs). Measured:
            // +20% here; splitcast's writer gained nothing from the same.
            std::thread::sleep(GATHER);
            fill(&mut batch, &mut jobs);
        }
        last_size = batch.len();
        let committed = sink.commit(&batch);
        for (_, done) in batch.drain(..) {
            // A failed commit drops the sender: that request answers 503.
            if committed.is_ok() {
                let _ = done.send(());
            }
        }
        if let Err(error) = committed {
            eprintln!("commit failed: {error}");
        }
    }
}

/// Takes whatever else is waiting, up to [`MAX_BATCH`].
fn fill(batch: &mut Vec<Job>, jobs: &mut mpsc::Receiver<Job>) {
    while batch.len() < MAX_BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// `PORT WORKERS DIR [sqlite|file]` from the command line.
fn args() -> (u16, usize, PathBuf, String) {
    let mut args = std::env::args().skip(1);
    let port = args.next().map_or(8083, |p| p.parse().expect("PORT"));
    let workers = args.next().map_or(1, |w| w.parse().expect("WORKERS"));
    let dir = args.next().map_or_else(std::env::temp_dir, PathBuf::from);
    let kind = args.next().unwrap_or_else(|| "sqlite".into());
    (port, workers, dir, kind)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let (port, workers, dir, kind) = args();
    let sink = Sink::open(&dir, &kind);
    let (sender, receiver) = mpsc::channel::<Job>(4096);
    std::thread::spawn(move || run_writer(sink, receiver));
    let jobs = web::Data::new(sender);
    HttpServer::new(move || {
        App::new()
            .app_data(jobs.clone())
            .route("/get_content", web::get().to(get_content))
    })
    .workers(workers)
    .bind(("127.0.0.1", port))?
    .run()
    .await
}
