//! PostgreSQL, for several instances sharing one state.

use super::StoreError;
use super::effects::Routing;
use super::sql::{Backend, SqlStore};
use sqlx::any::AnyPoolOptions;
use std::sync::Arc;
use std::time::Duration;

pub(super) async fn open(
    url: &str,
    pool_size: u32,
    routing: Arc<dyn Routing>,
) -> Result<SqlStore, StoreError> {
    let pool = AnyPoolOptions::new()
        .max_connections(pool_size)
        // A database that is down must cost a request about a second, not
        // ten: writes then answer 503 and new visitors get the control.
        .acquire_timeout(Duration::from_secs(1))
        .connect(url)
        .await?;
    sqlx::migrate!("migrations/postgres").run(&pool).await?;
    Ok(SqlStore::new(pool, Backend::Postgres, routing))
}
