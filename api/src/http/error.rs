//! The API's one error shape, `{"error": {"code", "message", "details"}}`, and where
//! every kind of failure is turned into it: domain refusals, database trouble (bad
//! input is refused by the extractors of `http::extract`).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::command::{CommandError, ErrorKind};
use serde::Serialize;
use serde_json::{Value, json};
use tracing::error;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, machine-readable: clients branch on it.
    pub code: &'static str,
    /// For people: what is wrong and, where it helps, what to do.
    pub message: String,
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// 422 naming the offending field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
            .with_details(json!({ "field": field }))
    }

    /// 500 that tells the caller nothing internal; the cause goes to the log.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        error!(%cause, "a request failed inside");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on our side; try again",
        )
    }
}

/// The body of every error answer of the API.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong. (Fields in alphabetical order, as the body has always had them.)
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({
    "code": "invalid_input",
    "details": { "field": "subject" },
    "message": "the subject must be 1 to 200 characters"
})))]
pub struct ErrorDetail {
    /// Stable, machine-readable: clients branch on it (`invalid_input`, `not_found`,
    /// `forbidden`, `invalid_state`, `conflict`, `unauthorized`, `token_expired`,
    /// `rate_limited`, `timeout`, `malformed_json`, `nul_character`, `internal`, ...).
    pub code: &'static str,
    /// More about it, or `null`: a 422 names the offending field in `field`; a 429 or
    /// a 503 may say `retry_after_seconds`.
    #[schema(value_type = Option<Object>, required = true)]
    pub details: Value,
    /// For people: what is wrong and, where it helps, what to do.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                details: self.details,
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// Refusals of use cases and queries, mapped in this one place: the kind decides the
/// status, a stable code the use case gives wins over the kind's, and bad input names
/// its field in `details.field`.
impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        let (status, code) = match error.kind {
            ErrorKind::InvalidInput => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
            ErrorKind::InvalidState => (StatusCode::CONFLICT, "invalid_state"),
            ErrorKind::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict"),
            ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ErrorKind::Upstream => (StatusCode::BAD_GATEWAY, "upstream_refused"),
            ErrorKind::Internal => return ApiError::internal(error.message),
        };
        let answer = ApiError::new(status, error.code.unwrap_or(code), error.message);
        match (error.kind, error.field) {
            (ErrorKind::InvalidInput, Some(field)) => {
                answer.with_details(json!({ "field": field }))
            }
            _ => answer,
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::internal(error)
    }
}

/// 404 naming what was not found.
pub fn not_found(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such {what}"),
    )
}

/// `value`, or 404 "no such `what`".
pub fn found<T>(value: Option<T>, what: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| not_found(what))
}

/// `value`, or 503 (`message`) when a write succeeded but its read model does not
/// show it yet.
pub fn visible<T>(value: Option<T>, message: &'static str) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_yet_visible", message))
}
