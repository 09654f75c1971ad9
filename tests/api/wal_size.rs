//! The SQLite WAL stays small under continuous writes: the writer
//! checkpoints between its batches, so the log starts over instead of
//! growing with every event (a run of new visitors once grew it to 2 GB in
//! 20 seconds when only a concurrent checkpointer tried).

use crate::helpers::{DEMO, browser, spawn_app_with};

#[tokio::test]
async fn the_wal_stays_small_while_new_visitors_keep_arriving() {
    let app = spawn_app_with(DEMO).await;
    let dir = app._dir.as_ref().unwrap().path().to_owned();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let url = app.url("/get_content");
        tasks.push(tokio::spawn(async move {
            for _ in 0..400 {
                let response = browser()
                    .get(&url)
                    .header("User-Agent", "Mozilla/5.0")
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(app.total("homepage_cta", "participants").await, 3200);
    let wal = std::fs::metadata(dir.join("splitcast.db-wal"))
        .unwrap()
        .len();
    // 3200 random keys touch thousands of pages; unchecked, the WAL holds them all.
    assert!(wal < 4 * 1024 * 1024, "the WAL grew to {wal} bytes");
}
