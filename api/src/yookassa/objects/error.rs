//! YooKassa's error body.

use serde::{Deserialize, Serialize};

/// YooKassa's error body (4xx and 5xx):
/// `{"type": "error", "id": "...", "code": "invalid_request", "description": "...",
/// "parameter": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// `"error"`.
    #[serde(rename = "type", default = "error_kind")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `invalid_request`, `invalid_credentials`, `forbidden`, `not_found`,
    /// `too_many_requests`, `internal_server_error`, ...
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The request parameter (or header) the error is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

fn error_kind() -> String {
    "error".to_owned()
}
