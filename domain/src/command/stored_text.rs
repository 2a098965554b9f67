//! Text Postgres cannot keep: the NUL character (U+0000) is refused in `text` and
//! `json` alike, so an event carrying it would be committed (the store takes `json`
//! as text) and then fail in every read model for good. Commands refuse it before
//! anything is appended; entry points refuse it earlier, naming the input.

use serde_json::Value;

/// The path (`reason`, `lines[0].name`) of the first string or key in `payload`
/// holding a NUL character, without the event's variant name; `None` when clean.
pub fn nul_in(payload: &str) -> Option<String> {
    if !payload.contains("\\u0000") {
        return None;
    }
    let value: Value = serde_json::from_str(payload).ok()?;
    // Events are `{"Variant": {fields}}`: the variant is no input.
    let inner = match &value {
        Value::Object(map) if map.len() == 1 => map.values().next().unwrap_or(&value),
        _ => &value,
    };
    find(inner, String::new())
}

fn find(value: &Value, path: String) -> Option<String> {
    match value {
        Value::String(text) if text.contains('\0') => Some(path),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| find(item, format!("{path}[{index}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            if key.contains('\0') {
                Some(here)
            } else {
                find(item, here)
            }
        }),
        _ => None,
    }
}

/// A command whose events would carry a NUL character.
#[derive(Debug, thiserror::Error)]
#[error("{field} must not contain the NUL character (U+0000)")]
pub struct NulInText {
    pub field: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_holding_a_nul_is_named() {
        let event = serde_json::json!({"OrderCancelled": {"reason": "a\u{0}b", "refund": null}});
        assert_eq!(nul_in(&event.to_string()).as_deref(), Some("reason"));
        let nested =
            serde_json::json!({"OrderPlaced": {"lines": [{"name": "ok"}, {"name": "\u{0}"}]}});
        assert_eq!(
            nul_in(&nested.to_string()).as_deref(),
            Some("lines[1].name")
        );
        assert_eq!(
            nul_in(r#"{"CreditsSpent": {"operation_id": "x\u0000"}}"#).as_deref(),
            Some("operation_id")
        );
        assert_eq!(
            nul_in(r#"{"CreditsSpent": {"operation_id": "fine \u0001"}}"#),
            None
        );
        // An escaped backslash before "u0000" is no NUL.
        assert_eq!(nul_in(r#"{"A": {"t": "\\u0000"}}"#), None);
    }
}
