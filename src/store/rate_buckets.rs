//! The notifiers' token buckets, in the store so that every instance
//! sharing it draws on one bucket per notifier. A bucket is read and written
//! in one transaction (its row locked on PostgreSQL), so two instances never
//! spend the same token.

use super::StoreError;
use super::deadline::within;
use super::sql::{Backend, SqlStore};
use sqlx::Connection;

/// How a bucket changes: a pure function of the bucket as stored, so that
/// the caller can replay it on the bucket it gets back to learn what it took.
pub type BucketUpdate = Box<dyn Fn(Bucket) -> Bucket + Send + Sync>;

/// A bucket's state as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    /// What the bucket holds, in the units of the rate limiter.
    pub credit: i64,
    /// When `credit` was last brought up to date, unix ms.
    pub updated_ms: i64,
}

impl SqlStore {
    /// Applies `update` to the bucket of `notifier` (created as `initial`)
    /// and stores the bucket it returns, atomically for the whole cluster;
    /// returns the bucket as it was: [`Outbox::update_bucket`](super::Outbox::update_bucket).
    pub(super) async fn update_bucket_row(
        &self,
        notifier: &str,
        initial: Bucket,
        update: &BucketUpdate,
    ) -> Result<Bucket, StoreError> {
        within!(self, self.write_timeout, |conn| {
            let mut tx = conn.begin().await?;
            // A write first: SQLite takes its write lock here, not at the update.
            sqlx::query(
                "INSERT INTO rate_buckets (notifier, credit, updated_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (notifier) DO NOTHING",
            )
            .bind(notifier)
            .bind(initial.credit)
            .bind(initial.updated_ms)
            .execute(&mut *tx)
            .await?;
            let lock = match self.backend {
                Backend::Postgres => " FOR UPDATE",
                Backend::Sqlite => "",
            };
            let (credit, updated_ms): (i64, i64) = sqlx::query_as(&format!(
                "SELECT credit, updated_at FROM rate_buckets WHERE notifier = $1{lock}"
            ))
            .bind(notifier)
            .fetch_one(&mut *tx)
            .await?;
            let before = Bucket { credit, updated_ms };
            let bucket = update(before);
            sqlx::query("UPDATE rate_buckets SET credit = $2, updated_at = $3 WHERE notifier = $1")
                .bind(notifier)
                .bind(bucket.credit)
                .bind(bucket.updated_ms)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            before
        })
    }
}
