//! Configuration reload without a restart: `POST /admin/reload` in-process,
//! and SIGHUP and `splitcast reload` against the real binary.

use crate::durability::start_server;
use crate::helpers::{
    Patch, TestApp, browser, error_code, received_bodies, spawn_app_from, wait_until,
};
use crate::lifecycle::{TOKEN, answering_blip, blip, config, set_status};
use serde_json::{Value, json};
use std::time::Duration;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The headline `GET /get_content?force=VARIANT` serves (a preview, uncounted).
async fn headline(client: &reqwest::Client, base: &str, query: &str) -> String {
    let body: Value = client
        .get(format!("{base}/get_content?{query}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["headline"].as_str().unwrap_or_default().to_owned()
}

/// `POST /admin/reload` with the admin token, sent as the CLI sends it.
pub async fn reload(app: &TestApp) -> reqwest::Response {
    app.client
        .post(app.url("/admin/reload"))
        .bearer_auth(TOKEN)
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap()
}

const NEW_B: &str = "Discover the power of our platform!";

#[tokio::test]
async fn a_reload_applies_content_new_experiments_and_notifiers_at_once() {
    let app = spawn_app_from(&config(""), None).await;
    let client = browser();
    assert_eq!(headline(&client, &app.address, "force=B").await, NEW_B);
    let blip_server = answering_blip().await;
    let text = std::fs::read_to_string(&app.config_path).unwrap();
    let edited = text.patched(NEW_B, "Reloaded headline")
        + &blip(&blip_server, Some("[\"lifecycle\"]"))
        + "\n[experiments.pricing]\n[[experiments.pricing.variants]]\nname = \"cheap\"\nweight = 1\n\
           content = { headline = \"cheap\" }\n[[experiments.pricing.variants]]\nname = \"dear\"\n\
           weight = 1\ncontent = { headline = \"dear\" }\n";
    std::fs::write(&app.config_path, edited).unwrap();
    let answer = reload(&app).await;
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["refused"], json!([]));
    assert_eq!(answer["needs_restart"], json!([]));
    assert_eq!(answer["notifiers_restarted"], true);

    assert_eq!(
        headline(&client, &app.address, "force=B").await,
        "Reloaded headline"
    );
    let pricing = headline(&client, &app.address, "experiment=pricing").await;
    assert!(["cheap", "dear"].contains(&pricing.as_str()), "{pricing}");
    // The new notifier delivers from now on.
    let change = json!({"status": "paused"});
    assert_eq!(set_status(&app, "homepage_cta", change).await.status(), 200);
    wait_until(
        Duration::from_secs(10),
        "the new notifier's message",
        || async { !received_bodies(&blip_server).await.is_empty() },
    )
    .await;
    assert_eq!(
        received_bodies(&blip_server).await[0]["message"],
        "homepage_cta paused"
    );
}

#[tokio::test]
async fn an_invalid_file_keeps_the_running_configuration() {
    let app = spawn_app_from(&config(""), None).await;
    let text = std::fs::read_to_string(&app.config_path).unwrap();
    let invalid = text
        .patched(NEW_B, "Never served")
        .patched("default = true", "default = true\ntraffic = 2.0");
    std::fs::write(&app.config_path, invalid).unwrap();
    let answer = reload(&app).await;
    assert_eq!(answer.status(), 422);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_config");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("experiments.homepage_cta.traffic"),
        "{message}"
    );
    assert_eq!(headline(&browser(), &app.address, "force=B").await, NEW_B);
    let unauthorized = app
        .client
        .post(app.url("/admin/reload"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(unauthorized, 401).await, "unauthorized");
}

#[tokio::test]
async fn new_weights_are_refused_once_an_experiment_has_participants() {
    let app = spawn_app_from(&config(""), None).await;
    let text = std::fs::read_to_string(&app.config_path).unwrap();
    // No participants yet: a new split is harmless and applies.
    let skewed = text.patched(
        "weight = 50\ncontent = { button_color = \"green\"",
        "weight = 150\ncontent = { button_color = \"green\"",
    );
    std::fs::write(&app.config_path, &skewed).unwrap();
    let answer: Value = reload(&app).await.json().await.unwrap();
    assert_eq!(answer["refused"], json!([]));
    let listed: Value = app.get_json_with("/experiments", TOKEN).await;
    assert_eq!(listed["experiments"][0]["variants"][1]["weight"], 150.0);

    // One participant later, another split (and content edit) is refused for
    // this experiment, while the rest of the file applies.
    crate::helpers::served_variant(&browser(), app.url("/get_content")).await;
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
    let refused = skewed
        .patched("weight = 150", "weight = 10")
        .patched(NEW_B, "Not with new weights")
        .patched("[admin]", "[notify]\nproject = \"Renamed\"\n[admin]");
    std::fs::write(&app.config_path, refused).unwrap();
    let answer: Value = reload(&app).await.json().await.unwrap();
    let lines = answer["refused"].as_array().unwrap();
    assert_eq!(lines.len(), 1, "{answer}");
    let line = lines[0].as_str().unwrap();
    assert!(
        line.starts_with("experiments.homepage_cta: changing the weights"),
        "{line}"
    );
    assert_eq!(
        answer["notifiers_restarted"], true,
        "the [notify] change applied"
    );
    assert_eq!(headline(&browser(), &app.address, "force=B").await, NEW_B);
}

/// Sends SIGHUP to the server's process.
fn hang_up(server: &crate::durability::Server) {
    let pid = i32::try_from(server.child.id()).unwrap();
    // SAFETY: kill(2) with a valid signal number has no memory effects.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
}

fn logged(server: &crate::durability::Server, text: &str) -> bool {
    server.log.lock().unwrap().iter().any(|l| l.contains(text))
}

#[tokio::test]
async fn sighup_reloads_the_real_binary_refusing_what_it_must() {
    let dir = tempfile::tempdir().unwrap();
    let config = include_str!("../../config/default.toml")
        .patched("port = 8080", "port = 0")
        .patched(
            "sqlite://../data/splitcast.db",
            &format!("sqlite://{}", dir.path().join("events.db").display()),
        );
    let config_path = dir.path().join("config.toml");
    std::fs::write(&config_path, &config).unwrap();
    let mut server = start_server(&config_path, dir.path());
    let base = server.address();
    let client = browser();
    // A participant, so that the weights are frozen.
    crate::helpers::served_variant(&browser(), format!("{base}/get_content")).await;

    // 1. A valid content change applies.
    let edited = config.patched(NEW_B, "After SIGHUP");
    std::fs::write(&config_path, &edited).unwrap();
    hang_up(&server);
    wait_until(Duration::from_secs(10), "the reloaded content", || async {
        headline(&client, &base, "force=B").await == "After SIGHUP"
    })
    .await;
    // The file has no session key: the start generated one and said so; the
    // reload kept it (the cookies stay valid) and says nothing about it.
    let generated = |l: &&String| l.contains("a random key was generated");
    assert_eq!(
        server.log.lock().unwrap().iter().filter(generated).count(),
        1
    );

    // 2. An invalid file: one line naming the key, the running file stays.
    std::fs::write(&config_path, edited.patched("traffic = 1.0", "traffic = 7")).unwrap();
    hang_up(&server);
    wait_until(
        Duration::from_secs(10),
        "the refusal in the log",
        || async { logged(&server, "reload refused") },
    )
    .await;
    let refusal = server
        .log
        .lock()
        .unwrap()
        .iter()
        .find(|l| l.contains("reload refused"))
        .cloned()
        .unwrap();
    assert!(
        refusal.contains("experiments.homepage_cta.traffic"),
        "{refusal}"
    );
    assert_eq!(headline(&client, &base, "force=B").await, "After SIGHUP");

    // 3. New weights for an experiment with participants: refused by name,
    // while a new experiment in the same file applies.
    let blue = "weight = 50\ncontent = { button_color = \"blue\"";
    let reweighted = edited.patched(blue, &blue.replace("50", "90")).patched(
        "[notify]",
        "[experiments.pricing]\n[[experiments.pricing.variants]]\nname = \"cheap\"\nweight = 1\n\
         content = { headline = \"cheap\" }\n[[experiments.pricing.variants]]\nname = \"dear\"\n\
         weight = 1\ncontent = { headline = \"dear\" }\n\n[notify]",
    );
    std::fs::write(&config_path, reweighted).unwrap();
    hang_up(&server);
    wait_until(Duration::from_secs(10), "the weight refusal", || async {
        logged(&server, "experiments.homepage_cta: changing the weights")
    })
    .await;
    let pricing = headline(&client, &base, "experiment=pricing").await;
    assert!(["cheap", "dear"].contains(&pricing.as_str()), "{pricing}");

    // 4. `splitcast reload` asks the same through the admin API.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_splitcast"))
        .arg("--config")
        .arg(&config_path)
        .arg("reload")
        .arg("--url")
        .arg(&base)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.starts_with("reloaded"), "{stdout}");
    assert!(
        stdout.contains("experiments.homepage_cta: changing the weights"),
        "{stdout}"
    );
    server.kill();
}

#[tokio::test]
async fn a_reload_during_a_send_lets_it_finish_so_it_is_sent_once() {
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(1_500)))
        .mount(&slow)
        .await;
    let app = spawn_app_from(&config(&blip(&slow, Some("[\"conversion\"]"))), None).await;
    let convert = || async {
        let visitor = browser();
        visitor.get(app.url("/get_content")).send().await.unwrap();
        let status = visitor
            .post(app.url("/track_conversion"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 204);
    };
    convert().await;
    wait_until(Duration::from_secs(10), "the send in flight", || async {
        slow.received_requests().await.unwrap().len() == 1
    })
    .await;
    // The notifier's settings change: its worker is restarted mid-send.
    let text = std::fs::read_to_string(&app.config_path).unwrap();
    let edited = text.patched(
        "api_key = \"blip-key\"\n",
        "api_key = \"blip-key\"\nrate_per_minute = 600\n",
    );
    std::fs::write(&app.config_path, edited).unwrap();
    let answer: Value = reload(&app).await.json().await.unwrap();
    assert_eq!(answer["notifiers_restarted"], true);
    // Settled by the old worker, not left claimed for a resend after the lease.
    wait_until(Duration::from_secs(10), "the send settled", || async {
        app.store.pending("blip").await.unwrap() == 0
    })
    .await;
    assert_eq!(slow.received_requests().await.unwrap().len(), 1);
    // And the restarted worker delivers what comes next.
    convert().await;
    wait_until(Duration::from_secs(10), "the next message", || async {
        slow.received_requests().await.unwrap().len() == 2
    })
    .await;
}
