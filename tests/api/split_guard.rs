//! A restart cannot apply a split that a reload refuses: the store
//! remembers each experiment's split, a start whose file changes the split
//! of an experiment with participants fails (exit 2, one line naming the
//! key), and `splitcast experiments reset NAME` is the way to start over.
//! On SQLite and on PostgreSQL.

use crate::durability::start_server_with;
use crate::helpers::{BASE, Patch, TestApp, browser, served_variant, spawn_app_from};
use crate::postgres::fresh_database;
use splitcast::configuration::{ConfigError, Settings, Sources};
use splitcast::startup::Application;
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "admin-token-for-the-split-guard-tests";

/// The demo experiment, hashed, with weights `a`/`b`.
fn config(a: u32, b: u32) -> String {
    format!(
        "{BASE}\n[admin]\ntoken = \"{TOKEN}\"\n\
         [experiments.homepage_cta]\ndefault = true\nassignment = \"hash\"\n\
         variants = [{{ name = \"A\", weight = {a} }}, {{ name = \"B\", weight = {b} }}]\n"
    )
}

/// Builds (does not run) an application on `url` from `toml`.
async fn build(toml: &str, url: &str) -> anyhow::Result<Application> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("splitcast.toml");
    std::fs::write(&path, toml).unwrap();
    let sources = Sources {
        file: Some(path),
        local_file: false,
        env: Some(HashMap::from([
            ("SPLITCAST__STORAGE__URL".to_owned(), url.to_owned()),
            ("SPLITCAST__SERVER__PORT".to_owned(), "0".to_owned()),
        ])),
    };
    Application::build(Settings::load(sources.clone()).unwrap(), sources).await
}

async fn enrol(app: &TestApp, visitors: usize) {
    for _ in 0..visitors {
        served_variant(&browser(), app.url("/get_content")).await;
    }
}

async fn a_changed_split_is_refused_at_start_once_there_are_participants(url: String) {
    // No participants yet: any split starts, and is the one recorded.
    drop(
        build(&config(70, 30), &url)
            .await
            .expect("no participants: any split"),
    );
    let first = spawn_app_from(&config(50, 50), Some(url.clone())).await;
    enrol(&first, 3).await;
    for (a, b, what) in [
        (80, 50, "changing the weights"),
        (70, 30, "changing the weights"),
    ] {
        let refused = build(&config(a, b), &url).await.err().expect("refused");
        let error = refused
            .downcast::<ConfigError>()
            .expect("a configuration error");
        let line = error.to_string();
        assert!(
            line.starts_with(&format!(
                "invalid configuration: experiments.homepage_cta: {what}"
            )),
            "{line}"
        );
        assert!(
            line.contains("splitcast experiments reset homepage_cta"),
            "{line}"
        );
    }
    let renamed =
        config(50, 50).patched("variants = [{ name = \"A\"", "variants = [{ name = \"C\"");
    assert!(
        build(&renamed, &url).await.is_err(),
        "new variants are refused too"
    );
    let seeded = config(50, 50).patched(
        "assignment = \"hash\"",
        "assignment = \"hash\"\nseed = \"s2\"",
    );
    assert!(
        build(&seeded, &url).await.is_err(),
        "a new seed is refused too"
    );
    // 1/1 is 50/50: the same split starts.
    let same = build(&config(1, 1), &url)
        .await
        .expect("the same split starts");
    tokio::spawn(same.run_until_stopped());
    // A reset archives the counts; then the new split starts from zero.
    let archive = "homepage_cta@reset-1";
    let moved = first
        .store
        .reset_experiment("homepage_cta", archive)
        .await
        .unwrap();
    assert_eq!(moved, 3);
    assert_eq!(first.total("homepage_cta", "participants").await, 0);
    assert_eq!(first.total(archive, "participants").await, 3);
    let changed = build(&config(80, 50), &url)
        .await
        .expect("after a reset, a new split");
    tokio::spawn(changed.run_until_stopped());
}

async fn a_split_a_reload_applied_is_the_one_a_restart_is_checked_against(url: String) {
    let app = spawn_app_from(&config(50, 50), Some(url.clone())).await;
    std::fs::write(&app.config_path, config(70, 30)).unwrap();
    let reloaded = app
        .client
        .post(app.url("/admin/reload"))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(reloaded.status(), 200);
    enrol(&app, 3).await;
    let restarted = build(&config(70, 30), &url)
        .await
        .expect("the running split starts");
    tokio::spawn(restarted.run_until_stopped());
    assert!(build(&config(50, 50), &url).await.is_err());
}

fn sqlite_url(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("splitcast.db").display())
}

#[tokio::test]
async fn on_sqlite_a_changed_split_is_refused_at_start_once_there_are_participants() {
    let dir = tempfile::tempdir().unwrap();
    a_changed_split_is_refused_at_start_once_there_are_participants(sqlite_url(&dir)).await;
}

#[tokio::test]
async fn on_sqlite_a_split_a_reload_applied_is_the_one_a_restart_is_checked_against() {
    let dir = tempfile::tempdir().unwrap();
    a_split_a_reload_applied_is_the_one_a_restart_is_checked_against(sqlite_url(&dir)).await;
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn on_postgres_a_changed_split_is_refused_at_start_once_there_are_participants() {
    let Some(url) = fresh_database().await else {
        return;
    };
    a_changed_split_is_refused_at_start_once_there_are_participants(url).await;
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn on_postgres_a_split_a_reload_applied_is_the_one_a_restart_is_checked_against() {
    let Some(url) = fresh_database().await else {
        return;
    };
    a_split_a_reload_applied_is_the_one_a_restart_is_checked_against(url).await;
}

/// `splitcast --config CONFIG ARGS…` until it exits (killed after 30 s):
/// (status, stdout, stderr).
fn run(config: &std::path::Path, args: &[&str], url: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_splitcast"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("SPLITCAST__STORAGE__URL", url)
        .env("SPLITCAST__SERVER__PORT", "0")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("splitcast {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_binary_exits_2_naming_the_key_and_a_logged_reset_lets_the_new_split_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let config_path = dir.path().join("splitcast.toml");
    std::fs::write(&config_path, config(50, 50)).unwrap();
    let env = [
        ("SPLITCAST__STORAGE__URL", url.as_str()),
        ("SPLITCAST__SERVER__PORT", "0"),
    ];
    let mut server = start_server_with(&config_path, dir.path(), &env);
    for _ in 0..3 {
        served_variant(&browser(), format!("{}/get_content", server.address())).await;
    }
    server.kill();

    std::fs::write(&config_path, config(70, 30)).unwrap();
    let (status, _, stderr) = run(&config_path, &["serve"], &url);
    assert_eq!(status, 2, "{stderr}");
    let refusals: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("experiments.homepage_cta: changing the weights"))
        .collect();
    assert_eq!(refusals.len(), 1, "{stderr}");

    let (status, stdout, stderr) = run(
        &config_path,
        &["experiments", "reset", "homepage_cta"],
        &url,
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stdout.starts_with("homepage_cta: 3 participant(s)"),
        "{stdout}"
    );
    assert!(stderr.contains("experiment reset"), "logged: {stderr}");

    let mut server = start_server_with(&config_path, dir.path(), &env);
    let results: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/results", server.address()))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.kill();
    let variants = &results["experiments"][0]["goals"][0]["variants"];
    assert_eq!(variants[0]["participants"], 0, "{results}");
    assert_eq!(variants[1]["participants"], 0, "{results}");
}
