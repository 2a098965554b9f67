//! Reading the API's OpenAPI document in tests: fetching it, following `$ref`s, and
//! checking a value against a schema as far as the tests need.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::app::TestApp;

/// `GET /api/v1/openapi.json`, served as JSON.
pub async fn document(app: &TestApp) -> Value {
    let response = reqwest::get(app.url("/api/v1/openapi.json"))
        .await
        .expect("the API answers");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    response.json().await.expect("the document is JSON")
}

/// What a `$ref` points at, or the value itself.
pub fn resolved<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => document
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{reference} resolves")),
        None => value,
    }
}

/// Whether `value` satisfies `schema` as far as these tests need: `$ref`, `allOf`,
/// `oneOf` (exactly one branch), `enum`, `type`, `required`, `properties` and
/// `additionalProperties: false`, `items`.
pub fn satisfies(document: &Value, schema: &Value, value: &Value) -> bool {
    let schema = resolved(document, schema);
    if let Some(parts) = schema["allOf"].as_array()
        && !parts.iter().all(|part| satisfies(document, part, value))
    {
        return false;
    }
    if let Some(branches) = schema["oneOf"].as_array() {
        let taken = branches
            .iter()
            .filter(|branch| satisfies(document, branch, value))
            .count();
        if taken != 1 {
            return false;
        }
    }
    if let Some(values) = schema["enum"].as_array()
        && !values.contains(value)
    {
        return false;
    }
    let typed = |name: &str| match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "integer" => value.is_i64() || value.is_u64(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        _ => true,
    };
    let type_ok = match &schema["type"] {
        Value::String(name) => typed(name),
        Value::Array(names) => names.iter().filter_map(Value::as_str).any(typed),
        _ => true,
    };
    if !type_ok {
        return false;
    }
    if let Value::Object(fields) = value {
        let properties = schema["properties"].as_object();
        for required in schema["required"].as_array().into_iter().flatten() {
            if !fields.contains_key(required.as_str().unwrap_or_default()) {
                return false;
            }
        }
        for (name, field) in fields {
            let fits = match properties.and_then(|properties| properties.get(name)) {
                Some(property) => satisfies(document, property, field),
                None => schema["additionalProperties"] != false,
            };
            if !fits {
                return false;
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        return items
            .iter()
            .all(|item| satisfies(document, item_schema, item));
    }
    true
}

/// The property names of an object schema (through a `$ref`).
pub fn property_names(document: &Value, schema: &Value) -> BTreeSet<String> {
    resolved(document, schema)["properties"]
        .as_object()
        .map(|properties| properties.keys().cloned().collect())
        .unwrap_or_default()
}
