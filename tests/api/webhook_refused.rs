//! `POST /webhook` with a batch of which nothing was taken: every item
//! refused is a 422 `all_rejected` carrying the usual summary, so that a
//! sender checking only the status sees the failure; one item counted,
//! duplicated or ignored keeps the 202.

use crate::helpers::{BASE, TestApp, spawn_app_from, spawn_app_with};
use crate::postgres::fresh_database;
use crate::webhook::{TOKEN, config, post_with_token};
use serde_json::{Value, json};

async fn post_with_key(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    app.client
        .post(app.url("/webhook"))
        .bearer_auth(TOKEN)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

async fn body(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status().as_u16(), status);
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_batch_of_which_every_item_is_refused_is_a_422_with_the_summary_beside_the_error() {
    let app = spawn_app_with(&config()).await;
    for batch in [
        json!([1, 2]),
        json!([
            {"user_id": "u1", "experiment": "nope", "variant": "A"},
            {"user_id": "u2", "experiment": "nope", "variant": "B"},
        ]),
    ] {
        let answer = body(post_with_token(&app, &batch).await, 422).await;
        assert_eq!(answer["error"]["code"], "all_rejected", "{answer}");
        assert_eq!(
            answer["error"]["message"],
            "no item of the batch was taken: all 2 were rejected"
        );
        assert_eq!(
            (
                &answer["accepted"],
                &answer["duplicates"],
                &answer["ignored"]
            ),
            (&json!(0), &json!(0), &json!(0))
        );
        let indices: Vec<&Value> = answer["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["index"])
            .collect();
        assert_eq!(indices, [&json!(0), &json!(1)], "{answer}");
    }
    assert!(app.counters().await.is_empty());
}

#[tokio::test]
async fn one_item_counted_duplicated_or_ignored_keeps_the_batch_a_202() {
    let app = spawn_app_with(&config()).await;
    let counted = json!([{"user_id": "u1", "version": "B"}, 1]);
    let answer = body(post_with_token(&app, &counted).await, 202).await;
    assert_eq!(answer["accepted"], 1);
    assert_eq!(answer["rejected"][0]["index"], 1);
    assert!(answer.get("error").is_none(), "{answer}");
    // The same conversion again is a duplicate: taken, not refused.
    let duplicated = body(post_with_token(&app, &counted).await, 202).await;
    assert_eq!(
        (&duplicated["accepted"], &duplicated["duplicates"]),
        (&json!(0), &json!(1))
    );
    let ignored = json!([{"user_id": "u3", "experiment": "archived", "variant": "A"}, 1]);
    let answer = body(post_with_token(&app, &ignored).await, 202).await;
    assert_eq!(
        (&answer["ignored"], &answer["accepted"]),
        (&json!(1), &json!(0))
    );
}

#[tokio::test]
async fn a_refused_batch_consumes_no_delivery_id_so_its_corrected_retry_is_applied() {
    let app = spawn_app_with(&config()).await;
    let broken = json!([{"user_id": "u1", "experiment": "nope", "variant": "A"}]);
    let answer = body(post_with_key(&app, "batch-1", &broken).await, 422).await;
    assert_eq!(answer["error"]["code"], "all_rejected");
    let fixed = json!([{"user_id": "u1", "version": "A"}]);
    let answer = body(post_with_key(&app, "batch-1", &fixed).await, 202).await;
    assert_eq!(answer["accepted"], 1);
    // Now the id is consumed.
    let again = body(post_with_key(&app, "batch-1", &fixed).await, 200).await;
    assert_eq!(again, json!({"duplicate_delivery": true}));
}

#[tokio::test]
async fn a_batch_the_store_refuses_entirely_consumes_no_delivery_id_either() {
    store_refuses_a_whole_batch(&spawn_app_with(&config()).await).await;
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn a_batch_postgres_refuses_entirely_consumes_no_delivery_id_either() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let toml = format!("{BASE}\n{}", config());
    store_refuses_a_whole_batch(&spawn_app_from(&toml, Some(url)).await).await;
}

async fn store_refuses_a_whole_batch(app: &TestApp) {
    // u1 becomes a participant of A; converting as B contradicts it, which
    // only the store knows.
    let view = json!({"user_id": "u1", "version": "A", "event": "page_view"});
    assert_eq!(post_with_token(app, &view).await.status(), 202);
    let contradicting = json!([{"user_id": "u1", "version": "B"}, {"user_id": "u1", "version": "B", "goal": "signup"}]);
    let answer = body(post_with_key(app, "batch-2", &contradicting).await, 422).await;
    assert_eq!(answer["error"]["code"], "all_rejected");
    assert_eq!(answer["rejected"][0]["code"], "variant_mismatch");
    assert_eq!(answer["rejected"][1]["code"], "variant_mismatch");
    let fixed = json!([{"user_id": "u1", "version": "A"}]);
    let answer = body(post_with_key(app, "batch-2", &fixed).await, 202).await;
    assert_eq!(answer["accepted"], 1);
    assert_eq!(
        app.counter("homepage_cta/A/conversions/conversion").await,
        1
    );
    assert_eq!(app.total("homepage_cta", "conversions").await, 1);
}
