//! The headers every answer carries so that a browser treats splitcast's
//! pages and files strictly: no script, style or frame from elsewhere, no
//! framing by another site (clickjacking the lifecycle buttons), no content
//! sniffing, no referrer leaking a dashboard URL. The dashboard and the demo
//! page load only their own files (no inline script or style), which is
//! what lets the policy be `default-src 'self'`.

use actix_web::middleware::DefaultHeaders;

/// The Content-Security-Policy of every answer (it only binds documents:
/// `splitcast.js` embedded in a customer's page runs under that page's
/// policy, not this one).
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The middleware; a header a handler set itself is kept.
pub fn middleware() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        // For browsers that predate `frame-ancestors`.
        .add(("X-Frame-Options", "DENY"))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "no-referrer"))
}
