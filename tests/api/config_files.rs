//! Which files a process reads, and where its relative paths point: the
//! local overlay belongs to the file it is named after, and the first log
//! line names every file read.

use crate::durability::start_server_with;
use std::path::Path;
use std::process::{Command, Stdio};

/// `splitcast --config CONFIG check-config` run in `workdir`: (status, stdout, stderr).
fn check_config(workdir: &Path, config: &str) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_splitcast"))
        .args(["--config", config, "check-config"])
        .current_dir(workdir)
        .env_remove("SPLITCAST_CONFIG")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const DEFAULT: &str = include_str!("../../config/default.toml");

/// A configuration folder with default.toml, a development local.toml that
/// renames the project, and a production.toml that is default.toml under
/// another project name.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir(&config).unwrap();
    std::fs::write(config.join("default.toml"), DEFAULT).unwrap();
    std::fs::write(config.join("production.toml"), DEFAULT).unwrap();
    std::fs::write(
        config.join("local.toml"),
        "[notify]\nproject = \"FromLocalToml\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn local_toml_overrides_the_default_configuration_only() {
    let dir = folder();
    let (status, stdout, stderr) = check_config(dir.path(), "config/default.toml");
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("FromLocalToml"), "{stdout}");
    let (status, stdout, stderr) = check_config(dir.path(), "config/production.toml");
    assert_eq!(status, 0, "{stderr}");
    assert!(!stdout.contains("FromLocalToml"), "{stdout}");
    // Its own overlay, named after it, does apply.
    std::fs::write(
        dir.path().join("config/production.local.toml"),
        "[notify]\nproject = \"FromProductionLocal\"\n",
    )
    .unwrap();
    let (status, stdout, stderr) = check_config(dir.path(), "config/production.toml");
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("FromProductionLocal"), "{stdout}");
}

#[test]
fn a_broken_local_toml_cannot_stop_a_production_start() {
    let dir = folder();
    std::fs::write(
        dir.path().join("config/local.toml"),
        "[server]\nport = \"x\"\n",
    )
    .unwrap();
    let (status, _, stderr) = check_config(dir.path(), "config/default.toml");
    assert_eq!(status, 2, "{stderr}");
    let (status, _, stderr) = check_config(dir.path(), "config/production.toml");
    assert_eq!(status, 0, "{stderr}");
}

#[test]
fn the_first_log_line_names_every_configuration_file_read() {
    let dir = folder();
    let config = dir.path().join("config");
    let db = format!("sqlite://{}", dir.path().join("events.db").display());
    let env = [
        ("SPLITCAST__SERVER__PORT", "0"),
        ("SPLITCAST__STORAGE__URL", db.as_str()),
    ];
    let mut server = start_server_with(&config.join("default.toml"), dir.path(), &env);
    let first = server.log.lock().unwrap()[0].clone();
    server.kill();
    let default = config.join("default.toml").display().to_string();
    let local = config.join("local.toml").display().to_string();
    assert!(
        first.contains("configuration:") && first.contains(&default) && first.contains(&local),
        "{first}"
    );
}

/// default.toml beside a `config/` folder of its own, on a free port.
fn installed() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config");
    std::fs::create_dir(&config).unwrap();
    let text = DEFAULT.replace("port = 8080", "port = 0");
    std::fs::write(config.join("default.toml"), text).unwrap();
    dir
}

#[tokio::test]
async fn started_from_another_folder_the_binary_serves_its_pages_and_keeps_its_data_beside_the_configuration()
 {
    let install = installed();
    let elsewhere = tempfile::tempdir().unwrap();
    let config = install.path().join("config/default.toml");
    let mut server = start_server_with(&config, elsewhere.path(), &[]);
    let client = crate::helpers::browser();
    let get = |path: &str| client.get(format!("{}{path}", server.address())).send();
    let page = get("/").await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().await.unwrap().contains("splitcast demo"));
    for path in ["/splitcast.js", "/demo.js", "/dashboard", "/dashboard.js"] {
        assert_eq!(get(path).await.unwrap().status(), 200, "{path}");
    }
    assert_eq!(get("/no-such-file.js").await.unwrap().status(), 404);
    assert_eq!(get("/get_content").await.unwrap().status(), 200);
    let log = server.log.lock().unwrap().join("\n");
    server.kill();
    // The database is where the configuration says, relative to its folder.
    let db = install.path().join("data/splitcast.db");
    assert!(db.is_file(), "{log}");
    assert!(!elsewhere.path().join("data").exists());
    assert!(log.contains("pages: built in"), "{log}");
    assert!(
        log.contains(&format!("SQLite database: {}", db.display())),
        "{log}"
    );
    assert!(!log.contains("ERROR"), "{log}");
}

#[test]
fn a_relative_static_dir_is_the_configuration_folders_and_a_missing_one_is_refused() {
    let install = installed();
    let elsewhere = tempfile::tempdir().unwrap();
    let config = install.path().join("config/default.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let with_site = text.replace("# static_dir = \"../static\"", "static_dir = \"../site\"");
    assert_ne!(with_site, text);
    std::fs::write(&config, &with_site).unwrap();
    let config = config.display().to_string();
    let (status, _, stderr) = check_config(elsewhere.path(), &config);
    assert_eq!(status, 2, "{stderr}");
    let site = install.path().join("site");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("server.static_dir") && stderr.contains(&site.display().to_string()),
        "{stderr}"
    );
    std::fs::create_dir(&site).unwrap();
    let (status, stdout, stderr) = check_config(elsewhere.path(), &config);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains(&site.display().to_string()), "{stdout}");
}
