//! PostgreSQL, for several instances sharing one state.

use super::StoreError;
use super::routing::NotifyRouting;
use super::sql::{Backend, SqlStore};
use sqlx::any::AnyPoolOptions;
use std::time::Duration;

pub(super) async fn open(url: &str, routing: NotifyRouting) -> Result<SqlStore, StoreError> {
    let pool = AnyPoolOptions::new()
        .max_connections(10)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await?;
    sqlx::migrate!("migrations/postgres").run(&pool).await?;
    Ok(SqlStore::new(pool, Backend::Postgres, routing))
}
