use crate::helpers::Patch;
use crate::helpers::{BASE, DEMO, spawn_app, spawn_app_from, spawn_app_with};

fn session_cookie(response: &reqwest::Response) -> String {
    let header = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    header.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_session_cookie_is_httponly_lax_persistent_and_signed() {
    let app = spawn_app().await;
    let response = app.get("/get_content").await;
    let header = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(header.starts_with("splitcast="), "{header}");
    assert!(header.contains("HttpOnly"));
    assert!(header.contains("SameSite=Lax"));
    assert!(header.contains("Path=/"));
    assert!(header.contains("Max-Age=7776000"), "{header}");
    // Signed, not encrypted: the compact state is readable in the value.
    assert!(header.contains("1~"), "{header}");
}

#[tokio::test]
async fn a_tampered_cookie_is_a_new_visitor_not_an_error() {
    let app = spawn_app().await;
    let first = app.get("/get_content").await;
    let cookie = session_cookie(&first);
    let plain = reqwest::Client::new();
    let variant = first.headers()["x-variant"].to_str().unwrap().to_owned();
    let other = if variant == "A" { "B" } else { "A" };
    let flipped = cookie.replace(&format!(".{variant}"), &format!(".{other}"));
    assert_ne!(flipped, cookie);
    for forged in [
        format!("{cookie}x"),
        flipped,
        "splitcast=garbage".to_owned(),
        "splitcast=%7B%22v%22%3A%22%5C%22x%5C%22%22%7D".to_owned(),
        cookie[..cookie.len() / 2].to_owned(),
    ] {
        let response = plain
            .get(app.url("/get_content"))
            .header("Cookie", &forged)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{forged}");
        assert!(
            response.headers().contains_key("set-cookie"),
            "a new visitor gets a new cookie"
        );
    }
    assert_eq!(app.total("homepage_cta", "participants").await, 6);
}

#[tokio::test]
async fn with_twenty_experiments_the_cookie_stays_under_one_kilobyte() {
    let mut config = String::new();
    for i in 0..20 {
        config.push_str(&format!(
            "[experiments.experiment_number_{i:02}]\n{}\n[[experiments.experiment_number_{i:02}.variants]]\nname = \"control\"\nweight = 1\ncontent = {{}}\n[[experiments.experiment_number_{i:02}.variants]]\nname = \"treatment\"\nweight = 1\ncontent = {{}}\n",
            if i == 0 { "default = true\ngoals = [\"conversion\", \"signup\"]" } else { "" }
        ));
    }
    let app = spawn_app_with(&config).await;
    let mut last = None;
    for i in 0..20 {
        let response = app
            .get(&format!("/get_content?experiment=experiment_number_{i:02}"))
            .await;
        last = Some(
            response.headers()["set-cookie"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    app.post("/track_conversion").await;
    let response = app.post("/track_conversion?goal=signup").await;
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|c| c.to_str().unwrap().to_owned())
        .or(last)
        .unwrap();
    let value = cookie.split(';').next().unwrap();
    assert!(value.len() < 1024, "{} bytes: {value}", value.len());
}

#[tokio::test]
async fn private_sessions_are_encrypted_and_work_the_same() {
    let config = format!(
        "{}\n{DEMO}",
        BASE.patched("[session]", "[session]\ncontent_security = \"private\"")
    );
    let app = spawn_app_from(&config, None).await;
    let response = app.get("/get_content").await;
    let cookie = session_cookie(&response);
    assert!(
        !cookie.contains("1~"),
        "the state must not be readable: {cookie}"
    );
    let variant = response.headers()["x-variant"].clone();
    assert_eq!(
        app.get("/get_content").await.headers()["x-variant"],
        variant
    );
    assert_eq!(app.post("/track_conversion").await.status(), 204);
}

#[tokio::test]
async fn an_assignment_to_a_removed_variant_is_replaced() {
    // Same session key, but the first configuration only ever assigns C.
    let only_c = DEMO.patched("weight = 50", "weight = 0").patched(
        "[[experiments.homepage_cta.variants]]\nname = \"B\"",
        "[[experiments.homepage_cta.variants]]\nname = \"C\"\nweight = 1\ncontent = {}\n[[experiments.homepage_cta.variants]]\nname = \"B\"",
    );
    let with_c = spawn_app_with(&only_c).await;
    let plain = reqwest::Client::new();
    let assigned_c = plain.get(with_c.url("/get_content")).send().await.unwrap();
    assert_eq!(assigned_c.headers()["x-variant"], "C");
    let c_cookie = session_cookie(&assigned_c);
    let without_c = spawn_app().await;
    let replaced = plain
        .get(without_c.url("/get_content"))
        .header("Cookie", &c_cookie)
        .send()
        .await
        .unwrap();
    let variant = replaced.headers()["x-variant"].to_str().unwrap().to_owned();
    assert!(variant == "A" || variant == "B", "{variant}");
    assert!(replaced.headers().contains_key("set-cookie"));
    assert_eq!(without_c.total("homepage_cta", "participants").await, 1);
}

#[tokio::test]
async fn cors_allows_credentials_only_for_configured_origins() {
    let config = format!(
        "{}\n{DEMO}",
        BASE.patched(
            "[server]",
            "[server]\ncors_allowed_origins = [\"https://shop.example\"]"
        )
    );
    let app = spawn_app_from(&config, None).await;
    let allowed = app
        .client
        .get(app.url("/get_content"))
        .header("Origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let other = app
        .client
        .get(app.url("/get_content"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/track_conversion"))
        .header("Origin", "https://shop.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 200);
}

#[tokio::test]
async fn assignments_of_experiments_that_no_longer_exist_leave_the_cookie() {
    let retired = r#"
[experiments.retired_test]
variants = [{ name = "A", weight = 50 }, { name = "B", weight = 50 }]
"#;
    let before = spawn_app_with(&format!("{DEMO}{retired}")).await;
    let plain = reqwest::Client::new();
    let first = plain
        .get(before.url("/get_content?experiment=retired_test"))
        .send()
        .await
        .unwrap();
    let cookie = session_cookie(&first);
    assert!(cookie.contains("retired_test"), "{cookie}");
    // The same session key, and the experiment gone from the configuration.
    let after = spawn_app().await;
    let answer = plain
        .get(after.url("/get_content"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap();
    let pruned = session_cookie(&answer);
    assert!(!pruned.contains("retired_test"), "{pruned}");
    assert!(pruned.contains("homepage_cta"), "{pruned}");
}

#[tokio::test]
async fn a_repeated_user_id_request_that_enrols_no_one_is_not_counted_as_an_enrolment() {
    let app = spawn_app().await;
    for _ in 0..3 {
        // A new browser each time: the store, not the cookie, knows the user.
        let response = crate::helpers::browser()
            .get(app.url("/get_content"))
            .header("X-User-Id", "customer-42")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let enrolments: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("splitcast_events_total") && l.contains("action=\"enroll\""))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(enrolments, 1.0, "{metrics}");
    assert_eq!(app.total("homepage_cta", "participants").await, 1);
}
