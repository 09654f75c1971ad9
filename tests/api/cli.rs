//! The commands as library functions (`splitcast::cli`), and the same
//! commands through the real binary: what each prints, its one error line
//! and its exit status.

use crate::helpers::{BASE, DEMO, Patch, spawn_app_from};
use splitcast::cli::{self, CliError, SampleSizeArgs};
use splitcast::configuration::{Settings, Sources};
use splitcast::store::Outbox;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ADMIN: &str = "cli-admin-token-for-tests";

/// `BASE` + `DEMO` with an admin token, written to a file of its own, and
/// its store in the same directory.
struct Config {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Config {
    fn new(text: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("splitcast.toml");
        let db = format!("sqlite://{}", dir.path().join("cli.db").display());
        let text = format!("{text}\n[storage]\nurl = \"{db}\"\n");
        std::fs::write(&path, text).unwrap();
        Self { dir, path }
    }

    fn demo() -> Self {
        Self::new(&with_admin(&format!("{BASE}\n{DEMO}")))
    }

    fn sources(&self) -> Sources {
        Sources {
            file: Some(self.path.clone()),
            local_file: false,
            env: Some(HashMap::new()),
        }
    }

    fn settings(&self) -> Settings {
        Settings::load(self.sources()).unwrap()
    }

    /// The real binary with this file: (status, stdout, stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        run_binary(self.dir.path(), &self.path, args)
    }
}

fn with_admin(config: &str) -> String {
    config.patched(
        "[session]",
        &format!("[admin]\ntoken = \"{ADMIN}\"\n[session]"),
    )
}

fn run_binary(dir: &Path, config: &Path, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_splitcast"))
        .args(args)
        .arg("--config")
        .arg(config)
        .current_dir(dir)
        .env_remove("SPLITCAST_CONFIG")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn reload_returns_what_the_server_did_and_a_refused_file_is_exit_1_with_its_key() {
    let text = with_admin(&format!("{BASE}\n{DEMO}"));
    let app = spawn_app_from(&text, None).await;
    let config = Config::new(&text);
    let settings = config.settings();
    let reloaded = cli::reload(&settings, Some(&app.address)).await.unwrap();
    assert_eq!(reloaded.to_string(), "reloaded\n");

    // The server's own file becomes invalid: the server refuses, by key.
    std::fs::write(&app.config_path, text.patched("weight = 50", "weight = -1")).unwrap();
    let error = cli::reload(&settings, Some(&app.address))
        .await
        .unwrap_err();
    assert!(
        matches!(error, CliError::ReloadRefused { status: 422, .. }),
        "{error:?}"
    );
    assert_eq!(error.exit_code(), 1);
    let line = error.to_string();
    assert!(line.starts_with("reload refused (422): "), "{line}");
    assert!(line.contains("experiments.homepage_cta.variants"), "{line}");

    // A wrong token is refused too, with the server's reason.
    let other = Config::new(&text.patched(ADMIN, "not-the-token-of-that-server"));
    let error = cli::reload(&other.settings(), Some(&app.address))
        .await
        .unwrap_err();
    assert!(
        matches!(error, CliError::ReloadRefused { status: 401, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_unreachable_server_is_one_line_saying_where_the_address_came_from() {
    let port = closed_port();
    let config = Config::new(
        &with_admin(&format!("{BASE}\n{DEMO}")).patched("port = 0", &format!("port = {port}")),
    );
    let error = cli::reload(&config.settings(), None).await.unwrap_err();
    assert_eq!(error.exit_code(), 1);
    let line = error.to_string();
    assert!(
        line.starts_with(&format!(
            "reload: cannot reach the server at http://127.0.0.1:{port}/admin/reload \
             (server.host and server.port of this configuration; --url names another): "
        )),
        "{line}"
    );
    assert!(line.contains("Connection refused"), "{line}");
    let error = cli::reload(
        &config.settings(),
        Some(&format!("http://127.0.0.1:{port}")),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("(--url)"), "{error}");

    // The binary prints it once: no log line repeating it.
    let (status, stdout, stderr) = config.run(&["reload"]);
    assert_eq!(status, 1, "{stdout}{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(lines(&stderr), [format!("splitcast: {line}")], "{stderr}");
}

#[tokio::test]
async fn reload_without_url_on_port_0_or_with_a_bad_url_is_exit_2() {
    let config = Config::demo();
    let error = cli::reload(&config.settings(), None).await.unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert!(error.to_string().contains("server.port is 0"), "{error}");
    let error = cli::reload(&config.settings(), Some("not a url"))
        .await
        .unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert!(error.to_string().contains("--url \"not a url\""), "{error}");
}

#[tokio::test]
async fn reload_with_an_invalid_file_is_exit_2_naming_the_key_and_the_server_is_not_asked() {
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let config =
        Config::new(&with_admin(&format!("{BASE}\n{DEMO}")).patched("weight = 50", "weight = -1"));
    let uri = server.uri();
    let (status, stdout, stderr) =
        tokio::task::spawn_blocking(move || config.run(&["reload", "--url", &uri]))
            .await
            .unwrap();
    assert_eq!(status, 2, "{stdout}{stderr}");
    let lines = lines(&stderr);
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("experiments.homepage_cta.variants"),
        "{stderr}"
    );
    server.verify().await;
}

#[tokio::test]
async fn outbox_lists_and_requeues_dead_letters_and_an_unknown_id_is_exit_1() {
    let config = Config::demo();
    let settings = config.settings();
    assert_eq!(
        cli::list_dead_letters(&settings).await.unwrap().to_string(),
        "0 dead letter(s)\n"
    );
    let store = splitcast::store::open(&settings.storage.url, splitcast::store::no_routing())
        .await
        .unwrap();
    let row = splitcast::notify::routing::outbox_row("hooks", &crate::outbox::conversion(1, "A"));
    store.enqueue(&row).await.unwrap();
    assert_eq!(
        store.expire("hooks", i64::MAX, "410 Gone").await.unwrap(),
        1
    );

    let listed = cli::list_dead_letters(&settings).await.unwrap();
    assert_eq!(listed.rows.len(), 1);
    let id = listed.rows[0].id;
    let text = listed.to_string();
    assert!(text.starts_with("1 dead letter(s)\n"), "{text}");
    assert!(
        text.contains(&format!("{id}\thooks\t")) && text.contains("410 Gone"),
        "{text}"
    );

    let error = cli::requeue(&settings, &(id + 1).to_string())
        .await
        .unwrap_err();
    assert!(
        matches!(error, CliError::NoSuchDeadLetter(n) if n == id + 1),
        "{error:?}"
    );
    assert_eq!(error.exit_code(), 1);
    let error = cli::requeue(&settings, "seven").await.unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert_eq!(
        cli::requeue(&settings, &id.to_string()).await.unwrap(),
        "1 row(s) re-queued\n"
    );
    // No longer a dead letter: the same id again names none.
    assert!(matches!(
        cli::requeue(&settings, &id.to_string()).await,
        Err(CliError::NoSuchDeadLetter(_))
    ));
    assert_eq!(
        cli::requeue(&settings, "all").await.unwrap(),
        "0 row(s) re-queued\n"
    );

    let (status, stdout, stderr) =
        tokio::task::spawn_blocking(move || config.run(&["outbox", "requeue", "999"]))
            .await
            .unwrap();
    assert_eq!(status, 1, "{stdout}{stderr}");
    assert_eq!(
        lines(&stderr),
        ["splitcast: outbox requeue: no dead letter has id 999 (see `splitcast outbox list`)"]
    );
}

#[tokio::test]
async fn notify_test_reports_each_notifier() {
    let config = Config::demo();
    let report = cli::notify_test(&config.settings()).await.unwrap();
    assert_eq!(report.to_string(), "console: delivered\n");
    let none = Config::new(
        &format!("{BASE}\n{DEMO}").patched("[notifiers.console]\nkind = \"log\"\n", ""),
    );
    let report = cli::notify_test(&none.settings()).await.unwrap();
    assert_eq!(report.to_string(), "no notifier is enabled\n");
}

#[test]
fn sample_size_and_check_config_return_their_output_or_an_exit_2_error() {
    let args = |baseline| SampleSizeArgs {
        baseline,
        lift: 0.03,
        relative: false,
        power: 0.8,
        alpha: 0.05,
    };
    let plan = cli::sample_size(&args(0.12)).unwrap();
    assert!(plan.ends_with("\n2031 per arm\n"), "{plan}");
    let error = cli::sample_size(&args(1.5)).unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert!(
        error.to_string().starts_with("sample-size: --baseline"),
        "{error}"
    );

    let config = Config::demo();
    let printed = cli::check_config(config.sources()).unwrap();
    assert!(
        printed.contains("homepage_cta") && !printed.contains(ADMIN),
        "{printed}"
    );
    let broken = Config::new(&format!("{BASE}\n{DEMO}").patched("weight = 50", "weight = 0"));
    let error = cli::check_config(broken.sources()).unwrap_err();
    assert_eq!(error.exit_code(), 2);
    assert!(
        error
            .to_string()
            .contains("experiments.homepage_cta.variants"),
        "{error}"
    );
}
