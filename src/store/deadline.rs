//! A bound on how long an operation of the pool may wait for the database.
//! A PostgreSQL that accepts connections but stopped answering (a network
//! partition, a frozen host, a fail-over that left the old connections
//! dangling) would otherwise hold the caller until the operating system
//! gives the connection up, minutes later or never: `/results` would hang
//! instead of answering 503, and a background loop (the outbox's delivery,
//! the override poll, the digest) would stop for good without dying, so no
//! supervisor would notice. The event writes have the same bound in `sql.rs`.

/// `within!(store, limit, |conn| body)`: runs `body` (an expression that may
/// use `?` and `.await`) with `conn`, a `&mut AnyConnection` of `store`'s
/// pool, and gives up after `limit` with [`StoreError::Timeout`](super::StoreError::Timeout),
/// the wait for a connection included. The connection of an operation given
/// up is closed, never reused: what the database did of it is in doubt, and
/// the pool would otherwise test it on release with a ping that has no
/// timeout, losing that connection's slot for as long as the ping hangs.
///
/// A macro, not a function taking a closure: the body borrows the caller's
/// arguments and the connection at once, which a closure returning a boxed
/// future can only do with owned copies of everything it touches.
macro_rules! within {
    ($store:expr, $limit:expr, |$conn:ident| $body:expr) => {{
        let limit: std::time::Duration = $limit;
        match tokio::time::timeout(limit, $store.pool.acquire()).await {
            Err(_) => Err($crate::store::StoreError::Timeout),
            Ok(Err(error)) => Err($crate::store::StoreError::from(error)),
            Ok(Ok(mut pooled)) => {
                let result = {
                    let $conn: &mut sqlx::AnyConnection = &mut pooled;
                    tokio::time::timeout(limit, async { Ok::<_, $crate::store::StoreError>($body) })
                        .await
                        .unwrap_or(Err($crate::store::StoreError::Timeout))
                };
                if matches!(result, Err($crate::store::StoreError::Timeout)) {
                    pooled.close_on_drop();
                }
                result
            }
        }
    }};
}

pub(super) use within;
