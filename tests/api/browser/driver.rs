//! A `chromedriver` of the test's own on a free port, headless Chromium
//! sessions with fresh profiles, and polling helpers.

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::future::Future;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// splitcast never counts a "HeadlessChrome" user agent (a bot), so the
/// browser presents itself as the desktop Chrome a visitor would use.
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 \
    (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

/// How long any page condition may take: generous, the machine is shared.
const PATIENCE: Duration = Duration::from_secs(20);

/// Browser tests run one at a time: two Chromiums on two shared cores make
/// every timeout flaky, and the suite's other tests still run beside them.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A running `chromedriver`, killed with every browser it started on drop.
pub struct Driver {
    child: Child,
    url: String,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

/// One browser profile: a WebDriver session with its own user-data-dir.
pub struct Browser {
    /// The WebDriver client.
    pub client: Client,
    _profile: tempfile::TempDir,
}

/// Starts `chromedriver`, or says why it cannot: `None` after printing
/// `SKIPPED: <why>`, except under CI, where a missing browser fails the test.
/// Usually the test is ignored before it gets here (`build.rs`); this covers
/// `--include-ignored` and a browser removed since the build.
pub async fn start() -> Option<Driver> {
    let missing = if !Path::new(CHROMIUM).exists() {
        Some(format!("{CHROMIUM} is not installed"))
    } else if find_on_path("chromedriver").is_none() {
        Some("chromedriver is not on PATH".to_owned())
    } else {
        None
    };
    if let Some(why) = missing {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser tests: {why}"
        );
        eprintln!("SKIPPED: {why}");
        return None;
    }
    let turn = ONE_AT_A_TIME.lock().await;
    let port = free_port();
    let child = Command::new(find_on_path("chromedriver").unwrap())
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        // Its own process group, so that drop can end the browsers with it.
        .process_group(0)
        .spawn()
        .expect("chromedriver starts");
    let mut driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _turn: turn,
    };
    driver.wait_until_ready().await;
    Some(driver)
}

impl Driver {
    async fn wait_until_ready(&mut self) {
        let status = format!("{}/status", self.url);
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if let Some(exit) = self.child.try_wait().unwrap() {
                panic!("chromedriver exited before answering: {exit}");
            }
            if let Ok(response) = http.get(&status).send().await {
                let body: serde_json::Value = response.json().await.unwrap_or_default();
                if body["value"]["ready"] == true {
                    return;
                }
            }
            assert!(started.elapsed() < PATIENCE, "chromedriver never got ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new browser profile: a fresh session and user-data-dir, so no cookie
    /// or storage is shared with any other.
    pub async fn browser(&self) -> Browser {
        self.browser_as(Some(USER_AGENT)).await
    }

    /// A new browser profile with `user_agent`, or headless Chromium's own
    /// (`HeadlessChrome/…`, a bot to splitcast) when `None`.
    pub async fn browser_as(&self, user_agent: Option<&str>) -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let mut args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--no-first-run".to_owned(),
            "--window-size=1280,900".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if let Some(agent) = user_agent {
            args.push(format!("--user-agent={agent}"));
        }
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        // chromedriver speaks plain HTTP on loopback: no TLS stack needed.
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .expect("chromedriver opens a Chromium session");
        Browser {
            client,
            _profile: profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The whole group: a test that panicked never closed its browsers,
        // and chromedriver's death alone does not end them.
        let group = libc::pid_t::try_from(self.child.id()).expect("a pid fits pid_t");
        // SAFETY: kill(2) has no memory-safety preconditions; the group is
        // the one chromedriver was started in, so only its processes get it.
        unsafe { libc::kill(-group, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

impl Browser {
    /// Opens `url` and waits for its `#selector` element.
    pub async fn open(&self, url: &str, selector: &str) {
        self.client.goto(url).await.expect("the page loads");
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("{selector} never appeared on {url}: {e}"));
    }

    /// The text of the first `selector` once `accept` takes it.
    pub async fn text_when(&self, selector: &str, accept: impl Fn(&str) -> bool) -> String {
        let found = eventually(|| async {
            let text = self.client.find(Locator::Css(selector)).await.ok()?;
            let text = text.text().await.ok()?;
            accept(&text).then_some(text)
        })
        .await;
        match found {
            Some(text) => text,
            None => {
                let last = match self.client.find(Locator::Css(selector)).await {
                    Ok(element) => element.text().await.ok(),
                    Err(_) => None,
                };
                panic!("{selector} never showed the expected text; it shows {last:?}")
            }
        }
    }

    /// The text of the first `selector`, once there is some.
    pub async fn text(&self, selector: &str) -> String {
        self.text_when(selector, |t| !t.is_empty()).await
    }

    /// The `name` attribute of the first `selector`, once it is set and not empty.
    pub async fn attr(&self, selector: &str, name: &str) -> String {
        eventually(|| async {
            let element = self.client.find(Locator::Css(selector)).await.ok()?;
            element.attr(name).await.ok()?.filter(|v| !v.is_empty())
        })
        .await
        .unwrap_or_else(|| panic!("{selector} never got a {name} attribute"))
    }

    /// A computed CSS property of the first `selector`.
    pub async fn css(&self, selector: &str, property: &str) -> String {
        let element = self.client.find(Locator::Css(selector)).await.unwrap();
        element.css_value(property).await.unwrap()
    }

    /// The text of every element matching `selector`, in document order.
    pub async fn texts(&self, selector: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(selector)).await.unwrap() {
            texts.push(element.text().await.unwrap());
        }
        texts
    }

    /// How many elements match `selector`.
    pub async fn count(&self, selector: &str) -> usize {
        self.client
            .find_all(Locator::Css(selector))
            .await
            .unwrap()
            .len()
    }

    /// Waits until the first `selector` is displayed.
    pub async fn until_displayed(&self, selector: &str) {
        eventually(|| async { self.displayed(selector).await.then_some(()) })
            .await
            .unwrap_or_else(|| panic!("{selector} was never displayed"));
    }

    /// Whether the first `selector` is displayed.
    pub async fn displayed(&self, selector: &str) -> bool {
        let element = self.client.find(Locator::Css(selector)).await.unwrap();
        element.is_displayed().await.unwrap()
    }

    /// Clicks the first `selector`.
    pub async fn click(&self, selector: &str) {
        let element = self.client.find(Locator::Css(selector)).await.unwrap();
        element.click().await.unwrap();
    }

    /// Types `text` into the first `selector`, replacing what it held.
    pub async fn type_into(&self, selector: &str, text: &str) {
        let element = self.client.find(Locator::Css(selector)).await.unwrap();
        element.clear().await.unwrap();
        element.send_keys(text).await.unwrap();
    }

    /// Saves a PNG of the window as `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// Ends the session, and with it this Chromium.
    pub async fn close(self) {
        self.client.close().await.expect("the session closes");
    }
}

/// Polls `check` until it answers `Some` or [`PATIENCE`] runs out (`None`).
pub async fn eventually<T, F, Fut>(mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if started.elapsed() > PATIENCE {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A port nobody listens on right now (the OS picks it; chromedriver binds it next).
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
