//! Group commit: request handlers hand their events to one writer task, which
//! records everything waiting in one transaction and answers each handler
//! after the commit. Under load, many events share one fsync; alone, an
//! event waits for no one.

use super::{Applied, Event, Store, StoreError};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most events committed together.
const MAX_BATCH: usize = 512;
/// Events waiting for the writer before handlers wait for room.
const QUEUE_DEPTH: usize = 8192;

type Reply = oneshot::Sender<Result<Applied, Arc<StoreError>>>;

/// A handle to the writer task; cheap to clone.
#[derive(Clone)]
pub struct EventWriter {
    sender: mpsc::Sender<(Event, Reply)>,
}

impl EventWriter {
    /// Starts the writer task on the current runtime. It stops when every
    /// handle is dropped, after finishing the batch in hand.
    pub fn start(store: Arc<dyn Store>) -> Self {
        let (sender, receiver) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(run(store, receiver));
        Self { sender }
    }

    /// Records `event` durably; returns once it is committed.
    pub async fn record(&self, event: Event) -> Result<Applied, Arc<StoreError>> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send((event, reply))
            .await
            .map_err(|_| Arc::new(StoreError::WriterStopped))?;
        answer
            .await
            .map_err(|_| Arc::new(StoreError::WriterStopped))?
    }

    /// Records several events in order, in as few commits as possible.
    pub async fn record_all(&self, events: Vec<Event>) -> Result<Vec<Applied>, Arc<StoreError>> {
        let mut answers = Vec::with_capacity(events.len());
        for event in events {
            let (reply, answer) = oneshot::channel();
            self.sender
                .send((event, reply))
                .await
                .map_err(|_| Arc::new(StoreError::WriterStopped))?;
            answers.push(answer);
        }
        let mut outcomes = Vec::with_capacity(answers.len());
        for answer in answers {
            outcomes.push(
                answer
                    .await
                    .map_err(|_| Arc::new(StoreError::WriterStopped))??,
            );
        }
        Ok(outcomes)
    }
}

async fn run(store: Arc<dyn Store>, mut receiver: mpsc::Receiver<(Event, Reply)>) {
    let mut events = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    while let Some((event, reply)) = receiver.recv().await {
        events.push(event);
        replies.push(reply);
        while events.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok((event, reply)) => {
                    events.push(event);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        match store.apply(&events).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.drain(..).zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(error) => {
                tracing::error!(error = ?error, batch = events.len(), "could not record events");
                let error = Arc::new(error);
                for reply in replies.drain(..) {
                    let _ = reply.send(Err(error.clone()));
                }
            }
        }
        events.clear();
    }
}
