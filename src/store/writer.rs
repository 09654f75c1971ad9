//! Group commit: request handlers hand their writes to one writer task, which
//! records everything waiting in one transaction and answers each handler
//! after the commit. Under load, many requests share one fsync; alone, a
//! request waits for no one. A request's write is never split across
//! transactions, so a delivery is applied whole or not at all.

use super::jobs::{Job, OutboxReply, QUEUE_DEPTH, Reply};
use super::outbox::{OutboxAnswer, OutboxOp};
use super::sql::SqlStore;
use super::sqlite_writes::SqliteWrites;
use super::{Applied, Event, Store, StoreError, Write, Written};
use futures_util::future::BoxFuture;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The most events committed together (a larger single write still goes alone).
const MAX_BATCH: usize = 512;
/// After a failed batch, further batches are refused without trying for this
/// long: a store that is down then costs callers milliseconds, not a pool
/// timeout each, and the next real attempt notices its return.
const RETRY_AFTER_FAILURE: Duration = Duration::from_millis(500);

/// A handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct EventWriter {
    sender: mpsc::Sender<Job>,
}

impl EventWriter {
    /// The writer of any [`Store`]; returns its handle and the loop, which
    /// ends when every handle is dropped, after finishing the batch in hand.
    /// The caller owns (spawns and supervises) the loop.
    pub fn new(store: Arc<dyn Store>) -> (Self, BoxFuture<'static, ()>) {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        (Self { sender }, Box::pin(run(store, receiver)))
    }

    /// The writer of the SQL store: on SQLite a thread that owns the write
    /// connection, started here; the future ends when that thread does.
    pub fn for_store(store: Arc<SqlStore>) -> std::io::Result<(Self, BoxFuture<'static, ()>)> {
        let Some((writes, queue)) = store.sqlite_writes() else {
            return Ok(Self::new(store));
        };
        let Some((sender, receiver)) = queue.take() else {
            return Err(std::io::Error::other(
                "the SQLite writer is already running",
            ));
        };
        let (ended, end) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("splitcast-writer".into())
            .spawn(move || {
                // Dropped when the thread ends, a panic included.
                let _ended = ended;
                run_on_thread(writes, receiver);
            })?;
        let end = async move {
            let _ = end.await;
        };
        Ok((Self { sender }, Box::pin(end)))
    }

    /// Records one event durably; returns once it is committed.
    pub async fn record(&self, event: Event) -> Result<Applied, Arc<StoreError>> {
        match self.write(Write::events(vec![event])).await? {
            Written::Applied(mut outcomes) if outcomes.len() == 1 => Ok(outcomes.remove(0)),
            other => unreachable!("one event without a delivery id gives one outcome: {other:?}"),
        }
    }

    /// Records a write in one transaction; returns once it is committed.
    pub async fn write(&self, write: Write) -> Result<Written, Arc<StoreError>> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(Job::Write(write, reply))
            .await
            .map_err(|_| Arc::new(StoreError::WriterStopped))?;
        answer
            .await
            .map_err(|_| Arc::new(StoreError::WriterStopped))?
    }

    /// Commits a write that touches the database file without an event, through
    /// the same queue as the events: what `/readyz` asks, since a store that
    /// answers `SELECT 1` may still refuse every commit (a full disk).
    pub async fn probe(&self) -> Result<(), Arc<StoreError>> {
        let probe = Write {
            probe: true,
            ..Write::default()
        };
        self.write(probe).await.map(|_| ())
    }
}

/// One batch being collected and answered; shared by both loops.
#[derive(Default)]
struct Batch {
    writes: Vec<Write>,
    replies: Vec<Reply>,
    outbox: Vec<OutboxOp>,
    outbox_replies: Vec<OutboxReply>,
    /// Events and outbox steps: what bounds the batch.
    size: usize,
    last_failure: Option<Instant>,
}

impl Batch {
    fn push(&mut self, job: Job) {
        match job {
            Job::Write(write, reply) => {
                self.size += write.events.len();
                self.writes.push(write);
                self.replies.push(reply);
            }
            Job::Outbox(op, reply) => {
                self.size += 1;
                self.outbox.push(op);
                self.outbox_replies.push(reply);
            }
        }
    }

    /// Takes whatever else is waiting, up to [`MAX_BATCH`] events.
    fn fill(&mut self, receiver: &mut mpsc::Receiver<Job>) {
        while self.size < MAX_BATCH {
            match receiver.try_recv() {
                Ok(job) => self.push(job),
                Err(_) => break,
            }
        }
    }

    /// Whether to refuse this batch without trying: the store failed moments ago.
    fn failing_fast(&self) -> bool {
        self.last_failure
            .is_some_and(|at| at.elapsed() < RETRY_AFTER_FAILURE)
    }

    /// Answers every job of the batch and starts the next.
    fn finish(&mut self, result: Result<(Vec<Written>, Vec<OutboxAnswer>), StoreError>) {
        match result {
            Ok((outcomes, answers)) => {
                self.last_failure = None;
                for (reply, outcome) in self.replies.drain(..).zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
                for (reply, answer) in self.outbox_replies.drain(..).zip(answers) {
                    let _ = reply.send(Ok(answer));
                }
            }
            Err(error) => {
                if !matches!(error, StoreError::Failing) {
                    self.last_failure = Some(Instant::now());
                    tracing::error!(error = ?error, events = self.size, "could not record events");
                }
                let error = Arc::new(error);
                for reply in self.replies.drain(..) {
                    let _ = reply.send(Err(error.clone()));
                }
                for reply in self.outbox_replies.drain(..) {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
        self.writes.clear();
        self.outbox.clear();
        self.size = 0;
    }
}

async fn run(store: Arc<dyn Store>, mut receiver: mpsc::Receiver<Job>) {
    let mut batch = Batch::default();
    while let Some(job) = receiver.recv().await {
        batch.push(job);
        batch.fill(&mut receiver);
        let result = if batch.failing_fast() {
            Err(StoreError::Failing)
        } else if !batch.outbox.is_empty() {
            // Only the SQLite store sends outbox steps, and it has its own loop.
            Err(StoreError::WriterStopped)
        } else {
            store
                .apply(&batch.writes)
                .await
                .map(|outcomes| (outcomes, Vec::new()))
        };
        batch.finish(result);
    }
}

/// The SQLite loop, on a thread of its own: a batch is applied where it is
/// collected, with no hand-off to a database driver in between.
fn run_on_thread(writes: Arc<Mutex<SqliteWrites>>, mut receiver: mpsc::Receiver<Job>) {
    let mut batch = Batch::default();
    while let Some(job) = receiver.blocking_recv() {
        batch.push(job);
        batch.fill(&mut receiver);
        let result = if batch.failing_fast() {
            Err(StoreError::Failing)
        } else {
            let outbox = std::mem::take(&mut batch.outbox);
            writes
                .lock()
                .expect("poisoned only by a panic, which ends this thread")
                .apply(&batch.writes, outbox)
        };
        batch.finish(result);
    }
}
