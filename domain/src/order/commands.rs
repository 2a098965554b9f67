use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{BookingTerms, OrderDetails, Slot};
use crate::money::Money;

/// Who issues an order command (the aggregate checks ownership with it).
pub use crate::permissions::Caller as Actor;

#[derive(Debug, Clone, PartialEq)]
pub enum OrderCommand {
    /// A new order. For a shop order the total is computed from the lines (the
    /// `total` given in the details is ignored); for a booking the slot must be free,
    /// and `terms` (ignored for other orders) are the booking rules it is made under.
    Place {
        order_id: Uuid,
        customer_id: Uuid,
        details: OrderDetails,
        terms: Option<BookingTerms>,
    },
    /// Staff price a coursework brief (again, to change the price).
    Quote {
        price: Money,
        by: Actor,
    },
    /// The customer agrees to the price.
    AcceptQuote {
        by: Actor,
    },
    /// The payment for this order succeeded (from the payment process manager).
    MarkPaid {
        payment_id: Uuid,
        amount: Money,
    },
    /// Staff give a paid coursework order to an executor.
    AssignExecutor {
        executor_id: Uuid,
        by: Actor,
    },
    /// An executor takes a paid order from the pool.
    TakeOrder {
        by: Actor,
    },
    Start {
        by: Actor,
    },
    SubmitResult {
        files: Vec<String>,
        /// Files in the file store, by id, already attached to the order.
        attachments: Vec<Uuid>,
        note: Option<String>,
        by: Actor,
    },
    Ship {
        tracking: String,
        by: Actor,
    },
    RequestRevision {
        reason: String,
        by: Actor,
    },
    Accept {
        by: Actor,
    },
    ConfirmDelivery {
        by: Actor,
    },
    Complete {
        by: Actor,
    },
    /// `refund` says how much of what was paid goes back: staff state it once
    /// paid, a customer's cancellation follows the booking's terms. `at`: now.
    Cancel {
        reason: String,
        refund: Option<Money>,
        by: Actor,
        at: DateTime<Utc>,
    },
    /// Moves a booking; after its start only managers may, giving a `reason`.
    Reschedule {
        slot: Slot,
        by: Actor,
        at: DateTime<Utc>,
        reason: Option<String>,
    },
    /// The scheduler: an unpaid booking whose hold has passed at `at` is cancelled
    /// (its slot freed). A paid, cancelled or finished one is left as it is.
    ReleaseUnpaidHold {
        at: DateTime<Utc>,
    },
    MarkNoShow {
        at: DateTime<Utc>,
        by: Actor,
    },
    Review {
        stars: u8,
        text: Option<String>,
        by: Actor,
    },
    AddInternalNote {
        text: String,
        by: Actor,
    },
    /// A payment for this order was started: the order waits for it and refuses a
    /// second one until it is paid or released. Repeating it for the same payment
    /// changes nothing.
    OpenPayment {
        payment_id: Uuid,
        by: Actor,
    },
    /// The payment the order waited for will not pay (cancelled or expired at the
    /// provider): another may be started.
    ReleasePayment {
        payment_id: Uuid,
    },
    /// Money of the order's payment went back to the customer (a refund that
    /// succeeded at the provider). The same `refund_id` is recorded once.
    RecordRefund {
        payment_id: Uuid,
        refund_id: String,
        amount: Money,
    },
}

impl crate::command::Targeted for OrderCommand {
    fn target_id(&self) -> Option<String> {
        match self {
            OrderCommand::Place { order_id, .. } => Some(order_id.to_string()),
            _ => None,
        }
    }
}
