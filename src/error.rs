//! The HTTP error type: every client error is a 4xx with a JSON body of the
//! form `{"error": {"code": "...", "message": "..."}}`; a 5xx body never
//! carries internals, whose cause chain goes to the log instead.

use crate::echo::{cut_message, echo};
use crate::ingest::{RejectCode, Rejection, Summary};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// Everything a handler can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request names an experiment that is not configured.
    #[error("unknown experiment {}", echo(.0))]
    UnknownExperiment(String),
    /// The request names a goal the experiment does not have.
    #[error("unknown goal {}", echo(.0))]
    UnknownGoal(String),
    /// The request names a variant the experiment does not have.
    #[error("unknown variant {}", echo(.0))]
    UnknownVariant(String),
    /// A view or conversion from a visitor with no assignment.
    #[error("the visitor has no assignment in experiment {}", echo(.0))]
    NotAssigned(String),
    /// Malformed input.
    #[error("{0}")]
    BadRequest(String),
    /// An `X-User-Id` without the proof the configuration asks for.
    #[error("{0}")]
    UnprovenUserId(String),
    /// A body over `server.max_body_bytes`.
    #[error("the body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// A single webhook event refused, with the item's own code.
    #[error("{}", .0.message)]
    Rejected(Rejection),
    /// A webhook batch of which every item was refused; answered with the
    /// summary beside the error object, so the sender sees each reason.
    #[error("no item of the batch was taken: all {} were rejected", .0.rejected.len())]
    AllRejected(Summary),
    /// The body did not arrive within `server.body_timeout_secs`.
    #[error("the request body did not arrive in time")]
    RequestTimeout,
    /// A missing or wrong token.
    #[error("missing or invalid credentials")]
    Unauthorized,
    /// An admin write from a page of another origin (cross-site request).
    #[error(
        "the Origin of this request is neither this server nor one of server.cors_allowed_origins"
    )]
    ForbiddenOrigin,
    /// An admin POST that does not declare a JSON body.
    #[error("the body must be sent as Content-Type: application/json")]
    UnsupportedMediaType,
    /// No such route.
    #[error("no such resource")]
    NotFound,
    /// `POST /webhook` while neither ingest credential is configured.
    #[error(
        "POST /webhook is off: set ingest.token (SPLITCAST__INGEST__TOKEN) or \
         ingest.signing_secret (SPLITCAST__INGEST__SIGNING_SECRET) to turn it on"
    )]
    IngestDisabled,
    /// The client caused more writes than `[limits]` allows; nothing was recorded.
    #[error("too many writes from this client; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds until the client's next write is admitted.
        retry_after_secs: u64,
    },
    /// The route exists for other methods.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A run-time status change the experiment cannot take.
    #[error("{0}")]
    InvalidChange(String),
    /// A reload found the configuration file invalid; nothing changed.
    #[error("{0}")]
    InvalidConfig(String),
    /// The store cannot take or serve data now; the sender should retry.
    #[error("the event store is unavailable; retry later")]
    StoreUnavailable,
    /// A bug or an infrastructure failure; details are logged, not sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl ApiError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownExperiment(_) => "unknown_experiment",
            Self::UnknownGoal(_) => "unknown_goal",
            Self::UnknownVariant(_) => "unknown_variant",
            Self::NotAssigned(_) => "not_assigned",
            Self::BadRequest(_) => "bad_request",
            Self::UnprovenUserId(_) => "unproven_user_id",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Rejected(rejection) => rejection.code.as_str(),
            Self::AllRejected(_) => "all_rejected",
            Self::RequestTimeout => "request_timeout",
            Self::Unauthorized => "unauthorized",
            Self::ForbiddenOrigin => "forbidden_origin",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::NotFound => "not_found",
            Self::IngestDisabled => "ingest_disabled",
            Self::RateLimited { .. } => "rate_limited",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::InvalidChange(_) => "invalid_change",
            Self::InvalidConfig(_) => "invalid_config",
            Self::StoreUnavailable => "store_unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// Wraps an infrastructure failure.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    /// A storage failure, answered 503 so that nothing is acknowledged that
    /// is not durable. The writer logs the cause once per failed batch; per
    /// request it is only worth a debug line.
    pub fn store(error: impl std::fmt::Debug) -> Self {
        tracing::debug!(error = ?error, "answering 503: the store failed");
        Self::StoreUnavailable
    }
}

/// Seconds a client is asked to wait after a 503.
pub const RETRY_AFTER_SECS: u64 = 1;

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::UnknownExperiment(_) | Self::UnknownGoal(_) | Self::UnknownVariant(_) => {
                StatusCode::NOT_FOUND
            }
            Self::NotFound | Self::IngestDisabled => StatusCode::NOT_FOUND,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Rejected(rejection) => match rejection.code {
                RejectCode::UnknownExperiment
                | RejectCode::UnknownVariant
                | RejectCode::UnknownGoal => StatusCode::NOT_FOUND,
                RejectCode::VariantRequired
                | RejectCode::VariantMismatch
                | RejectCode::NotEnrolled
                | RejectCode::BadEvent => StatusCode::UNPROCESSABLE_ENTITY,
            },
            Self::NotAssigned(_) => StatusCode::CONFLICT,
            Self::InvalidChange(_) | Self::InvalidConfig(_) | Self::AllRejected(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::BadRequest(_) | Self::UnprovenUserId(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::ForbiddenOrigin => StatusCode::FORBIDDEN,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::StoreUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error = ?cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            Self::Unauthorized => {
                response.insert_header(("WWW-Authenticate", "Bearer"));
            }
            Self::StoreUnavailable => {
                response.insert_header(("Retry-After", RETRY_AFTER_SECS.to_string()));
            }
            Self::RateLimited { retry_after_secs } => {
                response.insert_header(("Retry-After", retry_after_secs.to_string()));
            }
            // The rest of the body may never come: the connection is not reused.
            Self::RequestTimeout => {
                response.force_close();
            }
            _ => {}
        }
        let error = json!({"code": self.code(), "message": cut_message(&self.to_string())});
        match self {
            Self::AllRejected(summary) => {
                let mut body = json!(summary);
                body["error"] = error;
                response.json(body)
            }
            _ => response.json(json!({ "error": error })),
        }
    }
}

impl From<crate::client_limit::Limited> for ApiError {
    fn from(limited: crate::client_limit::Limited) -> Self {
        Self::RateLimited {
            retry_after_secs: limited.retry_after_secs,
        }
    }
}

impl From<crate::live::LifecycleError> for ApiError {
    fn from(error: crate::live::LifecycleError) -> Self {
        use crate::live::LifecycleError;
        match error {
            LifecycleError::UnknownExperiment(name) => Self::UnknownExperiment(name),
            LifecycleError::InvalidChange(message) => Self::InvalidChange(message),
            LifecycleError::Store(error) => Self::store(error),
        }
    }
}

impl From<crate::live::ReloadError> for ApiError {
    fn from(error: crate::live::ReloadError) -> Self {
        use crate::live::ReloadError;
        match error {
            ReloadError::Config(error) => Self::InvalidConfig(error.to_string()),
            ReloadError::Store(error) => Self::store(error),
        }
    }
}

impl From<crate::ingest::IngestError> for ApiError {
    fn from(error: crate::ingest::IngestError) -> Self {
        use crate::ingest::IngestError;
        match error {
            IngestError::Malformed(message) => Self::BadRequest(message),
            IngestError::Unauthorized => Self::Unauthorized,
        }
    }
}

impl From<crate::session::SessionError> for ApiError {
    fn from(error: crate::session::SessionError) -> Self {
        use crate::session::SessionError;
        match error {
            SessionError::BadUserId(message) => Self::BadRequest(message.to_owned()),
            SessionError::UnprovenUserId(message) => Self::UnprovenUserId(message.to_owned()),
            save @ SessionError::Save(_) => Self::internal(save),
        }
    }
}
