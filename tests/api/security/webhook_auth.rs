//! `POST /webhook` refuses a wrong or missing token before it reads the
//! body: a stranger cannot make the server wait for and buffer 256 KiB.

use crate::helpers::{BASE, DEMO, Patch, spawn_app_from};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Sends only the headers of a 256 KiB POST and returns the status line of
/// the answer, which must come without the body ever being sent.
fn status_without_sending_the_body(port: u16, authorization: Option<&str>) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    // Well under server.body_timeout_secs (60 here): a server that waited
    // for the body would not answer in time.
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let authorization = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    let head = format!(
        "POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: 262144\r\n{authorization}\r\n"
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut line = String::new();
    BufReader::new(stream)
        .read_line(&mut line)
        .expect("an answer before the body was sent");
    line.trim_end().to_owned()
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_refused_before_the_body_is_read() {
    let config = BASE.patched(
        "max_body_bytes = 4096",
        "max_body_bytes = 4096\nbody_timeout_secs = 60",
    ) + "\n[ingest]\ntoken = \"ingest-token-of-the-webhook-tests\"\n"
        + DEMO;
    let app = spawn_app_from(&config, None).await;
    let port: u16 = app.address.rsplit(':').next().unwrap().parse().unwrap();
    let started = Instant::now();
    let answers = tokio::task::spawn_blocking(move || {
        [None, Some("Bearer wrong-token"), Some("Basic d3Jvbmc=")]
            .map(|authorization| status_without_sending_the_body(port, authorization))
    })
    .await
    .unwrap();
    for answer in answers {
        assert_eq!(answer, "HTTP/1.1 401 Unauthorized");
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    // The right token still gets its body read and its events recorded.
    let answer = app
        .client
        .post(app.url("/webhook"))
        .bearer_auth("ingest-token-of-the-webhook-tests")
        .json(&serde_json::json!({"user_id": "u1", "version": "B"}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
}
