//! SIGKILL under load loses no acknowledged event: a real process on a real
//! port, killed mid-load, then the database is read back.

use crate::helpers::Patch;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A splitcast process on a real port, with everything it logged so far.
pub struct Server {
    /// The process.
    pub child: Child,
    /// The port it logged.
    pub port: u16,
    /// Its stderr, line by line.
    pub log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// `http://127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// The SQLite file `db` opened again, as the next start would.
pub async fn reopen(db: &std::path::Path) -> std::sync::Arc<splitcast::store::SqlStore> {
    splitcast::store::open(
        &format!("sqlite://{}", db.display()).into(),
        splitcast::store::no_routing(),
    )
    .await
    .unwrap()
}

/// Reopens the SQLite file `db` and asserts that every unit in `acked`
/// (answered 2xx) has its conversion stored; returns the store.
pub async fn assert_none_lost(
    db: &std::path::Path,
    acked: &HashSet<String>,
) -> std::sync::Arc<splitcast::store::SqlStore> {
    let store = reopen(db).await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT unit_id FROM conversions")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let stored: HashSet<String> = stored.into_iter().collect();
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged conversions lost: {lost:?}",
        lost.len()
    );
    store
}

/// Starts the binary and returns it once it logged its port.
pub fn start_server(config_path: &std::path::Path, workdir: &std::path::Path) -> Server {
    start_server_with(config_path, workdir, &[])
}

/// Starts the binary with extra environment variables (`SPLITCAST__…`
/// overrides) and returns it once it logged its port.
pub fn start_server_with(
    config_path: &std::path::Path,
    workdir: &std::path::Path,
    env: &[(&str, &str)],
) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_splitcast"))
        .arg("--config")
        .arg(config_path)
        .current_dir(workdir)
        .env("RUST_LOG", "debug")
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let lines = log.clone();
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                let _ = port_tx.send(digits.parse::<u16>().unwrap());
            }
            lines.lock().unwrap().push(line);
        }
    });
    let port = port_rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("the server logs its port");
    Server { child, port, log }
}

#[tokio::test]
async fn sigkill_under_load_loses_no_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("events.db");
    let config = include_str!("../../config/default.toml")
        .patched("port = 8080", "port = 0")
        .patched(
            "sqlite://../data/splitcast.db",
            &format!("sqlite://{}", db.display()),
        );
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut server = start_server(&config_path, dir.path());
    let port = server.port;

    let (acked_tx, mut acked_rx) = mpsc::unbounded_channel::<String>();
    let mut workers = Vec::new();
    for worker in 0..8 {
        let acked_tx = acked_tx.clone();
        workers.push(tokio::spawn(async move {
            for n in 0.. {
                let user = format!("w{worker}-u{n}");
                let client = crate::helpers::browser();
                let base = format!("http://127.0.0.1:{port}");
                let Ok(r) = client
                    .get(format!("{base}/get_content"))
                    .header("X-User-Id", &user)
                    .send()
                    .await
                else {
                    return;
                };
                if r.status() != 200 {
                    return;
                }
                let Ok(r) = client.post(format!("{base}/track_conversion")).send().await else {
                    return;
                };
                if r.status() == 204 && acked_tx.send(user).is_err() {
                    return;
                }
            }
        }));
    }
    drop(acked_tx);
    let mut acked = HashSet::new();
    while acked.len() < 400 {
        acked.insert(acked_rx.recv().await.expect("load keeps running"));
    }
    server.kill();
    for worker in workers {
        worker.await.unwrap();
    }
    // Acknowledgements that raced with the kill count too.
    while let Some(user) = acked_rx.recv().await {
        acked.insert(user);
    }

    // Restart on the same file: it opens (recovering the WAL) and serves.
    let mut restarted = start_server(&config_path, dir.path());
    let ready = reqwest::get(format!("{}/readyz", restarted.address()))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    restarted.kill();

    let store = assert_none_lost(&db, &acked).await;
    let participants: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM participants")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert!(participants as usize >= acked.len());
}

/// Reads one HTTP/1.1 answer (status line, headers, a `Content-Length`
/// body) and returns its status line.
async fn read_answer(stream: &mut tokio::io::BufReader<tokio::net::TcpStream>) -> String {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt};
    let mut status = String::new();
    assert!(
        stream.read_line(&mut status).await.unwrap() > 0,
        "closed unanswered"
    );
    let mut length = 0;
    loop {
        let mut line = String::new();
        stream.read_line(&mut line).await.unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.unwrap();
    status
}

#[tokio::test]
async fn sigterm_answers_every_request_in_flight_then_exits_cleanly() {
    use tokio::io::AsyncWriteExt;
    const TOKEN: &str = "sigterm-ingest-token";
    let dir = tempfile::tempdir().unwrap();
    let config = include_str!("../../config/default.toml")
        .patched("port = 8080", "port = 0")
        .patched(
            "sqlite://../data/splitcast.db",
            &format!("sqlite://{}", dir.path().join("t.db").display()),
        );
    assert!(config.contains("t.db") && config.contains("port = 0"));
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, config).unwrap();
    let env = [("SPLITCAST__INGEST__TOKEN", TOKEN)];
    let mut server = start_server_with(&config_path, dir.path(), &env);
    let address = format!("127.0.0.1:{}", server.port);
    // Each connection is accepted (one answered request), then a conversion
    // is sent up to half its body: in flight for sure when SIGTERM arrives.
    let mut in_flight = Vec::new();
    for n in 0..16 {
        let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let mut stream = tokio::io::BufReader::new(stream);
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            .await
            .unwrap();
        let status = read_answer(&mut stream).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        let body = format!(r#"{{"user_id": "drain-{n}", "version": "B"}}"#);
        let head = format!(
            "POST /webhook HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {TOKEN}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let (first, rest) = body.split_at(body.len() / 2);
        stream
            .write_all(format!("{head}{first}").as_bytes())
            .await
            .unwrap();
        stream.flush().await.unwrap();
        in_flight.push((stream, rest.to_owned()));
    }
    // In flight means handled: a request still unread in a socket buffer is
    // not started by a stopping server. The metrics request itself is one more.
    let metrics = format!("http://{address}/metrics");
    crate::helpers::wait_until(
        std::time::Duration::from_secs(10),
        "16 requests in flight",
        || {
            let metrics = metrics.clone();
            async move {
                let text = reqwest::get(metrics).await.unwrap().text().await.unwrap();
                text.contains("splitcast_http_requests_in_flight 17")
            }
        },
    )
    .await;
    // Safety: sending a signal to our own child process.
    unsafe { libc::kill(server.child.id() as i32, libc::SIGTERM) };
    crate::helpers::wait_until(
        std::time::Duration::from_secs(10),
        "the SIGTERM log line",
        || {
            let log = server.log.clone();
            async move { log.lock().unwrap().iter().any(|l| l.contains("SIGTERM")) }
        },
    )
    .await;
    for (mut stream, rest) in in_flight {
        stream.write_all(rest.as_bytes()).await.unwrap();
        let answer = read_answer(&mut stream).await;
        assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    }
    let status = tokio::task::spawn_blocking(move || server.child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
    let store = reopen(&dir.path().join("t.db")).await;
    let converted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM conversions")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(converted, 16);
}

#[tokio::test]
async fn the_sqlite_url_takes_only_the_synchronous_option() {
    use splitcast::store::Store;
    let dir = tempfile::tempdir().unwrap();
    let base = format!("sqlite://{}", dir.path().join("s.db").display());
    for ok in ["", "?synchronous=full", "?synchronous=normal"] {
        let store = splitcast::store::open(
            &format!("{base}{ok}").into(),
            splitcast::store::no_routing(),
        )
        .await
        .unwrap();
        // Opened and migrated: it answers a read.
        assert!(store.counters().await.unwrap().is_empty());
    }
    let error = splitcast::store::open(
        &format!("{base}?cache=shared").into(),
        splitcast::store::no_routing(),
    )
    .await
    .expect_err("an unknown option is refused");
    assert!(error.to_string().contains("synchronous"), "{error}");
}
