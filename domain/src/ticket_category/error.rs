use crate::command::{ErrorKind, Refusal};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CategoryError {
    #[error("no such category")]
    NotFound,
    #[error("a category with this code already exists")]
    AlreadyExists,
    #[error("the {field} must be {rule}")]
    Invalid {
        field: &'static str,
        rule: &'static str,
    },
    #[error("only admins manage ticket categories")]
    Forbidden,
}

impl Refusal for CategoryError {
    fn field(&self) -> Option<String> {
        match self {
            CategoryError::Invalid { field, .. } => Some((*field).to_owned()),
            _ => None,
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            CategoryError::NotFound => ErrorKind::NotFound,
            CategoryError::AlreadyExists => ErrorKind::InvalidState,
            CategoryError::Invalid { .. } => ErrorKind::InvalidInput,
            CategoryError::Forbidden => ErrorKind::Forbidden,
        }
    }
}
