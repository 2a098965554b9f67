//! The names enums have in stored JSON (`"legal_entity"`, `"admin"`), for read-model
//! columns and messages, so each is spelled in one place: its serde attributes.

use serde::Serialize;

/// The JSON string a unit-like enum value serializes to; empty for anything else.
pub fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::wire_name;
    use crate::money::tax::PayerKind;
    use crate::permissions::Role;

    #[test]
    fn names_are_the_stored_spelling() {
        assert_eq!(wire_name(&PayerKind::LegalEntity), "legal_entity");
        assert_eq!(wire_name(&Role::Admin), "admin");
        assert_eq!(wire_name(&42), "");
    }
}
