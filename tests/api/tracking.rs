use crate::helpers::spawn_app;

#[tokio::test]
async fn the_demo_flow_records_one_participant_one_view_and_one_conversion() {
    let app = spawn_app().await;
    let variant = app.get("/get_content").await.headers()["x-variant"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(app.post("/track_view").await.status(), 204);
    assert_eq!(app.post("/track_conversion").await.status(), 204);
    let counters = app.counters().await;
    let key = |m: &str| format!("homepage_cta/{variant}/{m}");
    assert_eq!(counters[&key("participants")], 1);
    assert_eq!(counters[&key("views")], 1);
    assert_eq!(counters[&key("unique_views")], 1);
    assert_eq!(counters[&key("conversions/conversion")], 1);
    assert_eq!(counters.len(), 5, "{counters:?}");
}

#[tokio::test]
async fn a_repeated_click_answers_204_and_counts_once_but_shows_in_total_conversions() {
    let app = spawn_app().await;
    let variant = app.get("/get_content").await.headers()["x-variant"]
        .to_str()
        .unwrap()
        .to_owned();
    for _ in 0..3 {
        assert_eq!(app.post("/track_conversion").await.status(), 204);
    }
    assert_eq!(
        app.counter(&format!("homepage_cta/{variant}/conversions/conversion"))
            .await,
        1
    );
    assert_eq!(
        app.counter(&format!(
            "homepage_cta/{variant}/total_conversions/conversion"
        ))
        .await,
        3
    );
}

#[tokio::test]
async fn views_are_counted_in_total_and_per_unique_visitor() {
    let app = spawn_app().await;
    let variant = app.get("/get_content").await.headers()["x-variant"]
        .to_str()
        .unwrap()
        .to_owned();
    for _ in 0..4 {
        assert_eq!(app.post("/track_view").await.status(), 204);
    }
    assert_eq!(
        app.counter(&format!("homepage_cta/{variant}/views")).await,
        4
    );
    assert_eq!(
        app.counter(&format!("homepage_cta/{variant}/unique_views"))
            .await,
        1
    );
}

#[tokio::test]
async fn the_goal_can_come_from_the_query_or_a_json_body() {
    let app = spawn_app().await;
    let variant = app.get("/get_content").await.headers()["x-variant"]
        .to_str()
        .unwrap()
        .to_owned();
    let by_query = app
        .post("/track_conversion?experiment=homepage_cta&goal=signup")
        .await;
    assert_eq!(by_query.status(), 204);
    let by_body = app
        .client
        .post(app.url("/track_conversion"))
        .json(&serde_json::json!({"experiment": "homepage_cta", "goal": "conversion"}))
        .send()
        .await
        .unwrap();
    assert_eq!(by_body.status(), 204);
    assert_eq!(
        app.counter(&format!("homepage_cta/{variant}/conversions/signup"))
            .await,
        1
    );
    assert_eq!(
        app.counter(&format!("homepage_cta/{variant}/conversions/conversion"))
            .await,
        1
    );
}

#[tokio::test]
async fn tracking_without_an_assignment_is_409_and_counts_nothing() {
    let app = spawn_app().await;
    let view = app.post("/track_view").await;
    assert_eq!(crate::helpers::error_code(view, 409).await, "not_assigned");
    let conversion = app.post("/track_conversion").await;
    assert_eq!(
        crate::helpers::error_code(conversion, 409).await,
        "not_assigned"
    );
    assert!(app.counters().await.is_empty());
}

#[tokio::test]
async fn a_user_id_is_the_counting_unit_and_is_remembered_by_the_session() {
    let app = spawn_app().await;
    let variant = app
        .client
        .get(app.url("/get_content"))
        .header("X-User-Id", "customer-42")
        .send()
        .await
        .unwrap()
        .headers()["x-variant"]
        .to_str()
        .unwrap()
        .to_owned();
    // The page's JS sends no header: the session remembers the unit.
    assert_eq!(app.post("/track_conversion").await.status(), 204);
    // Another browser of the same user keeps the recorded variant and cannot convert twice.
    let other = crate::helpers::browser();
    for _ in 0..5 {
        let response = other
            .get(app.url("/get_content"))
            .header("X-User-Id", "customer-42")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["x-variant"], variant.as_str());
    }
    let repeat = other
        .post(app.url("/track_conversion"))
        .send()
        .await
        .unwrap();
    assert_eq!(repeat.status(), 204);
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
    assert_eq!(
        app.counter(&format!("homepage_cta/{variant}/conversions/conversion"))
            .await,
        1
    );
}

#[tokio::test]
async fn a_unit_enrolled_twice_in_one_commit_is_one_participant_of_the_first_variant() {
    use splitcast::names::{ExperimentName, VariantName};
    use splitcast::store::{Action, Applied, Event, Source, Store, Write, Written};
    let app = spawn_app().await;
    let event = |unit: &str, variant: &str| Event {
        experiment: ExperimentName::parse("homepage_cta").unwrap(),
        variant: VariantName::parse(variant).unwrap(),
        unit_id: unit.to_owned(),
        action: Action::Enroll,
        source: Source::Browser,
        event_id: None,
        at: 0,
    };
    let outcomes = app
        .store
        .apply(&[
            Write::events(vec![event("u", "A")]),
            Write::events(vec![event("u", "B")]),
            Write::events(vec![event("v", "B")]),
        ])
        .await
        .unwrap();
    let enrolled = |new: bool, variant: &str| {
        Written::Applied(vec![Applied::Enrolled {
            new,
            variant: variant.to_owned(),
        }])
    };
    assert_eq!(
        outcomes,
        [
            enrolled(true, "A"),
            enrolled(false, "A"),
            enrolled(true, "B")
        ]
    );
    assert_eq!(app.counter("homepage_cta/A/participants").await, 1);
    assert_eq!(app.counter("homepage_cta/B/participants").await, 1);
}
