//! Group commit: request handlers hand their writes to one writer task, which
//! records everything waiting in one transaction and answers each handler
//! after the commit. Under load, many requests share one fsync; alone, a
//! request waits for no one. A request's write is never split across
//! transactions, so a delivery is applied whole or not at all.

use super::{Applied, Event, Store, StoreError, Write, Written};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// The most events committed together (a larger single write still goes alone).
const MAX_BATCH: usize = 512;
/// Writes waiting for the writer before handlers wait for room.
const QUEUE_DEPTH: usize = 8192;
/// After a failed batch, further batches are refused without trying for this
/// long: a store that is down then costs callers milliseconds, not a pool
/// timeout each, and the next real attempt notices its return.
const RETRY_AFTER_FAILURE: Duration = Duration::from_millis(500);

type Reply = oneshot::Sender<Result<Written, Arc<StoreError>>>;

/// A handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct EventWriter {
    sender: mpsc::Sender<(Write, Reply)>,
}

impl EventWriter {
    /// Starts the writer loop; returns its handle and the loop, which ends
    /// when every handle is dropped, after finishing the batch in hand. The
    /// caller owns (spawns and supervises) the loop.
    pub fn new(
        store: Arc<dyn Store>,
    ) -> (Self, impl std::future::Future<Output = ()> + Send + 'static) {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        (Self { sender }, run(store, receiver))
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
            .send((write, reply))
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

async fn run(store: Arc<dyn Store>, mut receiver: mpsc::Receiver<(Write, Reply)>) {
    let mut writes = Vec::with_capacity(64);
    let mut replies = Vec::with_capacity(64);
    let mut last_failure: Option<Instant> = None;
    while let Some((write, reply)) = receiver.recv().await {
        let mut events = write.events.len();
        writes.push(write);
        replies.push(reply);
        while events < MAX_BATCH {
            match receiver.try_recv() {
                Ok((write, reply)) => {
                    events += write.events.len();
                    writes.push(write);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        let result = match last_failure {
            Some(at) if at.elapsed() < RETRY_AFTER_FAILURE => Err(StoreError::Failing),
            _ => store.apply(&writes).await,
        };
        match result {
            Ok(outcomes) => {
                last_failure = None;
                for (reply, outcome) in replies.drain(..).zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                if !matches!(error, StoreError::Failing) {
                    last_failure = Some(Instant::now());
                    tracing::error!(error = ?error, events, "could not record events");
                }
                let error = Arc::new(error);
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
        writes.clear();
    }
}
