//! The same behaviour on PostgreSQL, and two instances sharing one database.
//! Needs `SPLITCAST_TEST_DATABASE_URL` (CI sets it): built without it, every
//! PostgreSQL test is ignored with that reason (`build.rs`); run anyway, it
//! prints `SKIPPED`; under `CI` it fails.

use crate::helpers::{BASE, DEMO, browser, post_status, spawn_app_from};

/// A fresh database on the test server, or `None` (with a printed reason).
pub async fn fresh_database() -> Option<String> {
    let Ok(admin_url) = std::env::var("SPLITCAST_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the PostgreSQL tests: set SPLITCAST_TEST_DATABASE_URL"
        );
        eprintln!("SKIPPED: SPLITCAST_TEST_DATABASE_URL is not set; PostgreSQL tests did not run");
        return None;
    };
    sqlx::any::install_default_drivers();
    let name = format!("splitcast_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::AnyPool::connect(&admin_url)
        .await
        .expect("the test PostgreSQL is reachable");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let base = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn two_instances_on_one_postgres_share_visitors_and_counts() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let config = format!("{BASE}\n{DEMO}");
    let one = spawn_app_from(&config, Some(url.clone())).await;
    let two = spawn_app_from(&config, Some(url)).await;
    let visitor = browser();
    let mut variants = Vec::new();
    for i in 0..30 {
        let app = if i % 2 == 0 { &one } else { &two };
        let response = visitor.get(app.url("/get_content")).send().await.unwrap();
        variants.push(response.headers()["x-variant"].to_str().unwrap().to_owned());
        assert_eq!(post_status(&visitor, app.url("/track_view")).await, 204);
    }
    assert!(variants.windows(2).all(|w| w[0] == w[1]), "{variants:?}");
    assert_eq!(
        post_status(&visitor, two.url("/track_conversion")).await,
        204
    );
    assert_eq!(
        post_status(&visitor, one.url("/track_conversion")).await,
        204
    );
    let v = &variants[0];
    for app in [&one, &two] {
        assert_eq!(
            app.counter(&format!("homepage_cta/{v}/participants")).await,
            1
        );
        assert_eq!(app.counter(&format!("homepage_cta/{v}/views")).await, 30);
        assert_eq!(
            app.counter(&format!("homepage_cta/{v}/unique_views")).await,
            1
        );
        assert_eq!(
            app.counter(&format!("homepage_cta/{v}/conversions/conversion"))
                .await,
            1
        );
        assert_eq!(
            app.counter(&format!("homepage_cta/{v}/total_conversions/conversion"))
                .await,
            2
        );
    }
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn concurrent_new_visitors_on_two_instances_add_up_exactly() {
    let Some(url) = fresh_database().await else {
        return;
    };
    let config = format!("{BASE}\n{DEMO}");
    let one = spawn_app_from(&config, Some(url.clone())).await;
    let two = spawn_app_from(&config, Some(url)).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let base = if i % 2 == 0 {
            one.address.clone()
        } else {
            two.address.clone()
        };
        tasks.push(tokio::spawn(async move {
            let client = browser();
            client
                .get(format!("{base}/get_content"))
                .send()
                .await
                .unwrap();
            assert_eq!(
                post_status(&client, format!("{base}/track_conversion")).await,
                204
            );
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(one.total("homepage_cta", "participants").await, 200);
    assert_eq!(two.total("homepage_cta", "conversions").await, 200);
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs SPLITCAST_TEST_DATABASE_URL (a PostgreSQL it may create databases on)"
)]
async fn two_instances_share_one_outbox_and_send_each_notification_once() {
    use crate::helpers::{events_in_blip_messages, received_bodies, stays_true, wait_until};
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::method};
    let Some(url) = fresh_database().await else {
        return;
    };
    let blip = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&blip)
        .await;
    let config = format!(
        "{BASE}\n{DEMO}\n[notify]\npage_view = \"digest\"\ndigest_interval_secs = 1\n\
         [notifiers.blip]\nkind = \"bliphq\"\nurl = \"{}/n\"\napi_key = \"k\"\nevents = [\"conversion\", \"digest\"]\n",
        blip.uri()
    );
    let one = spawn_app_from(&config, Some(url.clone())).await;
    let two = spawn_app_from(&config, Some(url)).await;
    for i in 0..40 {
        let app = if i % 2 == 0 { &one } else { &two };
        let client = browser();
        client.get(app.url("/get_content")).send().await.unwrap();
        assert_eq!(post_status(&client, app.url("/track_view")).await, 204);
        assert_eq!(
            post_status(&client, app.url("/track_conversion")).await,
            204
        );
    }
    let of_kind = |bodies: &[serde_json::Value], kind: &str| -> Vec<serde_json::Value> {
        bodies
            .iter()
            .filter(|b| b["tags"][1] == kind)
            .cloned()
            .collect()
    };
    wait_until(
        std::time::Duration::from_secs(30),
        "40 conversions and 40 views",
        || async {
            let all = received_bodies(&blip).await;
            events_in_blip_messages(&of_kind(&all, "conversion")) >= 40
                && events_in_blip_messages(&of_kind(&all, "page_view")) >= 40
                && one.store.pending("blip").await.unwrap() == 0
        },
    )
    .await;
    // A second claim of a row, or a digest counted twice, would arrive
    // later: three seconds outlast the 1 s digest interval and the workers'
    // 1 s idle pause twice over, with both instances still running.
    let exactly_forty = || async {
        let all = received_bodies(&blip).await;
        events_in_blip_messages(&of_kind(&all, "conversion")) == 40
            && events_in_blip_messages(&of_kind(&all, "page_view")) == 40
    };
    stays_true(
        std::time::Duration::from_secs(3),
        "each conversion once, digests adding up to exactly 40 views",
        exactly_forty,
    )
    .await;
    assert_eq!(two.store.pending("blip").await.unwrap(), 0);
}
