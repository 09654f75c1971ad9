//! Results over time (`GET /results/history`) and the CSV report
//! (`GET /results?format=csv`), on SQLite and on a shared PostgreSQL.

use crate::helpers::{BASE, DEMO, TestApp, error_code, seed, spawn_app_from};
use crate::postgres::fresh_database;
use serde_json::Value;
use splitcast::clock::now_millis;
use splitcast::history::record_point;
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

const TOKEN: &str = "s3cret-admin";

/// `BASE` with the admin token, `[history]` and `extra` (experiments).
fn config(interval_secs: u64, extra: &str) -> String {
    format!(
        "{BASE}\n[admin]\ntoken = \"{TOKEN}\"\n[history]\ninterval_secs = {interval_secs}\n{extra}"
    )
}

async fn get_with_token(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
}

async fn json(app: &TestApp, path: &str) -> Value {
    let response = get_with_token(app, path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

fn points(history: &Value) -> &Vec<Value> {
    history["points"].as_array().expect("points")
}

fn unix_millis(at: &Value) -> i64 {
    let at = OffsetDateTime::parse(at.as_str().expect("at is a string"), &Rfc3339).unwrap();
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

/// The variant `name` of a point (or of a goal's report).
fn variant<'a>(variants: &'a Value, name: &str) -> &'a Value {
    variants
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("no variant {name} in {variants}"))
}

/// Polls the history until it has `count` points at or after `since`
/// (unix milliseconds); fails after a generous deadline.
async fn history_with_points_since(app: &TestApp, since: i64, count: usize) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let history = json(app, "/results/history?experiment=homepage_cta").await;
        let recent = points(&history)
            .iter()
            .filter(|p| unix_millis(&p["at"]) >= since)
            .count();
        if recent >= count {
            return history;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {recent} of {count} points after {since}: {history}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn points_appear_once_per_slot_oldest_first_with_the_tracked_counts() {
    let app = spawn_app_from(&config(1, DEMO), None).await;
    for _ in 0..3 {
        let visitor = crate::helpers::browser();
        visitor.get(app.url("/get_content")).send().await.unwrap();
        let converted = visitor.post(app.url("/track_conversion")).send().await;
        assert_eq!(converted.unwrap().status(), 204);
    }
    // Three slots after the last event: the newest point carries every count.
    let first_slot_after = now_millis() / 1000 * 1000 + 1000;
    let history = history_with_points_since(&app, first_slot_after, 3).await;
    assert_eq!(history["experiment"], "homepage_cta");
    assert_eq!(history["goal"], "conversion");
    let times: Vec<i64> = points(&history)
        .iter()
        .map(|p| unix_millis(&p["at"]))
        .collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    assert!(times.iter().all(|t| t % 1000 == 0), "slots: {times:?}");
    let report = json(&app, "/results?experiment=homepage_cta").await;
    let today = &report["experiments"][0]["goals"][0]["variants"];
    let newest = &points(&history).last().unwrap()["variants"];
    let mut participants = 0;
    for name in ["A", "B"] {
        let (then, now) = (variant(newest, name), variant(today, name));
        for field in ["participants", "conversions", "rate"] {
            assert_eq!(then[field], now[field], "{field} of {name}");
        }
        participants += then["participants"].as_u64().unwrap();
    }
    assert_eq!(participants, 3);
}

#[tokio::test]
async fn lift_is_null_on_the_control_and_positive_on_a_clearly_better_variant() {
    let app = spawn_app_from(&config(3600, DEMO), None).await;
    let start = now_millis();
    assert!(record_point(&app.store, start).await.unwrap());
    seed(app.store.as_ref(), "homepage_cta", "A", 1000, 100).await;
    seed(app.store.as_ref(), "homepage_cta", "B", 1000, 300).await;
    // A lifecycle point keeps its exact time, milliseconds included.
    let later = start + 1_234;
    assert!(record_point(&app.store, later).await.unwrap());
    assert!(!record_point(&app.store, later).await.unwrap());
    let history = json(&app, "/results/history?experiment=homepage_cta").await;
    let body = history.to_string();
    assert!(!body.contains("NaN"), "{body}");
    // (An hourly point could fall in between; only the two recorded here count.)
    let ours: Vec<&Value> = points(&history)
        .iter()
        .filter(|p| [start, later].contains(&unix_millis(&p["at"])))
        .collect();
    let [before, after] = ours.as_slice() else {
        panic!("two points: {history}");
    };
    assert_eq!(unix_millis(&before["at"]), start);
    assert_eq!(unix_millis(&after["at"]), later);
    // Before anyone took part: zeros, and no rate or lift to speak of.
    for name in ["A", "B"] {
        let v = variant(&before["variants"], name);
        assert_eq!(
            (&v["participants"], &v["conversions"]),
            (&0.into(), &0.into())
        );
        assert!(v["rate"].is_null() && v["lift_abs"].is_null() && v["lift_abs_ci"].is_null());
    }
    let (a, b) = (
        variant(&after["variants"], "A"),
        variant(&after["variants"], "B"),
    );
    assert_eq!(a["rate"], 0.1);
    assert!(a["lift_abs"].is_null() && a["lift_abs_ci"].is_null(), "{a}");
    assert!((b["lift_abs"].as_f64().unwrap() - 0.2).abs() < 1e-12, "{b}");
    let ci = b["lift_abs_ci"].as_array().unwrap();
    assert!(
        ci[0].as_f64().unwrap() > 0.0 && ci[1].as_f64().unwrap() > 0.2,
        "{b}"
    );
}

#[tokio::test]
async fn each_analysis_gives_the_interval_results_gives_at_the_same_counts() {
    let fixed = DEMO.replace(
        "default = true",
        "default = true\nanalysis = \"fixed\"\nsample_size = 1000",
    );
    let mut intervals = Vec::new();
    for experiments in [DEMO.to_owned(), fixed] {
        let app = spawn_app_from(&config(3600, &experiments), None).await;
        seed(app.store.as_ref(), "homepage_cta", "A", 1000, 120).await;
        seed(app.store.as_ref(), "homepage_cta", "B", 1000, 150).await;
        record_point(&app.store, now_millis()).await.unwrap();
        let history = json(&app, "/results/history?experiment=homepage_cta").await;
        let point = points(&history).last().unwrap();
        let report = json(&app, "/results?experiment=homepage_cta").await;
        let today = &report["experiments"][0]["goals"][0]["variants"];
        let (then, now) = (variant(&point["variants"], "B"), variant(today, "B"));
        assert_eq!(then["lift_abs_ci"], now["lift_abs_ci"]);
        assert_eq!(then["lift_abs"], now["lift_abs"]);
        intervals.push(then["lift_abs_ci"].clone());
    }
    // The confidence sequence is wider than the fixed-horizon interval.
    let width = |ci: &Value| ci[1].as_f64().unwrap() - ci[0].as_f64().unwrap();
    assert!(width(&intervals[0]) > width(&intervals[1]), "{intervals:?}");
}

#[tokio::test]
async fn history_needs_the_admin_token_and_known_names() {
    let app = spawn_app_from(&config(3600, DEMO), None).await;
    let path = "/results/history?experiment=homepage_cta";
    assert_eq!(error_code(app.get(path).await, 401).await, "unauthorized");
    let unknown = get_with_token(&app, "/results/history?experiment=nope").await;
    assert_eq!(error_code(unknown, 404).await, "unknown_experiment");
    let unknown = get_with_token(&app, &format!("{path}&goal=nope")).await;
    assert_eq!(error_code(unknown, 404).await, "unknown_goal");
    let signup = json(&app, &format!("{path}&goal=signup")).await;
    assert_eq!(signup["goal"], "signup");
    // Without a name: the default experiment and its first goal.
    let default = json(&app, "/results/history").await;
    assert_eq!(default["experiment"], "homepage_cta");
    assert_eq!(default["goal"], "conversion");
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn two_instances_on_one_postgres_record_each_slot_once() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let config = config(1, DEMO);
    let one = spawn_app_from(&config, Some(url.clone())).await;
    let two = spawn_app_from(&config, Some(url)).await;
    seed(one.store.as_ref(), "homepage_cta", "A", 40, 4).await;
    seed(two.store.as_ref(), "homepage_cta", "B", 60, 9).await;
    // Both racing for one point: exactly one records it.
    // Half past a second: no slot of the snapshotters can take it first.
    let at = now_millis() / 1000 * 1000 + 500;
    let (a, b) = tokio::join!(record_point(&one.store, at), record_point(&two.store, at));
    assert!(
        a.unwrap() ^ b.unwrap(),
        "exactly one of the two recorded it"
    );
    let since = now_millis() / 1000 * 1000 + 1000;
    let history = history_with_points_since(&one, since, 3).await;
    let times: Vec<i64> = points(&history)
        .iter()
        .map(|p| unix_millis(&p["at"]))
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] < w[1]),
        "no duplicate at: {times:?}"
    );
    for point in points(&history)
        .iter()
        .filter(|p| unix_millis(&p["at"]) >= since)
    {
        // Counted once: the counts are the database's, not twice them.
        let (a, b) = (
            variant(&point["variants"], "A"),
            variant(&point["variants"], "B"),
        );
        assert_eq!(
            (&a["participants"], &a["conversions"]),
            (&40.into(), &4.into())
        );
        assert_eq!(
            (&b["participants"], &b["conversions"]),
            (&60.into(), &9.into())
        );
    }
    // The other instance answers the same points.
    let theirs = json(&two, "/results/history?experiment=homepage_cta").await;
    let their_times: Vec<i64> = points(&theirs)
        .iter()
        .map(|p| unix_millis(&p["at"]))
        .collect();
    assert!(
        their_times.starts_with(&times),
        "{their_times:?} vs {times:?}"
    );
}

/// A second experiment, so the CSV has rows of several experiments.
const PRICING: &str = r#"
[experiments.pricing]
goals = ["purchase"]
[[experiments.pricing.variants]]
name = "A"
weight = 1
content = { price = "9" }
[[experiments.pricing.variants]]
name = "B"
weight = 1
content = { price = "7" }
[[experiments.pricing.variants]]
name = "C"
weight = 1
content = { price = "12" }
"#;

#[tokio::test]
async fn csv_results_have_the_exact_header_one_row_per_goal_and_variant_and_the_json_numbers() {
    let app = spawn_app_from(&config(3600, &format!("{DEMO}\n{PRICING}")), None).await;
    seed(app.store.as_ref(), "homepage_cta", "A", 1000, 120).await;
    seed(app.store.as_ref(), "homepage_cta", "B", 1000, 150).await;
    let response = get_with_token(&app, "/results?format=csv").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    assert!(
        text.starts_with(
            "experiment,goal,variant,participants,conversions,rate,ci_low,ci_high,\
             lift_abs,p_value,verdict\r\n"
        ),
        "{text}"
    );
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    // homepage_cta: 2 goals x 2 variants; pricing: 1 goal x 3 variants.
    assert_eq!(rows.len(), 7, "{text}");
    let report = json(&app, "/results").await;
    let mut checked = 0;
    for experiment in report["experiments"].as_array().unwrap() {
        for goal in experiment["goals"].as_array().unwrap() {
            for v in goal["variants"].as_array().unwrap() {
                let key = [&experiment["name"], &goal["goal"], &v["name"]].map(|k| k.as_str());
                let row = rows
                    .iter()
                    .find(|r| [r.get(0), r.get(1), r.get(2)] == key)
                    .unwrap_or_else(|| panic!("no row for {key:?}"));
                for (i, field) in ["participants", "conversions", "rate", "ci_low", "ci_high"]
                    .into_iter()
                    .chain(["lift_abs", "p_value"])
                    .enumerate()
                {
                    let cell = &row[i + 3];
                    match v[field].as_f64() {
                        None => assert_eq!(cell, "", "{field} of {key:?}"),
                        Some(x) => assert_eq!(cell.parse::<f64>().unwrap(), x, "{field}"),
                    }
                    assert!(!cell.contains('e'), "plain decimal: {cell}");
                }
                assert_eq!(&row[10], v["verdict"].as_str().unwrap_or(""));
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 7);
    let homepage_b = rows
        .iter()
        .find(|r| &r[0] == "homepage_cta" && &r[2] == "B");
    assert_eq!(&homepage_b.unwrap()[10], "inconclusive");
}

#[tokio::test]
async fn results_formats_are_json_by_default_csv_on_request_and_nothing_else() {
    let app = spawn_app_from(&config(3600, DEMO), None).await;
    let default = json(&app, "/results").await;
    let explicit = json(&app, "/results?format=json").await;
    assert_eq!(default["experiments"], explicit["experiments"]);
    let narrowed = get_with_token(&app, "/results?format=csv&experiment=homepage_cta").await;
    let text = narrowed.text().await.unwrap();
    assert_eq!(text.lines().count(), 5, "{text}");
    let refused = get_with_token(&app, "/results?format=xml").await;
    assert_eq!(error_code(refused, 400).await, "bad_request");
    assert_eq!(
        error_code(app.get("/results?format=csv").await, 401).await,
        "unauthorized"
    );
}
