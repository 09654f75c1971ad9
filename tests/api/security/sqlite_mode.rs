//! The SQLite files (the database, its `-wal` and `-shm`) are created
//! readable by their owner only: they hold user ids and queued messages.

use crate::helpers::{browser, spawn_app};
use std::os::unix::fs::PermissionsExt;

#[tokio::test]
async fn the_sqlite_files_are_created_owner_only() {
    let app = spawn_app().await;
    // A participant: the writer has committed through the WAL.
    crate::helpers::served_variant(&browser(), app.url("/get_content")).await;
    let db = app._dir.as_ref().unwrap().path().join("splitcast.db");
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", db.display());
        let mode = std::fs::metadata(&file)
            .unwrap_or_else(|e| panic!("{file}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file} has mode {:o}", mode & 0o777);
    }
}
