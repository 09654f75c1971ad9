//! No client can fill the log: malformed HTTP and tampered session cookies
//! log nothing at WARN or above, whatever `RUST_LOG` says, unless `RUST_LOG`
//! names the crate that logs them (then the lines are there, which proves
//! the requests provoke them).

use crate::durability::{Server, start_server_with};
use crate::helpers::{BASE, DEMO, wait_until};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const TOKEN: &str = "admin-token-for-the-log-flood-tests";

/// The five malformed requests of issue #20, each on its own connection.
fn malformed() -> Vec<Vec<u8>> {
    let mut tls_hello = vec![
        0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03,
    ];
    tls_hello.extend([0x5a; 160]);
    vec![
        format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100_000)).into_bytes(),
        b"GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n".to_vec(),
        b"POST /track_view HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".to_vec(),
        b"GET / HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(),
        tls_hello,
    ]
}

/// Sends `bytes` and reads until the server closes the connection: by then
/// the server has logged whatever it logs about it.
fn send_and_wait_for_close(port: u16, bytes: &[u8]) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // A server may close before reading it all; that is an answer too.
    let _ = stream.write_all(bytes);
    let mut sink = Vec::new();
    let _ = stream.read_to_end(&mut sink);
}

/// Runs the binary under `rust_log`, sends the malformed requests and a
/// tampered cookie, then a reload as a marker; returns what was logged
/// after the listening line up to the marker.
async fn logged_under(rust_log: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.toml");
    let config = format!("{BASE}\n[admin]\ntoken = \"{TOKEN}\"\n{DEMO}");
    std::fs::write(&config_path, config).unwrap();
    let db = format!("sqlite://{}", dir.path().join("events.db").display());
    let env = [
        ("RUST_LOG", rust_log),
        ("SPLITCAST__STORAGE__URL", db.as_str()),
        ("SPLITCAST__SERVER__PORT", "0"),
        (
            "SPLITCAST__SERVER__STATIC_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/static"),
        ),
    ];
    let mut server = start_server_with(&config_path, dir.path(), &env);
    let port = server.port;
    tokio::task::spawn_blocking(move || {
        for request in malformed() {
            send_and_wait_for_close(port, &request);
        }
    })
    .await
    .unwrap();
    let tampered = reqwest::Client::new()
        .get(format!("{}/get_content", server.address()))
        .header("Cookie", "splitcast=tampered-value-that-no-key-signed")
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), 200, "a tampered cookie is a new visitor");
    let reload = reqwest::Client::new()
        .post(format!("{}/admin/reload", server.address()))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(reload.status(), 200);
    wait_until(Duration::from_secs(10), "the reload's log line", || async {
        log_of(&server)
            .iter()
            .any(|l| l.contains("configuration reloaded"))
    })
    .await;
    server.kill();
    let log = log_of(&server);
    let start = log.iter().position(|l| l.contains("listening on")).unwrap();
    log[start..].to_vec()
}

fn log_of(server: &Server) -> Vec<String> {
    server.log.lock().unwrap().clone()
}

fn at_warn_or_above(log: &[String]) -> Vec<&String> {
    log.iter()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .collect()
}

#[tokio::test]
async fn rust_log_info_logs_no_client_protocol_error_or_tampered_cookie() {
    for rust_log in ["info", "debug"] {
        let log = logged_under(rust_log).await;
        assert_eq!(
            at_warn_or_above(&log),
            Vec::<&String>::new(),
            "RUST_LOG={rust_log}"
        );
    }
    // Naming the crates turns their lines back on: the requests above do
    // provoke them, so the silence is the filter's.
    let log = logged_under("info,actix_http=info,actix_session=info").await;
    let loud = at_warn_or_above(&log);
    let from = |target: &str| loud.iter().filter(|l| l.contains(target)).count();
    assert_eq!(from("actix_http::h1"), malformed().len(), "{loud:#?}");
    assert_eq!(from("actix_session::middleware"), 1, "{loud:#?}");
}
