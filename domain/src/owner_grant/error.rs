use uuid::Uuid;

use crate::command::{ErrorKind, Refusal};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OwnerGrantError {
    #[error("the reason must be 1 to 500 characters")]
    InvalidReason,
    #[error("no owner grant exists for this Telegram account")]
    NotGranted,
    #[error("this grant already took effect for user {0}")]
    AppliedToAnother(Uuid),
}

impl Refusal for OwnerGrantError {
    fn kind(&self) -> ErrorKind {
        match self {
            OwnerGrantError::InvalidReason => ErrorKind::InvalidInput,
            OwnerGrantError::NotGranted => ErrorKind::NotFound,
            OwnerGrantError::AppliedToAnother(_) => ErrorKind::InvalidState,
        }
    }

    fn field(&self) -> Option<String> {
        matches!(self, OwnerGrantError::InvalidReason).then(|| "reason".to_owned())
    }
}
