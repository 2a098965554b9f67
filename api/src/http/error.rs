//! The API's one error shape, `{"error": {"code", "message", "details"}}`, and where
//! every kind of failure is turned into it: domain refusals, bad JSON, database
//! trouble.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::command::{CommandError, ErrorKind};
use serde::Serialize;
use serde::de::DeserializeOwned;
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
    /// `rate_limited`, `timeout`, `malformed_json`, `internal`, ...).
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

/// `Json<T>` whose rejections use the API's error shape: 400 for a body that is not
/// JSON (or not declared as JSON), 422 naming the field for one of the wrong shape.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<Value>::from_request(request, state).await.map_err(
            |rejection| match rejection {
                JsonRejection::MissingJsonContentType(_) => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the body as JSON with Content-Type: application/json",
                ),
                JsonRejection::BytesRejection(_) => ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    "the request body is too large",
                ),
                other => ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    format!("the body is not valid JSON: {}", other.body_text()),
                ),
            },
        )?;
        from_json(value).map(ApiJson)
    }
}

/// `Query<T>` whose rejections use the API's error shape (422 naming the parameter
/// when serde says which).
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| {
                let path = error.path().to_string();
                let message = error.into_inner().to_string();
                let field = message
                    .strip_prefix("unknown field `")
                    .and_then(|rest| rest.split('`').next())
                    .map(str::to_owned)
                    .unwrap_or(if path == "." {
                        "query".to_owned()
                    } else {
                        path
                    });
                ApiError::invalid_field(&field, message)
            })
    }
}

/// `Path<T>` whose rejections use the API's error shape: a malformed id in the path
/// is 404 (there is no such thing), naming the parameter.
pub struct ApiPath<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|rejection| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("nothing is at this address: {}", rejection.body_text()),
                )
            })
    }
}

/// Reads `Option<Option<T>>` so that a JSON `null` is `Some(None)` ("clear it") and
/// a missing field, with `#[serde(default)]`, is `None` ("leave it").
pub fn present_or_null<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// `value` as `T`, or a 422 naming the offending field ("subject", "lines[2].price").
pub fn from_json<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let message = error.into_inner().to_string();
        // A missing field is reported at its parent; name the field itself.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name.to_owned(),
            (".", None) => "body".to_owned(),
            (parent, Some(name)) => format!("{parent}.{name}"),
            (parent, None) => parent.to_owned(),
        };
        ApiError::invalid_field(&field, message)
    })
}
