//! A notifier's rate limit holds for the cluster: two instances on one
//! PostgreSQL draw on one token bucket, so a chat service that limits per
//! bot and chat never sees more than the burst plus the rate, however many
//! instances deliver.

use crate::helpers::{BASE, DEMO, browser, spawn_app_from};
use crate::postgres::fresh_database;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const RATE_PER_MINUTE: u32 = 120;
const BURST: usize = 5;

/// Answers like Telegram's sendMessage and notes when each call arrived.
#[derive(Clone, Default)]
struct Stamps(Arc<Mutex<Vec<Instant>>>);

impl Respond for Stamps {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.0.lock().unwrap().push(Instant::now());
        ResponseTemplate::new(200)
            .set_body_json(serde_json::json!({"ok": true, "result": {"message_id": 1}}))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_together_stay_within_one_bucket() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let telegram = MockServer::start().await;
    let stamps = Stamps::default();
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(stamps.clone())
        .mount(&telegram)
        .await;
    let config = format!(
        "{BASE}\n{DEMO}\n[notifiers.team_chat]\nkind = \"telegram\"\nbot_token = \"1:tok\"\n\
         chat_id = \"-100\"\napi_base = \"{}\"\nrate_per_minute = {RATE_PER_MINUTE}\n",
        telegram.uri()
    );
    let one = spawn_app_from(&config, Some(url.clone())).await;
    let two = spawn_app_from(&config, Some(url)).await;
    // Conversions on both instances for six seconds: a backlog far above the rate.
    let started = Instant::now();
    let mut senders = Vec::new();
    for app in [&one, &two] {
        for _ in 0..3 {
            let (content, convert) = (app.url("/get_content"), app.url("/track_conversion"));
            senders.push(tokio::spawn(async move {
                while started.elapsed() < Duration::from_secs(6) {
                    let visitor = browser();
                    visitor.get(&content).send().await.unwrap();
                    let status = visitor.post(&convert).send().await.unwrap().status();
                    assert_eq!(status, 204);
                }
            }));
        }
    }
    for sender in senders {
        sender.await.unwrap();
    }
    let stamps = stamps.0.lock().unwrap().clone();
    assert!(
        stamps.len() >= 10,
        "both instances delivered too little: {}",
        stamps.len()
    );
    for window_secs in [1u64, 3, 6] {
        let window = Duration::from_secs(window_secs);
        let allowed = BURST + (RATE_PER_MINUTE as usize * window_secs as usize) / 60;
        for (i, start) in stamps.iter().enumerate() {
            let within = stamps[i..]
                .iter()
                .take_while(|t| **t - *start < window)
                .count();
            // One more for a refill that lands exactly on the window's edge.
            assert!(
                within <= allowed + 1,
                "{within} messages within {window_secs} s (limit {allowed})"
            );
        }
    }
}

/// Answers like a Discord webhook whose bucket every success spends:
/// `X-RateLimit-Remaining: 0` and `X-RateLimit-Reset-After: 1`.
#[derive(Clone, Default)]
struct SpentDiscord(Arc<Mutex<Vec<Instant>>>);

impl Respond for SpentDiscord {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.0.lock().unwrap().push(Instant::now());
        ResponseTemplate::new(200)
            .insert_header("x-ratelimit-limit", "5")
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", "1770000000")
            .insert_header("x-ratelimit-reset-after", "1")
            .insert_header("x-ratelimit-bucket", "abcd1234")
            .set_body_json(serde_json::json!({"id": "1", "type": 0, "content": "ok"}))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_discord_bucket_spent_on_one_instance_holds_the_other_until_its_reset() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let discord = MockServer::start().await;
    let stamps = SpentDiscord::default();
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(stamps.clone())
        .mount(&discord)
        .await;
    // A configured rate far above what the headers allow: only they pace it.
    let config = format!(
        "{BASE}\n{DEMO}\n[notifiers.discord]\nkind = \"discord\"\n\
         webhook_url = \"{}/api/webhooks/1/spent-bucket-token\"\nrate_per_minute = 600\n",
        discord.uri()
    );
    let one = spawn_app_from(&config, Some(url.clone())).await;
    let two = spawn_app_from(&config, Some(url)).await;
    // The second instance's visitors come half a reset later: alone, its
    // worker would send then, mid-way through the first one's wait.
    let started = Instant::now();
    let mut senders = Vec::new();
    for (app, delay) in [(&one, 0), (&two, 500)] {
        for _ in 0..2 {
            let (content, convert) = (app.url("/get_content"), app.url("/track_conversion"));
            senders.push(tokio::spawn(async move {
                tokio::time::sleep_until((started + Duration::from_millis(delay)).into()).await;
                while started.elapsed() < Duration::from_millis(3_500) {
                    let visitor = browser();
                    visitor.get(&content).send().await.unwrap();
                    let status = visitor.post(&convert).send().await.unwrap().status();
                    assert_eq!(status, 204);
                }
            }));
        }
    }
    for sender in senders {
        sender.await.unwrap();
    }
    let stamps = stamps.0.lock().unwrap().clone();
    assert!(stamps.len() >= 3, "too little delivered: {}", stamps.len());
    // Two sends may race (both took a token before either learnt the bucket
    // was spent); otherwise the next send waits for the reset, whichever
    // instance makes it.
    let gaps: Vec<Duration> = stamps.windows(2).map(|w| w[1] - w[0]).collect();
    for gap in &gaps {
        assert!(
            *gap < Duration::from_millis(50) || *gap >= Duration::from_millis(950),
            "a send {gap:?} after the last, inside its reset: {gaps:?}"
        );
    }
}
