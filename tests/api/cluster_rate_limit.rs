//! A notifier's rate limit holds for the cluster: two instances on one
//! PostgreSQL draw on one token bucket, so a chat service that limits per
//! bot and chat never sees more than the burst plus the rate, however many
//! instances deliver.

use crate::helpers::{BASE, DEMO, TestApp, browser, spawn_app_from};
use crate::postgres::fresh_database;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const RATE_PER_MINUTE: u32 = 120;
const BURST: usize = 5;

/// Answers every call with one template and notes when each arrived.
#[derive(Clone)]
struct Stamps {
    at: Arc<Mutex<Vec<(Instant, String)>>>,
    answer: ResponseTemplate,
}

impl Stamps {
    /// A mock service answering `answer`, and its record.
    async fn serve(answer: ResponseTemplate) -> (MockServer, Self) {
        let stamps = Self {
            at: Arc::default(),
            answer,
        };
        let server = MockServer::start().await;
        Mock::given(wiremock::matchers::method("POST"))
            .respond_with(stamps.clone())
            .mount(&server)
            .await;
        (server, stamps)
    }

    fn arrivals(&self) -> Vec<Instant> {
        self.at.lock().unwrap().iter().map(|(at, _)| *at).collect()
    }

    /// How many calls arrived on a path starting with `prefix`: each
    /// instance is given its own, so this counts what each one sent.
    fn sent_under(&self, prefix: &str) -> usize {
        let at = self.at.lock().unwrap();
        at.iter()
            .filter(|(_, path)| path.starts_with(prefix))
            .count()
    }
}

impl Respond for Stamps {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_owned();
        self.at.lock().unwrap().push((Instant::now(), path));
        self.answer.clone()
    }
}

/// Browsers converting on each app, `senders` at a time, from its delay
/// after the start until `until`: a backlog far above any rate.
async fn convert_on(apps: &[(&TestApp, u64)], senders: usize, until: Duration) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (app, delay) in apps {
        let from = started + Duration::from_millis(*delay);
        for _ in 0..senders {
            let (content, convert) = (app.url("/get_content"), app.url("/track_conversion"));
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep_until(from.into()).await;
                while started.elapsed() < until {
                    let visitor = browser();
                    visitor.get(&content).send().await.unwrap();
                    let status = visitor.post(&convert).send().await.unwrap().status();
                    assert_eq!(status, 204);
                }
            }));
        }
    }
    for task in tasks {
        task.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn two_instances_together_stay_within_one_bucket() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let sent = serde_json::json!({"ok": true, "result": {"message_id": 1}});
    let (telegram, stamps_of) = Stamps::serve(ResponseTemplate::new(200).set_body_json(sent)).await;
    // One notifier (one bucket, by name) whose API base differs per
    // instance, so that each call says which instance made it.
    let config = |instance: &str| {
        format!(
            "{BASE}\n{DEMO}\n[notifiers.team_chat]\nkind = \"telegram\"\nbot_token = \"1:tok\"\n\
             chat_id = \"-100\"\napi_base = \"{}/{instance}\"\nrate_per_minute = {RATE_PER_MINUTE}\n",
            telegram.uri()
        )
    };
    let one = spawn_app_from(&config("one"), Some(url.clone())).await;
    let two = spawn_app_from(&config("two"), Some(url)).await;
    // Conversions on both instances for six seconds: a backlog far above the rate.
    convert_on(&[(&one, 0), (&two, 0)], 3, Duration::from_secs(6)).await;
    let stamps = stamps_of.arrivals();
    assert!(
        stamps.len() >= 10,
        "both instances delivered too little: {}",
        stamps.len()
    );
    let (by_one, by_two) = (stamps_of.sent_under("/one/"), stamps_of.sent_under("/two/"));
    assert_eq!(by_one + by_two, stamps.len());
    assert!(
        by_one > 0 && by_two > 0,
        "one instance sent everything ({by_one} and {by_two}): no shared bucket was tested"
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn a_discord_bucket_spent_on_one_instance_holds_the_other_until_its_reset() {
    let Some(url) = fresh_database().await else {
        return;
    };
    // A Discord webhook whose bucket every success spends.
    let spent = ResponseTemplate::new(200)
        .insert_header("x-ratelimit-limit", "5")
        .insert_header("x-ratelimit-remaining", "0")
        .insert_header("x-ratelimit-reset", "1770000000")
        .insert_header("x-ratelimit-reset-after", "2")
        .insert_header("x-ratelimit-bucket", "abcd1234")
        .set_body_json(serde_json::json!({"id": "1", "type": 0, "content": "ok"}));
    let (discord, stamps) = Stamps::serve(spent).await;
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
    convert_on(&[(&one, 0), (&two, 1_000)], 2, Duration::from_millis(5_500)).await;
    let stamps = stamps.arrivals();
    assert!(stamps.len() >= 3, "too little delivered: {}", stamps.len());
    // Two sends may race (both took a token before either learnt the bucket
    // was spent); otherwise the next send waits for the 2 s reset, whichever
    // instance makes it. Racing sends may lie up to 500 ms apart on a loaded
    // machine; a held one then still comes 1.5 s or more after the last. A
    // send in between came inside a reset.
    let gaps: Vec<Duration> = stamps.windows(2).map(|w| w[1] - w[0]).collect();
    for gap in &gaps {
        assert!(
            *gap < Duration::from_millis(500) || *gap >= Duration::from_millis(1_500),
            "a send {gap:?} after the last, inside its reset: {gaps:?}"
        );
    }
}
