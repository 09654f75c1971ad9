//! The SQLite writer shares its file with the pool's own short writes
//! (digests taken, history points, run-time statuses, verdicts, splits). A
//! batch that reads before it writes must not fail when one of those
//! commits between its read and its write: every request is acknowledged,
//! none answered 503.

use crate::helpers::{browser, spawn_app};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Commits the other connection must make while requests are in flight, so
/// the test provokes the contention it is about however slow the machine.
const COMMITS_UNDER_LOAD: u64 = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pools_commits_never_fail_a_batch_of_the_writer() {
    let app = spawn_app().await;
    // Returning visitors, whose views and conversions read before they write.
    let mut visitors = Vec::new();
    for _ in 0..16 {
        let visitor = browser();
        let served = visitor.get(app.url("/get_content")).send().await.unwrap();
        assert_eq!(served.status(), 200);
        visitors.push(visitor);
    }
    // Another connection commits as often as it can, as the pool's writers do.
    let stop = Arc::new(AtomicBool::new(false));
    let commits = Arc::new(AtomicU64::new(0));
    let pool = app.store.pool().clone();
    let committing = {
        let (stop, commits) = (stop.clone(), commits.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let n = commits.load(Ordering::Relaxed);
                sqlx::query(&format!("PRAGMA user_version = {}", n % 1000 + 1))
                    .execute(&pool)
                    .await
                    .unwrap();
                commits.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let mut requests = Vec::new();
    for (i, visitor) in visitors.iter().enumerate() {
        let visitor = visitor.clone();
        let url = app.url(if i % 2 == 0 {
            "/track_view"
        } else {
            "/track_conversion"
        });
        let commits = commits.clone();
        // Each visitor keeps sending until the other connection has committed
        // often enough under its load: the overlap is awaited, not timed.
        requests.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            while statuses.len() < 25 || commits.load(Ordering::Relaxed) < COMMITS_UNDER_LOAD {
                statuses.push(visitor.post(&url).send().await.unwrap().status().as_u16());
            }
            statuses
        }));
    }
    let mut answered = Vec::new();
    for request in requests {
        answered.extend(request.await.unwrap());
    }
    stop.store(true, Ordering::Relaxed);
    committing.await.unwrap();
    assert!(commits.load(Ordering::Relaxed) >= COMMITS_UNDER_LOAD);
    let failed = answered.iter().filter(|s| **s != 204).count();
    assert_eq!(
        failed,
        0,
        "{failed} of {} requests failed: {answered:?}",
        answered.len()
    );
}
