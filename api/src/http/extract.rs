//! The API's extractors, the one place where input from a request is read: JSON
//! bodies (`ApiJson`, `ApiJsonOrEmpty`), query strings (`ApiQuery`) and path segments
//! (`ApiPath`). Their refusals use the API's error shape and name the field at fault,
//! and none lets a NUL character (U+0000) through: Postgres can keep it in neither
//! `text` nor `jsonb`, so it is refused here with 422 before anything reaches a use
//! case, a query or the store.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// `Json<T>` for a body that is a JSON object (every body of the API is), whose
/// rejections use the API's error shape: 400 for a body that is not JSON, 415 for one
/// not declared as JSON, 413 for one too large, 422 naming the field for a NUL
/// character or a body of the wrong shape (`body` for one that is not an object).
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(value) = Json::<Value>::from_request(request, state)
            .await
            .map_err(rejected_json)?;
        checked(&value)?;
        from_json(value).map(ApiJson)
    }
}

fn rejected_json(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::BytesRejection(_) => too_large(),
        other => malformed(other.body_text()),
    }
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "body_too_large",
        "the request body is too large",
    )
}

fn malformed(cause: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "malformed_json",
        format!("the body is not valid JSON: {cause}"),
    )
}

/// A JSON object body that may be left out, read whatever its declared type: no
/// body (or `null`) is `{}`. For the order actions, most of which take no parameters.
pub struct ApiJsonOrEmpty(pub Value);

impl<S> FromRequest<S> for ApiJsonOrEmpty
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|_| too_large())?;
        let value = if body.iter().all(u8::is_ascii_whitespace) || body.as_ref() == b"null" {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(&body).map_err(malformed)?
        };
        checked(&value)?;
        Ok(Self(value))
    }
}

/// `Query<T>` whose rejections use the API's error shape: 422 naming the parameter
/// (when serde says which) for a NUL character or a value of the wrong form.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs = form_urlencoded::parse(query.as_bytes());
        for (name, value) in pairs {
            if name.contains('\0') {
                return Err(nul_in("query"));
            }
            if value.contains('\0') {
                return Err(nul_in(&name));
            }
        }
        let deserializer = serde_urlencoded::Deserializer::new(pairs);
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

/// `Path<T>` whose rejections use the API's error shape: 422 naming the parameter
/// for a NUL character; a malformed id is 404 (there is no such thing).
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let nowhere = |cause: String| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("nothing is at this address: {cause}"),
            )
        };
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|rejection| nowhere(rejection.body_text()))?;
        if let Some((name, _)) = raw.iter().find(|(_, value)| value.contains('\0')) {
            return Err(nul_in(name));
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|rejection| nowhere(rejection.body_text()))
    }
}

/// A body as every body of the API must be: a JSON object (serde would read an
/// array as a struct's fields by position) with no NUL character.
fn checked(body: &Value) -> Result<(), ApiError> {
    if !body.is_object() {
        return Err(ApiError::invalid_field(
            "body",
            "the body must be a JSON object",
        ));
    }
    refuse_nul(body)
}

/// 422 for a NUL character in `field`, with the code the command service gives the
/// same refusal (`nul_character`).
fn nul_in(field: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "nul_character",
        format!("{field} must not contain the NUL character (U+0000)"),
    )
    .with_details(serde_json::json!({ "field": field }))
}

/// Refuses a JSON value with a NUL character in any string or key, naming where as
/// `from_json` names fields: `operation_id`, `items[0].name` (`body` for the whole).
pub fn refuse_nul(value: &Value) -> Result<(), ApiError> {
    match nul_at(value, "") {
        Some(path) if path.is_empty() => Err(nul_in("body")),
        Some(path) => Err(nul_in(&path)),
        None => Ok(()),
    }
}

/// The path of the first string holding a NUL in `value` (at `at`), or of the
/// object whose key holds one.
fn nul_at(value: &Value, at: &str) -> Option<String> {
    match value {
        Value::String(text) => text.contains('\0').then(|| at.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| nul_at(item, &format!("{at}[{index}]"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(at.to_owned());
            }
            let path = if at.is_empty() {
                key.clone()
            } else {
                format!("{at}.{key}")
            };
            nul_at(item, &path)
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(value: Value) -> Option<Value> {
        refuse_nul(&value)
            .err()
            .map(|error| error.details["field"].clone())
    }

    #[test]
    fn a_nul_is_named_by_its_path_like_any_bad_field() {
        assert_eq!(
            field(json!({ "operation_id": "a\u{0}b" })),
            Some(json!("operation_id"))
        );
        assert_eq!(
            field(json!({ "items": [{ "name": "ok" }, { "name": "\u{0}" }] })),
            Some(json!("items[1].name"))
        );
        assert_eq!(field(json!({ "a": { "b\u{0}": 1 } })), Some(json!("a")));
        assert_eq!(field(json!({ "x\u{0}": 1 })), Some(json!("body")));
        assert_eq!(field(json!("\u{0}")), Some(json!("body")));
    }

    #[test]
    fn text_without_nul_passes_whatever_else_it_holds() {
        let fine = json!({ "text": "tab\there, new\nline, \u{1} and \u{7f}, эмодзи 🙂", "n": [1, null, true] });
        assert_eq!(field(fine), None);
    }
}
