//! Building and running the application: exactly what production starts,
//! and what the tests start too.

use crate::client_limit::ClientLimiter;
use crate::clock::SystemClock;
use crate::configuration::{Settings, Sources};
use crate::history::Snapshotter;
use crate::live::{Lifecycle, Live, OverridePoller, POLL_PERIOD, ReloadError, Reloader};
use crate::metrics::Metrics;
use crate::notify::routing::LiveRouting;
use crate::notify::tasks::{NotificationTasks, WIND_DOWN};
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
use tokio::sync::mpsc;
use tracing::Instrument;

/// A bound, ready-to-run splitcast server and the background tasks it
/// owns: the event writer and the notification loops.
pub struct Application {
    port: u16,
    server: Server,
    store: Arc<SqlStore>,
    reloader: Arc<Reloader>,
    tasks: Supervisor,
    /// Keeps the writer (on SQLite, its thread) running after the server's
    /// handles are gone, until the notification loops have settled what
    /// they hold: settling is a write.
    writer: EventWriter,
}

impl Application {
    /// Opens the store (running migrations), starts the workers and binds the
    /// listener (`server.port = 0` picks a free port). `sources` are where a
    /// reload reads the configuration again.
    pub async fn build(settings: Settings, sources: Sources) -> anyhow::Result<Self> {
        let warnings = settings.warnings.iter().map(String::as_str);
        for warning in warnings.chain(settings.session.start_warnings()) {
            tracing::warn!("{warning}");
        }
        let routing = Arc::new(LiveRouting::from_settings(&settings));
        let store = store::open_configured(&settings.storage, routing.clone())
            .await
            .context("cannot open the store")?;
        let mut tasks = Supervisor::new();
        let (writer, writer_loop) =
            EventWriter::for_store(store.clone()).context("cannot start the event writer")?;
        tasks.spawn("event writer", writer_loop);
        let keep_writer = writer.clone();
        if store.backend() == Backend::Sqlite {
            let checkpoints = store.clone().checkpoint_loop(Duration::from_secs(1));
            tasks.spawn("WAL checkpointer", checkpoints);
        }
        // Before anything is served: a file that changes the split of an
        // experiment with participants is refused here as at a reload.
        crate::live::check_at_start(&store, &settings.experiments)
            .await
            .map_err(|error| match error {
                ReloadError::Config(error) => anyhow::Error::new(error),
                ReloadError::Store(error) => {
                    anyhow::Error::new(error).context("cannot read the recorded splits")
                }
            })?;
        let live = Arc::new(Live::new(settings.clone()));
        let lifecycle = Lifecycle::new(store.clone(), live.clone());
        lifecycle
            .refresh()
            .await
            .context("cannot read the run-time experiment statuses")?;
        tasks.spawn(
            "run-time status poll",
            OverridePoller::new(lifecycle.clone(), POLL_PERIOD).run(),
        );
        let snapshotter = Snapshotter::new(
            store.clone(),
            settings.history.interval(),
            Arc::new(SystemClock),
        );
        tasks.spawn("results history snapshotter", snapshotter.run());
        let metrics = Metrics::new();
        let (reloads, reloaded) = mpsc::unbounded_channel();
        prepare_outbox(&store).await?;
        let notification_tasks =
            NotificationTasks::start(&settings, store.clone(), metrics.clone(), routing)?;
        tasks.spawn_winding_down("notifiers", |wind_down| {
            notification_tasks.run(reloaded, wind_down)
        });
        tasks.spawn(
            "significance watcher",
            SignificanceWatcher::new(store.clone(), live.clone()).run(),
        );
        let reloader = Arc::new(Reloader::new(live.clone(), store.clone(), sources, reloads));
        let address = (settings.server.host.as_str(), settings.server.port);
        let listener = TcpListener::bind(address)
            .with_context(|| format!("cannot bind {}:{}", address.0, address.1))?;
        let port = listener.local_addr()?.port();
        let host = settings.server.host.clone();
        let workers = settings.server.worker_count();
        let state = web::Data::new(AppState {
            live,
            lifecycle,
            reloader: reloader.clone(),
            writer,
            store: store.clone(),
            metrics,
            bots: isbot::Bots::default(),
            client_limit: ClientLimiter::new(Arc::new(SystemClock)),
        });
        let server = HttpServer::new(move || {
            // The session and CORS middleware are bound at start: their
            // sections take effect at a restart, not a reload.
            let metrics = state.metrics.clone();
            App::new()
                .wrap(session::middleware(&settings.session))
                .wrap(Condition::new(
                    !settings.server.cors_allowed_origins.is_empty(),
                    cors(&settings.server.cors_allowed_origins),
                ))
                .wrap(routes::json_errors::middleware())
                .wrap(routes::security_headers::middleware())
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
                .configure(|cfg| routes::static_files(cfg, &settings.server.static_dir))
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
            reloader,
            tasks,
            writer: keep_writer,
        })
    }

    /// Stops gracefully on SIGTERM or SIGINT: the listener closes and
    /// in-flight requests finish (up to 30 s). Reloads the configuration on
    /// SIGHUP. The handlers are registered before this returns, so a signal
    /// sent afterwards is never missed.
    pub fn stop_on_signals(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = signal(SignalKind::terminate())?;
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut hangup = signal(SignalKind::hangup())?;
        let handle = self.server.handle();
        let reloader = self.reloader.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = terminate.recv() => {
                        tracing::info!("SIGTERM: draining in-flight requests");
                        break;
                    }
                    _ = interrupt.recv() => {
                        tracing::info!("SIGINT: draining in-flight requests");
                        break;
                    }
                    _ = hangup.recv() => {
                        tracing::info!("SIGHUP: reloading the configuration");
                        // The outcome is logged by the reload itself.
                        let _ = reloader.reload().await;
                    }
                }
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
            server,
            mut tasks,
            writer,
            ..
        } = self;
        let handle = server.handle();
        let mut server = std::pin::pin!(server);
        tokio::select! {
            served = &mut server => {
                // A notification being sent is finished and settled, so a
                // restart does not send it again.
                tasks.shutdown(WIND_DOWN + Duration::from_secs(1)).await;
                drop(writer);
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

/// Readies the outbox for this process's workers: a restart resumes
/// notifiers paused for rejected credentials.
async fn prepare_outbox(store: &Arc<SqlStore>) -> anyhow::Result<()> {
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
    Ok(())
}

fn cors(origins: &[String]) -> Cors {
    origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .supports_credentials()
        .allowed_methods(["GET", "POST"])
        .allowed_headers(["content-type", "x-user-id", "x-user-id-signature"])
        .expose_headers([
            "x-experiment",
            "x-variant",
            "x-splitcast-counted",
            "x-splitcast-uncounted-reason",
        ])
        .max_age(3600)
}
