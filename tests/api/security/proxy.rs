//! Proxy variables of the environment do not carry notifications past the
//! private-address guard: the notifiers' client ignores them.

use crate::helpers::{BASE, DEMO};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn environment_proxies_are_not_used_by_the_notifiers() {
    let blip = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&blip)
        .await;
    // A "proxy" that counts connections and never answers.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = proxy.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            held.push(stream);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("config.toml");
    let config = format!(
        "{BASE}\n{DEMO}\n[notifiers.blip]\nkind = \"bliphq\"\nurl = \"{}/api/notify\"\napi_key = \"k\"\n",
        blip.uri()
    );
    std::fs::write(&config_path, config).unwrap();
    let workdir = dir.path().to_owned();
    let output = tokio::task::spawn_blocking(move || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_splitcast"));
        command
            .arg("notify-test")
            .arg("--config")
            .arg(&config_path)
            .current_dir(workdir)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy");
        for variable in [
            "HTTPS_PROXY",
            "HTTP_PROXY",
            "ALL_PROXY",
            "https_proxy",
            "http_proxy",
            "all_proxy",
        ] {
            command.env(variable, &proxy_url);
        }
        command.output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("blip: delivered"), "{stdout}");
    assert_eq!(blip.received_requests().await.unwrap().len(), 1);
    assert_eq!(connections.load(Ordering::SeqCst), 0, "the proxy was used");
}

#[test]
fn production_without_the_private_address_block_is_warned_about() {
    let production = format!(
        "{}\n[admin]\ntoken = \"admin-token-of-at-least-32-characters\"\n{DEMO}",
        BASE.replace(
            "environment = \"development\"",
            "environment = \"production\""
        )
        .replace("[session]", "[session]\nsecure = true")
    );
    let warned = |settings: &splitcast::configuration::Settings| {
        settings
            .warnings
            .iter()
            .any(|w| w.starts_with("notify.block_private_addresses is off in production"))
    };
    let default = splitcast::configuration::Settings::from_toml(&production).unwrap();
    assert!(!warned(&default));
    let off = production + "\n[notify]\nblock_private_addresses = false\n";
    let off = splitcast::configuration::Settings::from_toml(&off).unwrap();
    assert!(warned(&off), "{:?}", off.warnings);
}
