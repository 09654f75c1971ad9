//! The background tasks an [`crate::startup::Application`] owns: spawned
//! into one set, so that a task that dies (a panic, an unexpected return) is
//! noticed rather than silently missing, and stopped together at shutdown.

use futures_util::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How a supervised task ended: its name, whether it panicked, whether it
/// was one that winds down on request.
type Ended = (&'static str, bool, bool);

/// Owns every background task.
pub struct Supervisor {
    tasks: JoinSet<Ended>,
    stop: CancellationToken,
    /// Cancelled to ask the tasks of [`Supervisor::spawn_winding_down`] to
    /// finish what they hold and end.
    wind_down: CancellationToken,
    /// How many such tasks were spawned.
    winding: usize,
}

impl Supervisor {
    /// No tasks yet.
    pub fn new() -> Self {
        Self {
            tasks: JoinSet::new(),
            stop: CancellationToken::new(),
            wind_down: CancellationToken::new(),
            winding: 0,
        }
    }

    /// Runs `task` until it ends or [`Supervisor::stop`] is called; `name`
    /// says which one died.
    pub fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        self.supervise(name, task, false);
    }

    /// Like [`Supervisor::spawn`], for a task that can finish what it holds
    /// before stopping: `make` gets the token [`Supervisor::shutdown`]
    /// cancels first, and the task is to end soon after.
    pub fn spawn_winding_down<F>(
        &mut self,
        name: &'static str,
        make: impl FnOnce(CancellationToken) -> F,
    ) where
        F: Future<Output = ()> + Send + 'static,
    {
        self.winding += 1;
        let task = make(self.wind_down.clone());
        self.supervise(name, task, true);
    }

    fn supervise(
        &mut self,
        name: &'static str,
        task: impl Future<Output = ()> + Send + 'static,
        winding: bool,
    ) {
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            tokio::select! {
                () = stop.cancelled() => (name, false, winding),
                ended = AssertUnwindSafe(task).catch_unwind() => (name, ended.is_err(), winding),
            }
        });
    }

    /// Asks the winding-down tasks to finish, waits up to `grace` for them
    /// to end, then cancels everything left.
    pub async fn shutdown(&mut self, grace: std::time::Duration) {
        self.wind_down.cancel();
        let mut left = self.winding;
        let ended = async {
            while left > 0 {
                match self.tasks.join_next().await {
                    Some(Ok((_, _, true))) => left -= 1,
                    Some(_) => {}
                    None => break,
                }
            }
        };
        let _ = tokio::time::timeout(grace, ended).await;
        self.stop().await;
    }

    /// Waits until a task ends on its own, and names it. Never resolves when
    /// there are no tasks.
    pub async fn first_to_end(&mut self) -> &'static str {
        match self.tasks.join_next().await {
            Some(Ok((name, panicked, _))) => {
                tracing::error!(task = name, panicked, "a background task ended");
                name
            }
            // Only a cancelled or aborted task fails to join; neither happens before `stop`.
            Some(Err(_)) => "background",
            None => std::future::pending().await,
        }
    }

    /// Cancels every task and waits for them to finish.
    pub async fn stop(&mut self) {
        self.stop.cancel();
        while self.tasks.join_next().await.is_some() {}
    }
}

impl Default for Supervisor {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Counter, EventWriter, Store, StoreError, Write, Written};
    use std::sync::Arc;

    /// A store whose every write is a bug.
    struct Broken;

    #[async_trait::async_trait]
    impl Store for Broken {
        async fn apply(&self, _: &[Write]) -> Result<Vec<Written>, StoreError> {
            panic!("a bug in the write path")
        }
        async fn counters(&self) -> Result<Vec<Counter>, StoreError> {
            Ok(Vec::new())
        }
        async fn first_participant_at(&self, _: &str) -> Result<Option<i64>, StoreError> {
            Ok(None)
        }
        async fn history(&self, _: &str) -> Result<Vec<crate::store::HistoryPoint>, StoreError> {
            Ok(Vec::new())
        }
        async fn recorded_variant(&self, _: &str, _: &str) -> Result<Option<String>, StoreError> {
            Ok(None)
        }
    }

    #[tokio::test]
    async fn a_writer_that_dies_is_named_and_refuses_writes_instead_of_hanging() {
        let mut tasks = Supervisor::new();
        let (writer, writer_loop) = EventWriter::new(Arc::new(Broken));
        tasks.spawn("event writer", writer_loop);
        tasks.spawn("healthy loop", std::future::pending());
        let probe = writer.probe().await.unwrap_err();
        assert!(matches!(*probe, StoreError::WriterStopped), "{probe:?}");
        assert_eq!(tasks.first_to_end().await, "event writer");
        assert!(matches!(
            *writer.probe().await.unwrap_err(),
            StoreError::WriterStopped
        ));
        // The others are stopped, not left running.
        tasks.stop().await;
        assert!(tasks.tasks.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn a_shutdown_lets_winding_tasks_finish_then_cancels_the_rest() {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::time::Duration;
        let finished = Arc::new(AtomicBool::new(false));
        let mut tasks = Supervisor::new();
        let done = finished.clone();
        tasks.spawn_winding_down("sender", |wind_down| async move {
            wind_down.cancelled().await;
            // The message in hand takes a while yet.
            tokio::time::sleep(Duration::from_secs(3)).await;
            done.store(true, Ordering::SeqCst);
        });
        tasks.spawn_winding_down("deaf", |_| std::future::pending());
        tasks.spawn("plain loop", std::future::pending());
        let started = tokio::time::Instant::now();
        tasks.shutdown(Duration::from_secs(10)).await;
        assert!(finished.load(Ordering::SeqCst), "the sender was cut off");
        // The task that ignored the request was cancelled after the grace.
        assert_eq!(started.elapsed(), Duration::from_secs(10));
        assert!(tasks.tasks.is_empty());
    }
}
