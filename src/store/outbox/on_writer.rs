//! The outbox's writes on SQLite, as steps of the writer thread's batch.
//!
//! SQLite has one write lock. When the delivery workers claimed and deleted
//! rows through the pool, each step was a transaction of its own: an fsync,
//! the writer waiting for the lock meanwhile, and the writer's page cache
//! thrown away because another connection had written. Run inside the
//! writer's batch, a step shares that batch's transaction and its fsync, and
//! SQLite sees one writer. PostgreSQL keeps the pool (`queue.rs`): its row
//! locks let the workers of several instances work side by side.

use super::ClaimedRow;
use crate::store::{Bucket, BucketUpdate, StoreError};
use rusqlite::{Transaction, params, params_from_iter};

/// One step of outbox bookkeeping.
pub enum OutboxOp {
    /// [`Outbox::claim`](super::Outbox::claim), at most `limit` rows.
    Claim {
        notifier: String,
        now_ms: i64,
        lease_ms: i64,
        events_only: bool,
        limit: i64,
    },
    /// Delete delivered rows.
    Complete(Vec<i64>),
    /// Due again at `next_ms`, one more attempt counted.
    RetryLater {
        ids: Vec<i64>,
        next_ms: i64,
        reason: String,
    },
    /// Keep as dead letters.
    DeadLetter { ids: Vec<i64>, reason: String },
    /// Give back untouched.
    Release(Vec<i64>),
    /// Dead-letter pending rows created before `cutoff_ms`.
    Expire {
        notifier: String,
        cutoff_ms: i64,
        reason: String,
    },
    /// Pause a notifier.
    Pause {
        notifier: String,
        reason: String,
        now_ms: i64,
    },
    /// Read, update and store a token bucket.
    UpdateBucket {
        notifier: String,
        initial: Bucket,
        update: BucketUpdate,
    },
}

/// What a step answers.
#[derive(Debug)]
pub enum OutboxAnswer {
    /// Rows claimed, in no order.
    Claimed(Vec<ClaimedRow>),
    /// Rows changed.
    Count(u64),
    /// A bucket as it was before the update.
    Bucket(Bucket),
}

impl OutboxAnswer {
    /// The rows changed ([`OutboxAnswer::Count`]; 0 for any other answer).
    pub fn count(self) -> u64 {
        match self {
            Self::Count(n) => n,
            _ => 0,
        }
    }
}

impl std::fmt::Debug for OutboxOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::Claim { .. } => "Claim",
            Self::Complete(_) => "Complete",
            Self::RetryLater { .. } => "RetryLater",
            Self::DeadLetter { .. } => "DeadLetter",
            Self::Release(_) => "Release",
            Self::Expire { .. } => "Expire",
            Self::Pause { .. } => "Pause",
            Self::UpdateBucket { .. } => "UpdateBucket",
        };
        f.write_str(name)
    }
}

impl OutboxOp {
    /// Runs the step inside `tx`; its effect lasts only if `tx` commits.
    pub fn run(self, tx: &Transaction) -> Result<OutboxAnswer, StoreError> {
        Ok(match self {
            Self::Claim {
                notifier,
                now_ms,
                lease_ms,
                events_only,
                limit,
            } => OutboxAnswer::Claimed(claim(tx, &notifier, now_ms, lease_ms, events_only, limit)?),
            Self::Complete(ids) => by_ids(tx, "DELETE FROM outbox", &[], &ids)?,
            Self::RetryLater {
                ids,
                next_ms,
                reason,
            } => by_ids(
                tx,
                "UPDATE outbox SET attempts = attempts + 1, locked_until = 0, \
                 next_attempt_at = ?1, last_error = ?2",
                &[&next_ms, &reason],
                &ids,
            )?,
            Self::DeadLetter { ids, reason } => by_ids(
                tx,
                "UPDATE outbox SET status = 'dead', attempts = attempts + 1, \
                 locked_until = 0, last_error = ?1",
                &[&reason],
                &ids,
            )?,
            Self::Release(ids) => by_ids(tx, "UPDATE outbox SET locked_until = 0", &[], &ids)?,
            Self::Expire {
                notifier,
                cutoff_ms,
                reason,
            } => OutboxAnswer::Count(
                tx.prepare_cached(
                    "UPDATE outbox SET status = 'dead', last_error = ?3 \
                     WHERE notifier = ?1 AND status = 'pending' AND created_at < ?2",
                )?
                .execute(params![notifier, cutoff_ms, reason])? as u64,
            ),
            Self::Pause {
                notifier,
                reason,
                now_ms,
            } => OutboxAnswer::Count(
                tx.prepare_cached(
                    "INSERT INTO notifier_pauses (notifier, reason, paused_at) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (notifier) DO UPDATE SET reason = excluded.reason, \
                     paused_at = excluded.paused_at",
                )?
                .execute(params![notifier, reason, now_ms])? as u64,
            ),
            Self::UpdateBucket {
                notifier,
                initial,
                update,
            } => OutboxAnswer::Bucket(update_bucket(tx, &notifier, initial, &update)?),
        })
    }
}

fn claim(
    tx: &Transaction,
    notifier: &str,
    now_ms: i64,
    lease_ms: i64,
    events_only: bool,
    limit: i64,
) -> Result<Vec<ClaimedRow>, StoreError> {
    let filter = if events_only { " AND is_event = 1" } else { "" };
    let mut statement = tx.prepare_cached(&format!(
        "UPDATE outbox SET locked_until = ?3 WHERE id IN (\
           SELECT id FROM outbox WHERE notifier = ?1 AND status = 'pending' \
           AND next_attempt_at <= ?2 AND locked_until <= ?2{filter} ORDER BY id LIMIT ?4) \
         RETURNING id, notification, created_at"
    ))?;
    let rows = statement
        .query_map(params![notifier, now_ms, now_ms + lease_ms, limit], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// `sql_head WHERE id IN (ids)`, with `binds` as ?1, ?2, ... The ids go in
/// as one JSON array: a list of placeholders would make a statement per
/// length, and each would push the events' hot statements out of the
/// writer's statement cache.
fn by_ids(
    tx: &Transaction,
    sql_head: &str,
    binds: &[&dyn rusqlite::ToSql],
    ids: &[i64],
) -> Result<OutboxAnswer, StoreError> {
    let list = serde_json::to_string(ids).expect("integers serialise");
    let values = binds
        .iter()
        .copied()
        .chain(std::iter::once(&list as &dyn rusqlite::ToSql));
    let changed = tx
        .prepare_cached(&format!(
            "{sql_head} WHERE id IN (SELECT value FROM json_each(?{}))",
            binds.len() + 1
        ))?
        .execute(params_from_iter(values))?;
    Ok(OutboxAnswer::Count(changed as u64))
}

fn update_bucket(
    tx: &Transaction,
    notifier: &str,
    initial: Bucket,
    update: &BucketUpdate,
) -> Result<Bucket, StoreError> {
    let before = tx
        .prepare_cached("SELECT credit, updated_at FROM rate_buckets WHERE notifier = ?1")?
        .query_row([notifier], |row| {
            Ok(Bucket {
                credit: row.get(0)?,
                updated_ms: row.get(1)?,
            })
        })
        .or_else(|error| match error {
            rusqlite::Error::QueryReturnedNoRows => Ok(initial),
            error => Err(error),
        })?;
    let after = update(before);
    tx.prepare_cached(
        "INSERT INTO rate_buckets (notifier, credit, updated_at) VALUES (?1, ?2, ?3) \
         ON CONFLICT (notifier) DO UPDATE SET credit = excluded.credit, \
         updated_at = excluded.updated_at",
    )?
    .execute(params![notifier, after.credit, after.updated_ms])?;
    Ok(before)
}
