//! A TCP relay to PostgreSQL that a test can cut, freeze mid-statement or
//! fail over: the database "going away" the ways a network makes it go.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// Relays a port to PostgreSQL while `up`; when down, it drops every open
/// connection and closes each new one at once. Armed with
/// [`Relay::freeze_at`], the first message a client sends that holds a
/// given text (`COMMIT`, a query) freezes
/// the relay as a partitioned network would: that `COMMIT` and everything
/// after it, on every connection and in both directions, never arrive;
/// every connection stays open and silent, new ones are accepted and never
/// answered, until [`Relay::thaw`] drops them all.
pub struct Relay {
    pub port: u16,
    up: Arc<AtomicBool>,
    cut: Arc<Notify>,
    freeze_on: Arc<std::sync::Mutex<Option<&'static str>>>,
    frozen: Arc<AtomicBool>,
    freeze: Arc<Notify>,
    release: Arc<Notify>,
}

impl Relay {
    pub async fn start(target: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let relay = Self {
            port,
            up: Arc::new(AtomicBool::new(true)),
            cut: Arc::new(Notify::new()),
            freeze_on: Arc::default(),
            frozen: Arc::new(AtomicBool::new(false)),
            freeze: Arc::new(Notify::new()),
            release: Arc::new(Notify::new()),
        };
        let shared = relay.handles();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                if !shared.up.load(Ordering::SeqCst) {
                    continue; // dropped: the connection closes
                }
                let shared = shared.handles();
                tokio::spawn(async move {
                    if shared.frozen.load(Ordering::SeqCst) {
                        let _held = client; // accepted, never answered
                        shared.release.notified().await;
                        return;
                    }
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    shared.forward(client, server).await;
                });
            }
        });
        relay
    }

    fn handles(&self) -> Self {
        Self {
            port: self.port,
            up: self.up.clone(),
            cut: self.cut.clone(),
            freeze_on: self.freeze_on.clone(),
            frozen: self.frozen.clone(),
            freeze: self.freeze.clone(),
            release: self.release.clone(),
        }
    }

    async fn forward(&self, client: TcpStream, server: TcpStream) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut from_client, mut to_client) = client.into_split();
        let (mut from_server, mut to_server) = server.into_split();
        let upstream = async {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match from_client.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let trigger = *self.freeze_on.lock().unwrap();
                if trigger
                    .is_some_and(|text| buf[..n].windows(text.len()).any(|w| w == text.as_bytes()))
                {
                    self.frozen.store(true, Ordering::SeqCst);
                    self.freeze.notify_waiters();
                }
                if self.frozen.load(Ordering::SeqCst) {
                    // Partitioned: nothing more gets through, either way.
                    std::future::pending::<()>().await;
                }
                if to_server.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        };
        let downstream = async {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match from_server.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                if self.frozen.load(Ordering::SeqCst) {
                    std::future::pending::<()>().await;
                }
                if to_client.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        };
        tokio::select! {
            () = upstream => {}
            () = downstream => {}
            () = self.cut.notified() => {}
            () = async {
                self.freeze.notified().await;
                self.release.notified().await;
            } => {}
        }
    }

    pub fn stop(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    pub fn start_again(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    pub fn freeze_at(&self, text: &'static str) {
        *self.freeze_on.lock().unwrap() = Some(text);
    }

    /// Whether the relay froze (its trigger text went by).
    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }

    /// The database is back at a new address (a fail-over): new connections
    /// go through, while those frozen stay open and silent for good, as a
    /// dead host's do until the operating system gives them up.
    pub fn fail_over(&self) {
        *self.freeze_on.lock().unwrap() = None;
        self.frozen.store(false, Ordering::SeqCst);
    }

    /// The partition heals: every frozen connection is dropped.
    pub fn thaw(&self) {
        *self.freeze_on.lock().unwrap() = None;
        self.frozen.store(false, Ordering::SeqCst);
        self.release.notify_waiters();
    }
}
