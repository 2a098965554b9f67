use super::{Kind, OrderStatus};
use crate::command::{ErrorKind, Refusal};
use crate::money::Money;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("this order does not exist")]
    NotPlaced,
    #[error("this order already exists")]
    AlreadyPlaced,
    #[error("a {kind:?} order that is {status} cannot {action}")]
    WrongState {
        kind: Kind,
        status: OrderStatus,
        action: &'static str,
    },
    #[error("the {field} must be {rule}")]
    Invalid {
        field: &'static str,
        rule: &'static str,
    },
    #[error("only the customer who placed the order may {0}")]
    NotTheCustomer(&'static str),
    #[error("only the executor assigned to the order may {0}")]
    NotTheExecutor(&'static str),
    #[error("a user with the role {0:?} may not {1}")]
    NotAllowed(crate::permissions::Role, &'static str),
    #[error("{paid} was paid but {expected} is due")]
    AmountMismatch { expected: Money, paid: Money },
    #[error("the order was paid: say how much of the {paid} to refund")]
    RefundNotStated { paid: Money },
    #[error("only staff decide how much of a payment is refunded")]
    RefundSetByCustomer,
    #[error("the order is already paid by payment {0}; the new payment has to be refunded")]
    AlreadyPaid(uuid::Uuid),
    #[error("a refund of {refund} exceeds the {paid} paid and not refunded yet")]
    RefundTooLarge { refund: Money, paid: Money },
    #[error("all {0} revisions have been used")]
    NoRevisionsLeft(u8),
    #[error("the master is already booked at that time; pick another slot")]
    SlotTaken,
    #[error(transparent)]
    Calendar(#[from] super::SlotCheckError),
    #[error("a no-show can be marked once the slot has started")]
    SlotNotStarted,
    #[error("the order was already reviewed")]
    AlreadyReviewed,
    #[error("payment {0} did not pay for this order")]
    NotThisOrdersPayment(uuid::Uuid),
    #[error("not one of the salon's masters")]
    NotAMaster,
    #[error(
        "not someone who works on orders (an executor, an admin or an owner who is not blocked)"
    )]
    NotAnExecutor,
    #[error("payment {0} for this order is open: pay or cancel it first")]
    PaymentOpen(uuid::Uuid),
    #[error("payment {0} was cancelled; start a new payment with a new key")]
    PaymentReleased(uuid::Uuid),
    #[error(
        "the booking's slot has started: it can no longer be {0} by the customer (ask the salon)"
    )]
    SlotStarted(&'static str),
    #[error("the booking holds its slot unpaid until {0}")]
    HoldNotExpired(chrono::DateTime<chrono::Utc>),
    #[error(
        "you already hold as many unpaid bookings as the salon allows: pay for one or cancel one, then book again"
    )]
    TooManyUnpaidBookings,
    /// The store refused to attach a file the event names (`attached_files_are_the_authors`).
    #[error("the files must be ones you uploaded for this, not erased and not attached elsewhere")]
    FilesNotAttachable,
}

impl Refusal for OrderError {
    fn from_store_constraint(constraint: &str) -> Option<Self> {
        match constraint {
            "booking_slots_no_overlap" => Some(OrderError::SlotTaken),
            "booking_master_is_executor" => Some(OrderError::NotAMaster),
            "order_executor_works_on_orders" => Some(OrderError::NotAnExecutor),
            "too_many_unpaid_bookings" => Some(OrderError::TooManyUnpaidBookings),
            "attached_files_are_the_authors" => Some(OrderError::FilesNotAttachable),
            _ => None,
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            OrderError::Invalid {
                field: "type of work",
                ..
            } => Some("work_type".to_owned()),
            OrderError::Invalid { field, .. } => Some(field.replace(' ', "_")),
            OrderError::NotAMaster => Some("master_id".to_owned()),
            OrderError::NotAnExecutor => Some("executor_id".to_owned()),
            OrderError::FilesNotAttachable => Some("attachments".to_owned()),
            OrderError::RefundTooLarge { .. } | OrderError::RefundNotStated { .. } => {
                Some("refund".to_owned())
            }
            _ => None,
        }
    }

    fn code(&self) -> Option<&'static str> {
        match self {
            OrderError::PaymentOpen(_) => Some("payment_open"),
            OrderError::SlotStarted(_) => Some("slot_started"),
            OrderError::TooManyUnpaidBookings => Some("too_many_unpaid_bookings"),
            _ => None,
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            OrderError::NotPlaced => ErrorKind::NotFound,
            OrderError::Invalid { .. }
            | OrderError::NotAMaster
            | OrderError::NotAnExecutor
            | OrderError::RefundNotStated { .. }
            | OrderError::RefundTooLarge { .. }
            | OrderError::FilesNotAttachable => ErrorKind::InvalidInput,
            OrderError::NotTheCustomer(_)
            | OrderError::NotTheExecutor(_)
            | OrderError::NotAllowed(..)
            | OrderError::RefundSetByCustomer => ErrorKind::Forbidden,
            OrderError::Calendar(_) => ErrorKind::Unavailable,
            OrderError::AlreadyPlaced
            | OrderError::WrongState { .. }
            | OrderError::AmountMismatch { .. }
            | OrderError::AlreadyPaid(_)
            | OrderError::NoRevisionsLeft(_)
            | OrderError::SlotTaken
            | OrderError::SlotNotStarted
            | OrderError::AlreadyReviewed
            | OrderError::NotThisOrdersPayment(_)
            | OrderError::PaymentOpen(_)
            | OrderError::PaymentReleased(_)
            | OrderError::SlotStarted(_)
            | OrderError::HoldNotExpired(_)
            | OrderError::TooManyUnpaidBookings => ErrorKind::InvalidState,
        }
    }
}
