//! Every page and file answers with the security headers: a strict CSP, no
//! framing, no sniffing, no referrer. (That the pages still work under the
//! CSP is the browser test `browser::csp`.)

use crate::helpers::spawn_app;

#[tokio::test]
async fn pages_scripts_and_api_answers_carry_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/dashboard",
        "/splitcast.js",
        "/demo.js",
        "/dashboard.js",
        "/dashboard.css",
        "/get_content",
        "/no-such-page",
    ] {
        let answer = app.get(path).await;
        let header = |name: &str| {
            answer
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(
            header("content-security-policy"),
            "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            "{path}"
        );
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
    }
}

#[tokio::test]
async fn the_pages_hold_no_inline_script_or_style() {
    let app = spawn_app().await;
    for path in ["/", "/dashboard"] {
        let html = app.get(path).await.text().await.unwrap();
        assert!(!html.contains("<script>"), "{path} has an inline script");
        assert!(!html.contains("<style"), "{path} has an inline style sheet");
        assert!(!html.contains("style="), "{path} has a style attribute");
        assert!(!has_inline_handler(&html), "{path} has an inline handler");
    }
}

/// Whether `html` has an attribute like ` onclick=`.
fn has_inline_handler(html: &str) -> bool {
    html.match_indices(" on").any(|(at, _)| {
        let rest = &html[at + 3..];
        let name = rest.chars().take_while(char::is_ascii_lowercase).count();
        name > 0 && rest[name..].starts_with('=')
    })
}
