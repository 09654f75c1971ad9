//! The snippet for a logged-in user, in a real browser: the site's backend
//! renders the user id and its proof into the page, and the user counts as
//! one participant with one conversion on every device.

use super::driver;
use crate::helpers::{BASE, Patch, spawn_app_from};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use splitcast::store::SqlStore;

const SECRET: &str = "user-id-secret-shared-with-the-site-backend";
const USER: &str = "customer-42";

/// What the site's backend computes for the page: hex HMAC-SHA256 of the id.
fn proof(id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A site page as README shows it, with its script in a file of its own.
fn write_site(dir: &std::path::Path) {
    std::fs::write(
        dir.join("splitcast.js"),
        include_str!("../../../static/splitcast.js"),
    )
    .unwrap();
    std::fs::write(
        dir.join("index.html"),
        r#"<!doctype html><html><head><meta charset="utf-8"><title>shop</title></head><body>
<h1 id="headline">Welcome to our amazing service!</h1>
<button id="cta" type="button">Get started</button><p id="status"></p>
<script src="/splitcast.js"></script><script src="/page.js"></script></body></html>"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("page.js"),
        format!(
            r#"splitcast.run({{
  userId: "{USER}",                 // rendered by the site's backend for the logged-in user
  userIdSignature: "{}",            // hex HMAC-SHA256 of the id under session.user_id_secret
  headline: document.getElementById("headline"),
  button: document.getElementById("cta"),
  status: document.getElementById("status"),
}});"#,
            proof(USER)
        ),
    )
    .unwrap();
}

async fn units(store: &SqlStore) -> Vec<String> {
    sqlx::query_scalar("SELECT unit_id FROM participants")
        .fetch_all(store.pool())
        .await
        .unwrap()
}

#[tokio::test]
#[cfg_attr(
    not(has_browser),
    ignore = "needs /usr/bin/chromium and chromedriver (apt-get install chromium chromium-driver)"
)]
async fn a_logged_in_user_is_one_participant_with_one_conversion_on_two_devices() {
    let Some(driver) = driver::start().await else {
        return;
    };
    let site = tempfile::tempdir().unwrap();
    write_site(site.path());
    let config =
        BASE.patched(
            "[server]",
            &format!("[server]\nstatic_dir = \"{}\"", site.path().display()),
        )
        .patched(
            "[session]",
            &format!("[session]\nuser_id_secret = \"{SECRET}\""),
        ) + crate::helpers::DEMO;
    let app = spawn_app_from(&config, None).await;
    let mut variants = Vec::new();
    for device in 0..2 {
        let browser = driver.browser().await;
        browser.open(&app.url("/"), "#cta").await;
        variants.push(browser.attr("#cta", "data-variant").await);
        browser.click("#cta").await;
        browser
            .text_when("#status", |t| t.contains("counted"))
            .await;
        browser
            .screenshot(&format!("logged-in-device-{device}"))
            .await;
        browser.close().await;
    }
    assert_eq!(
        variants[0], variants[1],
        "the recorded variant on both devices"
    );
    assert_eq!(units(&app.store).await, [USER]);
    let of = |metric: &str| format!("homepage_cta/{}/{metric}", variants[0]);
    assert_eq!(app.counter(&of("participants")).await, 1);
    assert_eq!(app.counter(&of("conversions/conversion")).await, 1);
    assert_eq!(app.counter(&of("total_conversions/conversion")).await, 2);
}
