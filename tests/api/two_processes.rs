//! Two real `splitcast` processes on one PostgreSQL, four HTTP workers each:
//! twenty copies of one signed delivery, sent from twenty OS threads released
//! together by a barrier and spread over both processes, are applied once.
//! Unlike the in-process "two instances" tests, nothing is shared between
//! the two but the database.

use crate::durability::{Server, start_server_with};
use crate::helpers::Patch;
use crate::postgres::fresh_database;
use crate::webhook::{KEY, now, sign};
use serde_json::{Value, json};
use std::sync::{Arc, Barrier};

const COPIES: usize = 20;
const ITEMS: usize = 50;

fn start(dir: &std::path::Path, url: &str) -> Server {
    let config = include_str!("../../config/default.toml")
        .patched("port = 8080", "port = 0")
        .patched("workers = 0", "workers = 4");
    let config_path = dir.join("config.toml");
    std::fs::write(&config_path, config).unwrap();
    let secret = format!("whsec_{}", {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(KEY)
    });
    let env = [
        ("SPLITCAST__STORAGE__URL", url),
        ("SPLITCAST__INGEST__SIGNING_SECRET", secret.as_str()),
    ];
    start_server_with(&config_path, dir, &env)
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn copies_of_one_delivery_from_os_threads_to_two_processes_count_once() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let (dir_one, dir_two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // One after the other: both run the migrations otherwise.
    let mut one = start(dir_one.path(), &url);
    let mut two = start(dir_two.path(), &url);
    let items: Vec<Value> = (0..ITEMS)
        .map(|i| json!({"user_id": format!("p-{i}"), "version": "B", "event": "page_view"}))
        .collect();
    let body = serde_json::to_vec(&items).unwrap();
    let (id, ts) = ("msg_two_processes", now());
    let signature = sign(id, ts, &body);
    let barrier = Arc::new(Barrier::new(COPIES));
    let threads: Vec<_> = (0..COPIES)
        .map(|copy| {
            let target = if copy % 2 == 0 { &one } else { &two };
            let url = format!("{}/webhook", target.address());
            let (barrier, body, signature) = (barrier.clone(), body.clone(), signature.clone());
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let request = reqwest::Client::new()
                        .post(url)
                        .header("content-type", "application/json")
                        .header("webhook-id", id)
                        .header("webhook-timestamp", ts.to_string())
                        .header("webhook-signature", signature)
                        .body(body);
                    barrier.wait();
                    let response = request.send().await.unwrap();
                    let status = response.status().as_u16();
                    (status, response.json::<Value>().await.unwrap())
                })
            })
        })
        .collect();
    let answers: Vec<(u16, Value)> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let applied: Vec<_> = answers.iter().filter(|(s, _)| *s == 202).collect();
    assert_eq!(applied.len(), 1, "{answers:?}");
    assert_eq!(applied[0].1["accepted"], ITEMS);
    for (status, body) in answers.iter().filter(|(s, _)| *s != 202) {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(body, &json!({"duplicate_delivery": true}));
    }
    one.kill();
    two.kill();

    sqlx::any::install_default_drivers();
    let store = splitcast::store::open(&url.into(), splitcast::store::no_routing())
        .await
        .unwrap();
    use splitcast::store::Store;
    let views: i64 = store
        .counters()
        .await
        .unwrap()
        .iter()
        .filter(|c| c.metric == "views")
        .map(|c| c.value)
        .sum();
    assert_eq!(views, ITEMS as i64);
}
