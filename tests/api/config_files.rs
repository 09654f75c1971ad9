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
