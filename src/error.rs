//! The HTTP error type: every client error is a 4xx with a JSON body of the
//! form `{"error": {"code": "...", "message": "..."}}`; a 5xx body never
//! carries internals, whose cause chain goes to the log instead.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// Everything a handler can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request names an experiment that is not configured.
    #[error("unknown experiment {0:?}")]
    UnknownExperiment(String),
    /// The request names a goal the experiment does not have.
    #[error("unknown goal {0:?}")]
    UnknownGoal(String),
    /// The request names a variant the experiment does not have.
    #[error("unknown variant {0:?}")]
    UnknownVariant(String),
    /// A view or conversion from a visitor with no assignment.
    #[error("the visitor has no assignment in experiment {0:?}")]
    NotAssigned(String),
    /// Malformed input.
    #[error("{0}")]
    BadRequest(String),
    /// A body over `server.max_body_bytes`.
    #[error("the body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// A missing or wrong token.
    #[error("missing or invalid credentials")]
    Unauthorized,
    /// No such route.
    #[error("no such resource")]
    NotFound,
    /// The route exists for other methods.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A dependency (the store) is unreachable.
    #[error("{0}")]
    Unavailable(String),
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
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    /// Wraps an infrastructure failure.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::UnknownExperiment(_) | Self::UnknownGoal(_) | Self::UnknownVariant(_) => {
                StatusCode::NOT_FOUND
            }
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::NotAssigned(_) => StatusCode::CONFLICT,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::Internal(cause) = self {
            tracing::error!(error = ?cause, "request failed");
        }
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, Self::Unauthorized) {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        response.json(json!({"error": {"code": self.code(), "message": self.to_string()}}))
    }
}
