//! The outbox's steps on SQLite, sent to the writer thread (see
//! `on_writer.rs` for why), with a claim taken [`CLAIM_CHUNK`] rows per step
//! so that no batch of the writer grows long.

use super::queue::CLAIM_CHUNK;
use super::{Claimed, OutboxAnswer, OutboxOp};
use crate::store::StoreError;
use crate::store::sql::SqlStore;

/// Rows in id order (several chunks, each in order, may interleave).
fn oldest_first(mut claimed: Claimed) -> Claimed {
    let mut rows: Vec<(i64, String)> = claimed.ids.into_iter().zip(claimed.payloads).collect();
    rows.sort_by_key(|row| row.0);
    (claimed.ids, claimed.payloads) = rows.into_iter().unzip();
    claimed
}

impl SqlStore {
    /// Runs `op` on the SQLite writer; `None` on PostgreSQL.
    pub(super) async fn on_writer(&self, op: OutboxOp) -> Option<Result<OutboxAnswer, StoreError>> {
        let (writes, queue) = self.sqlite_writes()?;
        Some(queue.outbox(&writes, op).await)
    }

    /// [`Outbox::claim`](super::Outbox::claim) on SQLite: [`CLAIM_CHUNK`] rows per writer step.
    pub(super) async fn claim_on_writer(
        &self,
        notifier: &str,
        now_ms: i64,
        lease_ms: i64,
        events_only: bool,
        limit: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        let mut claimed: Option<Claimed> = None;
        loop {
            let taken = claimed.as_ref().map_or(0, |c| c.ids.len() as i64);
            let want = (limit - taken).min(CLAIM_CHUNK);
            if want <= 0 {
                break;
            }
            let op = OutboxOp::Claim {
                notifier: notifier.to_owned(),
                now_ms,
                lease_ms,
                events_only,
                limit: want,
            };
            let chunk = match self.on_writer(op).await {
                Some(Ok(OutboxAnswer::Claimed(chunk))) => chunk,
                Some(Ok(other)) => unreachable!("a claim answers rows, not {other:?}"),
                Some(Err(error)) => return Err(error),
                None => unreachable!("only called on SQLite"),
            };
            let Some(chunk) = chunk else { break };
            let full = chunk.ids.len() as i64 == want;
            claimed = Some(match claimed {
                None => chunk,
                Some(mut sofar) => {
                    sofar.ids.extend(chunk.ids);
                    sofar.payloads.extend(chunk.payloads);
                    sofar.oldest_created_ms = sofar.oldest_created_ms.min(chunk.oldest_created_ms);
                    sofar
                }
            });
            if !full {
                break;
            }
        }
        Ok(claimed.map(oldest_first))
    }
}
