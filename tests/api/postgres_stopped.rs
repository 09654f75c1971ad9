//! A real PostgreSQL stopped under load (`pg_ctl stop -m immediate`, the
//! test's own cluster), with the real binary: what README's "The database
//! goes away" promises. Writes are answered 503 `store_unavailable` with
//! `Retry-After` while it is down, never a 5xx of another kind and never a
//! hang; `/readyz` is 503; pages still answer 200; writes and `/readyz`
//! recover by themselves once it is back; and every event answered 202 before,
//! during or after the outage is in the database.

use crate::durability::start_server_with;
use crate::helpers::Patch;
use crate::pg_cluster::PgCluster;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOKEN: &str = "pg-stop-ingest-token";

/// What the senders saw: units answered 202, and 503s by phase.
#[derive(Default)]
struct Seen {
    acked: HashSet<String>,
    refused_while_down: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs PostgreSQL (its server binaries, for a cluster of the test's own)"
)]
async fn a_stopped_postgres_under_load_is_503_then_recovers_and_loses_nothing_acknowledged() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let config = include_str!("../../config/default.toml").patched("port = 8080", "port = 0");
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, config).unwrap();
    let url = cluster.url();
    let env = [
        ("SPLITCAST__STORAGE__URL", url.as_str()),
        ("SPLITCAST__INGEST__TOKEN", TOKEN),
    ];
    let mut server = start_server_with(&config_path, dir.path(), &env);
    let address = server.address();
    // A request that outlives this has hung, which README rules out.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    let seen = Arc::new(Mutex::new(Seen::default()));
    let down = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut senders = Vec::new();
    for sender in 0..4 {
        let (client, address) = (client.clone(), address.clone());
        let (seen, down, stop) = (seen.clone(), down.clone(), stop.clone());
        senders.push(tokio::spawn(async move {
            for n in 0.. {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let user = format!("s{sender}-{n}");
                let was_down = down.load(Ordering::SeqCst);
                let response = client
                    .post(format!("{address}/webhook"))
                    .bearer_auth(TOKEN)
                    .json(&serde_json::json!({"user_id": user, "version": "B"}))
                    .send()
                    .await
                    .expect("an answer, not a hang or a dropped connection");
                match response.status().as_u16() {
                    202 => {
                        // Sent after the server stopped: nothing could commit it.
                        assert!(!was_down, "{user} acknowledged with PostgreSQL stopped");
                        seen.lock().unwrap().acked.insert(user);
                    }
                    503 => {
                        assert!(response.headers().contains_key("retry-after"));
                        let body: serde_json::Value = response.json().await.unwrap();
                        assert_eq!(body["error"]["code"], "store_unavailable");
                        if was_down {
                            seen.lock().unwrap().refused_while_down += 1;
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    other => panic!("a write answered {other}"),
                }
            }
        }));
    }
    let acked = || seen.lock().unwrap().acked.len();
    crate::helpers::wait_until(Duration::from_secs(30), "100 events before", || {
        let n = acked();
        async move { n >= 100 }
    })
    .await;

    cluster.stop_immediately();
    down.store(true, Ordering::SeqCst);
    let stopped = Instant::now();
    // The fault was hit: writes sent after the stop are refused.
    crate::helpers::wait_until(Duration::from_secs(15), "503s from every sender", || {
        let refused = seen.lock().unwrap().refused_while_down;
        async move { refused >= 8 }
    })
    .await;
    let ready = client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let page = client
        .get(format!("{address}/get_content"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200, "pages work without the database");
    eprintln!("refused within {:?} of the stop", stopped.elapsed());

    down.store(false, Ordering::SeqCst);
    let before_restart = acked();
    cluster.start_again();
    crate::helpers::wait_until(Duration::from_secs(30), "writes to resume", || {
        let n = acked();
        async move { n >= before_restart + 50 }
    })
    .await;
    let ready = client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    stop.store(true, Ordering::SeqCst);
    for sender in senders {
        sender.await.unwrap();
    }
    server.kill();

    sqlx::any::install_default_drivers();
    let store = splitcast::store::open(&url.clone().into(), splitcast::store::no_routing())
        .await
        .unwrap();
    let stored: Vec<String> = sqlx::query_scalar("SELECT unit_id FROM conversions")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let stored: HashSet<String> = stored.into_iter().collect();
    let seen = seen.lock().unwrap();
    let lost: Vec<&String> = seen.acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged events lost: {lost:?}",
        lost.len()
    );
    eprintln!(
        "{} acknowledged, {} refused while down",
        seen.acked.len(),
        seen.refused_while_down
    );
}
