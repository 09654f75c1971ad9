//! What the event writer is asked to do, and the SQLite writer's queue:
//! shared by the writer (`writer.rs`) and the store that sends it the
//! outbox's steps (`sql.rs`, `outbox/queue.rs`).

use super::outbox::{OutboxAnswer, OutboxOp};
use super::sqlite_writes::SqliteWrites;
use super::{StoreError, Write, Written};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// Writes waiting for the writer before handlers wait for room.
pub(super) const QUEUE_DEPTH: usize = 8192;

pub(super) type Reply = oneshot::Sender<Result<Written, Arc<StoreError>>>;
pub(super) type OutboxReply = oneshot::Sender<Result<OutboxAnswer, Arc<StoreError>>>;

/// What the writer is asked to do.
pub(super) enum Job {
    /// A request's write.
    Write(Write, Reply),
    /// A step of outbox bookkeeping, which joins the batch's transaction
    /// (SQLite only: `outbox/on_writer.rs`).
    Outbox(OutboxOp, OutboxReply),
}

/// Both ends of the writer's queue.
type Channel = (mpsc::Sender<Job>, mpsc::Receiver<Job>);

/// The SQLite writer's queue, made with the store so that the outbox can
/// send its steps to the writer thread; the thread takes both ends when it
/// starts. The store keeps only a weak sender, so that the thread still ends
/// when the last [`EventWriter`](super::EventWriter) is dropped.
#[derive(Debug, Clone)]
pub(super) struct JobQueue {
    weak: mpsc::WeakSender<Job>,
    unstarted: Arc<Mutex<Option<Channel>>>,
}

impl JobQueue {
    /// Both ends, for the writer thread; `None` once it was started.
    pub(super) fn take(&self) -> Option<Channel> {
        self.unstarted.lock().expect("never poisoned").take()
    }

    pub(super) fn new() -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        Self {
            weak: sender.downgrade(),
            unstarted: Arc::new(Mutex::new(Some((sender, receiver)))),
        }
    }

    /// Runs an outbox step in the writer thread's next batch; before that
    /// thread is started (tools, tests), alone on the writer's connection.
    pub(super) async fn outbox(
        &self,
        writes: &Arc<Mutex<SqliteWrites>>,
        op: OutboxOp,
    ) -> Result<OutboxAnswer, StoreError> {
        let started = self.unstarted.lock().expect("never poisoned").is_none();
        if !started {
            let writes = writes.clone();
            return tokio::task::spawn_blocking(move || {
                let mut writes = writes.lock().expect("never poisoned");
                let (_, mut answers) = writes.apply(&[], vec![op])?;
                Ok(answers.remove(0))
            })
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        }
        let (reply, answer) = oneshot::channel();
        let sender = self.weak.upgrade().ok_or(StoreError::WriterStopped)?;
        sender
            .send(Job::Outbox(op, reply))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        answer
            .await
            .map_err(|_| StoreError::WriterStopped)?
            .map_err(StoreError::Batch)
    }
}
