//! Slow and odd clients: a stalled body is answered 408 and its connection
//! closed; every error is JSON, whatever answered it; HEAD works on every GET
//! route and enrols nobody; malformed HTTP is not an ERROR log line.

use crate::helpers::{BASE, DEMO, Patch, error_code, spawn_app_from, spawn_app_with};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn a_stalled_body_is_answered_408_and_its_connection_closed() {
    let config = format!(
        "{}\n[ingest]\ntoken = \"t\"\n{DEMO}",
        BASE.patched("[server]", "[server]\nbody_timeout_secs = 1")
    );
    let app = spawn_app_from(&config, None).await;
    let address = app.address.trim_start_matches("http://").to_owned();
    for path in ["/track_conversion", "/webhook"] {
        let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer t\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"user_id\""
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let started = Instant::now();
        let mut answer = Vec::new();
        // Reading to the end proves the server closed the connection.
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
            .await
            .expect("the connection is closed")
            .unwrap();
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{path}: {answer}");
        assert!(answer.contains(r#""code":"request_timeout""#), "{answer}");
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "{:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn every_error_is_json_whatever_the_method_or_path() {
    let config = BASE.patched(
        "[server]",
        "[server]\ncors_allowed_origins = [\"https://shop.example\"]",
    );
    let app = spawn_app_from(&format!("{config}\n{DEMO}"), None).await;
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = app
            .client
            .request(method.clone(), app.url("/no/such/page"))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(response, 404).await, "not_found", "{method}");
    }
    let wrong_method = app
        .client
        .put(app.url("/get_content"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(wrong_method, 405).await, "method_not_allowed");
    for path in [
        "/..%2f..%2fetc%2fpasswd",
        "/%2e%2e/Cargo.toml",
        "/.hidden",
        "/a%00b",
    ] {
        let response = app.get(path).await;
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{path}: {status}");
        let body: serde_json::Value = response.json().await.expect("a JSON error");
        assert!(body["error"]["code"].is_string(), "{path}: {body}");
    }
    let refused = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/track_view"))
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    let status = refused.status().as_u16();
    assert!((400..500).contains(&status), "{status}");
    let body: serde_json::Value = refused.json().await.expect("a JSON error");
    assert!(body["error"]["code"].is_string(), "{body}");
}

#[tokio::test]
async fn head_works_on_every_get_route_and_enrols_nobody() {
    let app = spawn_app_with(DEMO).await;
    for path in [
        "/",
        "/get_content",
        "/variant",
        "/healthz",
        "/readyz",
        "/metrics",
        "/results",
        "/dashboard",
    ] {
        let response = app.client.head(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert!(response.bytes().await.unwrap().is_empty(), "{path}");
    }
    assert_eq!(app.total("homepage_cta", "participants").await, 0);
    let get = app.get("/get_content").await;
    assert_eq!(get.status(), 200);
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
}

#[tokio::test]
async fn malformed_http_from_a_client_is_not_logged_as_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = include_str!("../../config/default.toml")
        .patched("port = 8080", "port = 0")
        .patched(
            "sqlite://../data/splitcast.db",
            &format!("sqlite://{}", dir.path().join("m.db").display()),
        );
    let path = dir.path().join("config.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_splitcast"))
        .arg("--config")
        .arg(&path)
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env(
            "SPLITCAST__SERVER__STATIC_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/static"),
        )
        .env("SPLITCAST_LOG_FORMAT", "json")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    let port = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a port line");
        if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
            break rest
                .chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>();
        }
    };
    for garbage in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        &[0xff; 64],
    ] {
        let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
            .await
            .unwrap();
        stream.write_all(garbage).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    }
    // One good request afterwards: its log line marks the end of the garbage's.
    let ok = reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    // Safety: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait().unwrap();
    let errors: Vec<String> = lines_rx
        .try_iter()
        .filter(|l| l.contains(r#""level":"ERROR""#))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}
