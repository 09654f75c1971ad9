//! `spawn_app()`: a real splitcast on its own port with its own SQLite file,
//! and a cookie-keeping client — exactly what production starts.

use splitcast::configuration::{Settings, Sources};
use splitcast::startup::Application;
use splitcast::store::{SqlStore, Store};
use std::collections::HashMap;
use std::sync::Arc;

/// The demo configuration without its experiments, so tests can add their own.
pub const BASE: &str = r#"
environment = "development"
[server]
host = "127.0.0.1"
port = 0
workers = 1
max_body_bytes = 4096
[session]
secret_key = "c3BsaXRjYXN0LXRlc3Qta2V5LXRoYXQtaXMtYXQtbGVhc3Qtc2l4dHktZm91ci1ieXRlcy1sb25nLTAxMjM0NTY3ODk="
[notifiers.console]
kind = "log"
"#;

/// The demo experiment of config/default.toml.
pub const DEMO: &str = r#"
[experiments.homepage_cta]
default = true
goals = ["conversion", "signup"]
[[experiments.homepage_cta.variants]]
name = "A"
weight = 50
content = { button_color = "blue", headline = "Welcome to our amazing service!" }
[[experiments.homepage_cta.variants]]
name = "B"
weight = 50
content = { button_color = "green", headline = "Discover the power of our platform!" }
"#;

/// A running application and a client that keeps cookies.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// A client with a cookie jar (one browser).
    pub client: reqwest::Client,
    /// The store, to check what was recorded.
    pub store: Arc<SqlStore>,
    /// The configuration file a reload reads.
    pub config_path: std::path::PathBuf,
    /// Keeps the SQLite file alive.
    pub _dir: Option<tempfile::TempDir>,
}

/// A client that keeps cookies, like a browser.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Starts the demo configuration.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(DEMO).await
}

/// Starts `BASE` plus `extra` TOML (experiments, overrides of other sections
/// go through `spawn_app_from`).
pub async fn spawn_app_with(extra: &str) -> TestApp {
    spawn_app_from(&format!("{BASE}\n{extra}"), None).await
}

/// Starts a full configuration text; the storage URL is a fresh SQLite file
/// unless `storage_url` is given.
pub async fn spawn_app_from(toml: &str, storage_url: Option<String>) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let url = storage_url
        .unwrap_or_else(|| format!("sqlite://{}", dir.path().join("splitcast.db").display()));
    // The file a reload reads: the same text, with what the tests set.
    let config_path = dir.path().join("splitcast.toml");
    std::fs::write(&config_path, toml).unwrap();
    // The pages are the built-in ones, unless the test serves a site of its own.
    let env = HashMap::from([
        ("SPLITCAST__STORAGE__URL".to_owned(), url),
        ("SPLITCAST__SERVER__PORT".to_owned(), "0".to_owned()),
    ]);
    let sources = Sources {
        file: Some(config_path.clone()),
        local_file: false,
        env: Some(env),
    };
    let settings = Settings::load(sources.clone()).expect("test configuration is valid");
    let app = Application::build(settings, sources)
        .await
        .expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.store();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: browser(),
        store,
        config_path,
        _dir: Some(dir),
    }
}

impl TestApp {
    /// `path` on this app.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// GET with this app's browser.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// GET `path` with `Authorization: Bearer <token>`, answered as JSON.
    pub async fn get_json_with(&self, path: &str, token: &str) -> serde_json::Value {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        response.json().await.expect("a JSON answer")
    }

    /// POST without a body with this app's browser.
    pub async fn post(&self, path: &str) -> reqwest::Response {
        self.client.post(self.url(path)).send().await.unwrap()
    }

    /// Counters as `"experiment/variant/metric[/goal]" -> value`.
    pub async fn counters(&self) -> HashMap<String, i64> {
        self.store
            .counters()
            .await
            .unwrap()
            .into_iter()
            .map(|c| {
                let mut key = format!("{}/{}/{}", c.experiment, c.variant, c.metric);
                if !c.goal.is_empty() {
                    key.push('/');
                    key.push_str(&c.goal);
                }
                (key, c.value)
            })
            .collect()
    }

    /// One counter, 0 when absent.
    pub async fn counter(&self, key: &str) -> i64 {
        self.counters().await.get(key).copied().unwrap_or(0)
    }

    /// Sum of a metric over every variant of an experiment.
    pub async fn total(&self, experiment: &str, metric: &str) -> i64 {
        let prefix = format!("{experiment}/");
        let suffix = format!("/{metric}");
        self.counters()
            .await
            .iter()
            .filter(|(k, _)| {
                k.starts_with(&prefix)
                    && (k.ends_with(&suffix) || k.contains(&format!("{suffix}/")))
            })
            .map(|(_, v)| v)
            .sum()
    }
}

/// The JSON error code of a response, asserting the status.
pub async fn error_code(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status);
    let body: serde_json::Value = response.json().await.expect("a JSON error body");
    body["error"]["code"]
        .as_str()
        .expect("an error code")
        .to_owned()
}

/// Polls `condition` every 20 ms until it holds, failing after `timeout`:
/// for events that happen in a background task, such as a delivery.
pub async fn wait_until<F, Fut>(timeout: std::time::Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + timeout;
    while !condition().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Asserts that `condition` holds at every check for all of `quiet`: what a
/// test uses to show that nothing *more* happens (a late duplicate), which
/// no event announces. `quiet` must outlast the period of whatever would
/// cause it (say so at the call site); it may pass on a slow machine only by
/// missing a duplicate that comes later still, never fail spuriously.
pub async fn stays_true<F, Fut>(quiet: std::time::Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let until = std::time::Instant::now() + quiet;
    while std::time::Instant::now() < until {
        assert!(condition().await, "{what} stopped holding within {quiet:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(condition().await, "{what} stopped holding within {quiet:?}");
}

/// How many events the messages a mock notifier received carry: one per
/// single event message, the exact count for a summary line.
pub fn events_in_blip_messages(bodies: &[serde_json::Value]) -> u64 {
    bodies
        .iter()
        .map(|body| {
            let message = body["message"].as_str().unwrap_or_default();
            if message.starts_with("A/B Test Event:") {
                return 1;
            }
            message
                .lines()
                .filter_map(|line| line.split(": ").nth(1))
                .filter_map(|rest| rest.split(' ').next()?.parse::<u64>().ok())
                .sum()
        })
        .sum()
}

/// Records `participants` new units in `variant` of `experiment` straight
/// through the store, the first `conversions` of them converted on the goal
/// `conversion`: large samples in one transaction, for results and verdicts.
pub async fn seed(
    store: &dyn Store,
    experiment: &str,
    variant: &str,
    participants: usize,
    conversions: usize,
) {
    seed_at(store, experiment, variant, participants, conversions, 0).await;
}

/// [`seed`] with every event at `at` (unix seconds), for what depends on
/// when participants arrived.
pub async fn seed_at(
    store: &dyn Store,
    experiment: &str,
    variant: &str,
    participants: usize,
    conversions: usize,
    at: i64,
) {
    use splitcast::names::{ExperimentName, Goal, VariantName};
    use splitcast::store::{Action, Event, Source, Write};
    let events: Vec<Event> = (0..participants)
        .map(|i| Event {
            experiment: ExperimentName::parse(experiment).unwrap(),
            variant: VariantName::parse(variant).unwrap(),
            unit_id: uuid::Uuid::new_v4().to_string(),
            action: if i < conversions {
                Action::Convert(Goal::parse("conversion").unwrap())
            } else {
                Action::Enroll
            },
            source: Source::Webhook,
            event_id: None,
            at,
        })
        .collect();
    store.apply(&[Write::events(events)]).await.unwrap();
}

/// POSTs to `url` with no body (as the page's JS does) and returns the status.
pub async fn post_status(client: &reqwest::Client, url: String) -> u16 {
    client.post(url).send().await.unwrap().status().as_u16()
}

/// The variant `GET /get_content` at `url` serves this client.
pub async fn served_variant(client: &reqwest::Client, url: String) -> String {
    let response = client.get(url).send().await.unwrap();
    response.headers()["x-variant"].to_str().unwrap().to_owned()
}

/// The JSON bodies a mock service has received, in order.
pub async fn received_bodies(server: &wiremock::MockServer) -> Vec<serde_json::Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.body_json().unwrap())
        .collect()
}

/// `str::replace` for configuration texts that fails when the text to
/// replace is absent, so that a test never runs on a configuration it did not
/// mean (a reworded default would otherwise pass silently).
pub trait Patch {
    /// `self` with every `from` replaced by `to`; panics when there is none.
    fn patched(&self, from: &str, to: &str) -> String;
}

impl Patch for str {
    fn patched(&self, from: &str, to: &str) -> String {
        assert!(
            self.contains(from),
            "the configuration has no {from:?} to replace"
        );
        self.replace(from, to)
    }
}

/// Sum of `metric` over every experiment and variant in `store`'s counters.
pub async fn store_total(store: &impl Store, metric: &str) -> i64 {
    store
        .counters()
        .await
        .unwrap()
        .iter()
        .filter(|c| c.metric == metric)
        .map(|c| c.value)
        .sum()
}
