use crate::command::{ErrorKind, Refusal};
use crate::permissions::Role;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UserError {
    #[error("this user is not registered")]
    NotRegistered,
    #[error("this user is already registered with another Telegram account")]
    TelegramMismatch,
    #[error("the {field} must be {rule}")]
    Invalid {
        field: &'static str,
        rule: &'static str,
    },
    #[error("a user with the role {by:?} may not {what}")]
    NotAllowed { by: Role, what: &'static str },
    #[error("the user is already blocked")]
    AlreadyBlocked,
    #[error("the user is not blocked")]
    NotBlocked,
    #[error("a referrer is already linked")]
    ReferrerAlreadyLinked,
    #[error("a user cannot refer themself")]
    SelfReferral,
    #[error("this is the business's last owner; appoint another owner first")]
    LastOwner,
    #[error("another user has this referral code")]
    ReferralCodeTaken,
}

impl Refusal for UserError {
    fn from_store_constraint(constraint: &str) -> Option<Self> {
        match constraint {
            "last_owner" => Some(UserError::LastOwner),
            "referral_code_taken" => Some(UserError::ReferralCodeTaken),
            _ => None,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            UserError::Invalid { field, .. } => Some(field.replace(' ', "_")),
            _ => None,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            UserError::LastOwner => Some("last_owner"),
            UserError::ReferralCodeTaken => Some("referral_code_taken"),
            _ => None,
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            UserError::NotRegistered => ErrorKind::NotFound,
            UserError::Invalid { .. } | UserError::SelfReferral => ErrorKind::InvalidInput,
            UserError::NotAllowed { .. } => ErrorKind::Forbidden,
            UserError::TelegramMismatch
            | UserError::AlreadyBlocked
            | UserError::NotBlocked
            | UserError::ReferrerAlreadyLinked
            | UserError::LastOwner
            | UserError::ReferralCodeTaken => ErrorKind::InvalidState,
        }
    }
}
