//! A typed wrapper over actix-session: handlers read and change a
//! [`VisitorState`] and never touch string keys. A tampered, expired or
//! undecodable cookie is a new visitor, never an error.

mod state;
mod user_id;

pub use state::{Assignment, VisitorState};
pub use user_id::UserId;

use crate::configuration::{ContentSecurity, SameSitePolicy, SessionSettings};
use actix_session::config::{CookieContentSecurity, PersistentSession};
use actix_session::storage::CookieSessionStore;
use actix_session::{Session, SessionExt, SessionMiddleware};
use actix_web::cookie::{SameSite, time::Duration};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use std::future::{Ready, ready};

const STATE_KEY: &str = "v";

/// The session middleware as configured.
pub fn middleware(settings: &SessionSettings) -> SessionMiddleware<CookieSessionStore> {
    let security = match settings.content_security {
        ContentSecurity::Signed => CookieContentSecurity::Signed,
        ContentSecurity::Private => CookieContentSecurity::Private,
    };
    let same_site = match settings.same_site {
        SameSitePolicy::Lax => SameSite::Lax,
        SameSitePolicy::Strict => SameSite::Strict,
        SameSitePolicy::None => SameSite::None,
    };
    let lifetime =
        PersistentSession::default().session_ttl(Duration::days(i64::from(settings.max_age_days)));
    SessionMiddleware::builder(CookieSessionStore::default(), settings.key.clone())
        .cookie_name(settings.cookie_name.clone())
        .cookie_content_security(security)
        .cookie_secure(settings.secure)
        .cookie_http_only(true)
        .cookie_same_site(same_site)
        .cookie_path("/".into())
        .session_lifecycle(lifetime)
        .build()
}

/// The visitor behind a request.
pub struct VisitorSession {
    session: Session,
    state: VisitorState,
    changed: bool,
}

impl VisitorSession {
    /// Reads the visitor from the request's session, or starts a new one.
    pub fn load(session: Session) -> Self {
        let stored = session.get::<String>(STATE_KEY).ok().flatten();
        let existing = stored.as_deref().and_then(VisitorState::decode);
        let changed = existing.is_none() && stored.is_some();
        Self {
            session,
            state: existing.unwrap_or_else(VisitorState::new_visitor),
            changed,
        }
    }

    /// The visitor's state.
    pub fn state(&self) -> &VisitorState {
        &self.state
    }

    /// Changes the state; it is written back by [`VisitorSession::save`].
    pub fn update(&mut self, change: impl FnOnce(&mut VisitorState)) {
        change(&mut self.state);
        self.changed = true;
    }

    /// Writes the state into the cookie if it changed.
    pub fn save(self) -> Result<(), SessionError> {
        if self.changed {
            self.session
                .insert(STATE_KEY, self.state.encode())
                .map_err(|e| SessionError::Save(e.to_string()))?;
        }
        Ok(())
    }
}

impl FromRequest for VisitorSession {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(Self::load(req.get_session())))
    }
}

/// What the visitor's session can fail with (mapped to HTTP in `error.rs`).
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// An `X-User-Id` that is not one.
    #[error("{0}")]
    BadUserId(&'static str),
    /// An `X-User-Id` without the proof the configuration asks for.
    #[error("{0}")]
    UnprovenUserId(&'static str),
    /// The state could not be written into the cookie.
    #[error("cannot save the session: {0}")]
    Save(String),
}
