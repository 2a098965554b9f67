use super::PaymentStatus;
use crate::command::{ErrorKind, Refusal};
use crate::money::Money;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    #[error("the amount must be more than 0.00")]
    ZeroAmount,
    #[error("the {0} must not be empty")]
    Missing(&'static str),
    #[error("this payment does not exist yet")]
    NotCreated,
    #[error("this payment already exists with another idempotence key")]
    AlreadyExists,
    #[error("a payment that is {status} cannot {action}")]
    WrongStatus {
        status: PaymentStatus,
        action: &'static str,
    },
    #[error("this payment is YooKassa payment {recorded}, not {reported}")]
    ProviderMismatch { recorded: String, reported: String },
    #[error("{received} {currency} received does not match the payment's {expected} RUB")]
    AmountMismatch {
        expected: Money,
        received: Money,
        currency: String,
    },
    #[error("a provider fee of {fee} exceeds the {amount} received")]
    FeeExceedsAmount { fee: Money, amount: Money },
    #[error("a refund of {requested} exceeds the {refundable} that can still be refunded")]
    RefundTooLarge { requested: Money, refundable: Money },
    #[error("refund {0:?} was already requested with another amount")]
    RefundConflict(String),
    #[error("no refund {0:?} was requested for this payment")]
    UnknownRefund(String),
    #[error("refund {0:?} already has a result")]
    RefundSettled(String),
}

impl Refusal for PaymentError {
    fn field(&self) -> Option<String> {
        match self {
            PaymentError::ZeroAmount | PaymentError::RefundTooLarge { .. } => {
                Some("amount".to_owned())
            }
            PaymentError::Missing(what) => Some(what.replace(' ', "_")),
            _ => None,
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            PaymentError::ZeroAmount
            | PaymentError::Missing(_)
            | PaymentError::FeeExceedsAmount { .. }
            | PaymentError::RefundTooLarge { .. } => ErrorKind::InvalidInput,
            PaymentError::NotCreated | PaymentError::UnknownRefund(_) => ErrorKind::NotFound,
            PaymentError::AlreadyExists
            | PaymentError::WrongStatus { .. }
            | PaymentError::ProviderMismatch { .. }
            | PaymentError::AmountMismatch { .. }
            | PaymentError::RefundConflict(_)
            | PaymentError::RefundSettled(_) => ErrorKind::InvalidState,
        }
    }
}
