//! Building and running the application: exactly what production starts,
//! and what the tests start too.

use crate::clock::SystemClock;
use crate::configuration::NotifierEvent;
use crate::configuration::Settings;
use crate::history::Snapshotter;
use crate::metrics::Metrics;
use crate::notify::digest::DigestWorker;
use crate::notify::retry::Backoff;
use crate::notify::routing::NotifyRouting;
use crate::notify::worker::DeliveryWorker;
use crate::routes;
use crate::session;
use crate::significance::SignificanceWatcher;
use crate::state::AppState;
use crate::store::{self, Backend, EventWriter, SqlStore};
use crate::supervisor::Supervisor;
use actix_cors::Cors;
use actix_web::dev::Server;
use actix_web::dev::Service;
use actix_web::middleware::Condition;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// A bound, ready-to-run splitcast server and the background tasks it
/// owns: the event writer and the notification loops.
pub struct Application {
    port: u16,
    server: Server,
    store: Arc<SqlStore>,
    tasks: Supervisor,
}

impl Application {
    /// Opens the store (running migrations), starts the workers and binds the
    /// listener (`server.port = 0` picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        for warning in &settings.warnings {
            tracing::warn!("{warning}");
        }
        let routing = std::sync::Arc::new(NotifyRouting::from_settings(&settings));
        let storage = &settings.storage;
        let store = store::open_with_pool(&storage.url, storage.pool_size, routing)
            .await
            .context("cannot open the store")?;
        let mut tasks = Supervisor::new();
        let (writer, writer_loop) =
            EventWriter::for_store(store.clone()).context("cannot start the event writer")?;
        tasks.spawn("event writer", writer_loop);
        if store.backend() == Backend::Sqlite {
            let checkpoints = store.clone().checkpoint_loop(Duration::from_secs(1));
            tasks.spawn("WAL checkpointer", checkpoints);
        }
        let snapshotter = Snapshotter::new(
            store.clone(),
            settings.history.interval(),
            Arc::new(SystemClock),
        );
        tasks.spawn("results history snapshotter", snapshotter.run());
        let metrics = Metrics::new();
        start_notification_workers(&settings, &store, &metrics, &mut tasks).await?;
        let address = (settings.server.host.as_str(), settings.server.port);
        let listener = TcpListener::bind(address)
            .with_context(|| format!("cannot bind {}:{}", address.0, address.1))?;
        let port = listener.local_addr()?.port();
        let host = settings.server.host.clone();
        let workers = settings.server.worker_count();
        let state = web::Data::new(AppState {
            experiments: settings.experiments.clone(),
            writer,
            store: store.clone(),
            metrics,
            bots: isbot::Bots::default(),
            settings,
        });
        let server = HttpServer::new(move || {
            let settings = &state.settings;
            let metrics = state.metrics.clone();
            App::new()
                .wrap(session::middleware(&settings.session))
                .wrap(Condition::new(
                    !settings.server.cors_allowed_origins.is_empty(),
                    cors(&settings.server.cors_allowed_origins),
                ))
                .wrap(routes::json_errors::middleware())
                // Outermost: the request's span covers every middleware, and
                // the in-flight count every request a graceful stop waits for.
                .wrap_fn(move |req, service| {
                    let in_flight = metrics.start_request();
                    let span = crate::telemetry::request_span(req.method(), req.path());
                    let answer = span.in_scope(|| service.call(req));
                    async move {
                        let answer = answer.await;
                        drop(in_flight);
                        answer
                    }
                    .instrument(span)
                })
                .app_data(state.clone())
                .app_data(routes::query_config())
                .configure(routes::configure)
                .service(routes::static_files(&settings.server.static_dir))
                .default_service(web::to(routes::not_found))
        })
        .workers(workers)
        // Signals are the binary's business (see `stop_on_signals`), not the library's.
        .disable_signals()
        .listen(listener)?
        .run();
        tracing::debug!(%host, port, workers, "bound");
        Ok(Self {
            port,
            server,
            store,
            tasks,
        })
    }

    /// Stops gracefully on SIGTERM or SIGINT: the listener closes and
    /// in-flight requests finish (up to 30 s). The handlers are registered
    /// before this returns, so a signal sent afterwards is never missed.
    pub fn stop_on_signals(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let handle = self.server.handle();
        tokio::spawn(async move {
            tokio::select! {
                _ = terminate.recv() => tracing::info!("SIGTERM: draining in-flight requests"),
                _ = interrupt.recv() => tracing::info!("SIGINT: draining in-flight requests"),
            }
            handle.stop(true).await;
        });
        Ok(())
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The store, for tests and tools that inspect it.
    pub fn store(&self) -> Arc<SqlStore> {
        self.store.clone()
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests and stops
    /// the background tasks. Ends with an error, after stopping the server,
    /// when a background task dies: a server that silently stopped writing
    /// or notifying would be worse than one that is restarted.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let Self {
            server, mut tasks, ..
        } = self;
        let handle = server.handle();
        let mut server = std::pin::pin!(server);
        tokio::select! {
            served = &mut server => {
                tasks.stop().await;
                served
            }
            name = tasks.first_to_end() => {
                tracing::error!(task = name, "stopping the server: a vital background task ended");
                handle.stop(true).await;
                let _ = server.await;
                tasks.stop().await;
                Err(std::io::Error::other(format!("the {name} task ended unexpectedly")))
            }
        }
    }
}

/// One delivery worker per notifier and the digest loop. A restart resumes
/// notifiers paused for rejected credentials.
async fn start_notification_workers(
    settings: &Settings,
    store: &Arc<SqlStore>,
    metrics: &Metrics,
    tasks: &mut Supervisor,
) -> anyhow::Result<()> {
    store
        .resume(None)
        .await
        .context("cannot resume paused notifiers")?;
    if store.backend() == Backend::Sqlite {
        // Embedded: no other process can be sending, so a crashed run's claims
        // are void. (Claims on a shared PostgreSQL run out after their lease.)
        store
            .release_all_claims()
            .await
            .context("cannot release outbox claims")?;
    }
    let notify = &settings.notify;
    let backoff = Backoff {
        initial: Duration::from_millis(notify.retry_initial_ms),
        max: Duration::from_secs(notify.retry_max_secs),
    };
    let max_age = Duration::from_secs(notify.max_age_hours * 3600);
    let notifiers = crate::notify::registry::build(settings)?;
    for (notifier, config) in notifiers.into_iter().zip(&settings.notifiers) {
        let worker = DeliveryWorker::new(
            notifier,
            store.clone(),
            metrics.clone(),
            config.rate_per_minute,
            backoff,
            max_age,
        );
        tasks.spawn("delivery worker", worker.run());
    }
    let digest_notifiers = settings
        .notifiers
        .iter()
        .filter(|n| n.wants(NotifierEvent::Digest))
        .map(|n| n.name.clone())
        .collect();
    let interval = Duration::from_secs(notify.digest_interval_secs);
    tasks.spawn(
        "digest loop",
        DigestWorker::new(store.clone(), interval, digest_notifiers).run(),
    );
    let significance_notifiers = settings
        .notifiers
        .iter()
        .filter(|n| n.wants(NotifierEvent::Significance))
        .map(|n| n.name.clone())
        .collect();
    let watcher = SignificanceWatcher::new(
        store.clone(),
        settings.experiments.clone(),
        notify.min_sample_per_variant,
        significance_notifiers,
    );
    tasks.spawn(
        "significance watcher",
        watcher.run(Duration::from_secs(notify.significance_check_secs)),
    );
    Ok(())
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .supports_credentials()
        .allowed_methods(["GET", "POST"])
        .allowed_headers(["content-type", "x-user-id"])
        .expose_headers(["x-experiment", "x-variant"])
        .max_age(3600)
}
