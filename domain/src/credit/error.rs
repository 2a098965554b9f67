use crate::command::{ErrorKind, Refusal};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditError {
    #[error("the amount must be at least 1 credit")]
    ZeroAmount,
    #[error("the {0} must not be empty")]
    Missing(&'static str),
    #[error("the balance is {balance} credits, {requested} are needed; top up or spend less")]
    InsufficientBalance { balance: u64, requested: u64 },
    #[error("no spend with operation id {0:?} exists on this account")]
    UnknownOperation(String),
    #[error("the spend {0:?} was already refunded")]
    AlreadyRefunded(String),
    #[error("{0:?} is not a month; use the form 2026-11")]
    InvalidMonth(String),
    #[error("the balance would exceed the largest number of credits an account can hold")]
    Overflow,
}

impl Refusal for CreditError {
    fn field(&self) -> Option<String> {
        match self {
            CreditError::ZeroAmount | CreditError::Overflow => Some("amount".to_owned()),
            CreditError::Missing(what) => Some(what.replace(' ', "_")),
            _ => None,
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            CreditError::ZeroAmount
            | CreditError::Missing(_)
            | CreditError::InvalidMonth(_)
            | CreditError::Overflow => ErrorKind::InvalidInput,
            CreditError::InsufficientBalance { .. } | CreditError::AlreadyRefunded(_) => {
                ErrorKind::InvalidState
            }
            CreditError::UnknownOperation(_) => ErrorKind::NotFound,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            CreditError::InsufficientBalance { .. } => Some("insufficient_credits"),
            CreditError::AlreadyRefunded(_) => Some("spend_already_refunded"),
            _ => None,
        }
    }
}
