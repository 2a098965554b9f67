use std::fmt;

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Money;

/// Which business an order belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Coursework,
    Shop,
    Booking,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// No events yet.
    #[default]
    New,
    /// A coursework brief waiting for a price.
    Placed,
    Quoted,
    AwaitingPayment,
    /// Paid: a coursework order waits in the pool, a shop order is processed.
    Paid,
    Assigned,
    InProgress,
    Submitted,
    RevisionRequested,
    Accepted,
    Shipped,
    Delivered,
    Booked,
    Completed,
    Cancelled,
    NoShow,
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = crate::wire::wire_name(self).replace('_', " ");
        f.write_str(&text)
    }
}

/// A coursework brief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coursework {
    pub subject: String,
    /// Essay, term paper, thesis, …
    pub work_type: String,
    /// Pages, slides or another unit the business uses.
    pub volume: u32,
    pub deadline: DateTime<Utc>,
    /// Telegram file ids of the materials (briefs from the bot before files were kept).
    pub files: Vec<String>,
    /// Materials in the file store, by id (uploaded for coursework by the customer):
    /// whoever may see the order may read them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Uuid>,
    /// How many revisions the customer may ask for.
    pub max_revisions: u8,
}

impl Coursework {
    /// Revisions a brief allows when the customer does not say.
    pub const DEFAULT_REVISIONS: u8 = 2;
    /// Files a brief, or a result, carries at most.
    pub const MAX_FILES: usize = 20;
    /// The largest volume a brief may ask for.
    pub const MAX_VOLUME: u32 = 10_000;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    pub product_id: String,
    pub name: String,
    pub quantity: u32,
    pub unit_price: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub recipient: String,
    pub phone: String,
    pub address: String,
}

/// A span of time (a booking's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Slot {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Slot {
    pub fn overlaps(&self, other: &Slot) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// What was ordered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OrderDetails {
    Coursework(Coursework),
    Shop {
        lines: Vec<LineItem>,
        total: Money,
        delivery: Delivery,
    },
    Booking {
        service_id: String,
        service_name: String,
        master_id: Uuid,
        slot: Slot,
        price: Money,
    },
}

impl OrderDetails {
    pub fn kind(&self) -> Kind {
        match self {
            OrderDetails::Coursework(_) => Kind::Coursework,
            OrderDetails::Shop { .. } => Kind::Shop,
            OrderDetails::Booking { .. } => Kind::Booking,
        }
    }
}

/// Money going back to the customer when a paid order is cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRefund {
    pub payment_id: Uuid,
    pub amount: Money,
}

/// The terms a booking was made under, recorded with it so that a later change of
/// configuration never changes a booking already made: how long it holds its slot
/// unpaid, how many unpaid bookings its customer may hold, and what a customer's
/// cancellation gives back (see `booking_rules`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingTerms {
    /// Unpaid until then, the booking holds its slot; the scheduler then releases it.
    pub hold_until: DateTime<Utc>,
    /// At most this many unpaid, not cancelled bookings per customer, this one
    /// included (the store refuses one more: `too_many_unpaid_bookings`).
    pub max_unpaid: u32,
    /// A customer cancelling at least this many hours before the start gets back all
    /// of what is left of the payment.
    pub full_refund_hours: u32,
    /// Later, but before the start, this percentage of what is left (rounded half up
    /// to kopecks).
    pub late_refund_percent: u8,
}

/// Who decided what a cancellation gives back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decided_by", rename_all = "snake_case")]
pub enum CancelDecision {
    /// The customer cancelled: the rules gave back `percent` of what was left.
    Policy { percent: u8 },
    /// Staff chose the refund; `after_start` marks an override of the booking rules
    /// (a booking cancelled once its slot had started).
    Staff { after_start: bool },
    /// The scheduler released a booking not paid within its hold.
    HoldExpired,
}

/// Everything that happens to an order. Stored forever: fields are only added,
/// never renamed; a change of meaning is a new version with an upcaster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OrderEvent {
    OrderPlaced {
        order_id: Uuid,
        customer_id: Uuid,
        details: OrderDetails,
        /// A booking's terms (absent in bookings made before the booking rules, and
        /// in other orders).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        terms: Option<BookingTerms>,
    },
    PriceQuoted {
        price: Money,
        by: Uuid,
    },
    QuoteAccepted {
        by: Uuid,
    },
    OrderPaid {
        payment_id: Uuid,
        amount: Money,
    },
    ExecutorAssigned {
        executor_id: Uuid,
        /// True when the executor took it from the pool themself.
        taken_from_pool: bool,
        by: Uuid,
    },
    WorkStarted {
        by: Uuid,
    },
    ResultSubmitted {
        /// Telegram file ids (results from the bot before files were kept).
        files: Vec<String>,
        /// The result's files in the file store, by id (uploaded for coursework by
        /// the executor): whoever may see the order may read them.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<Uuid>,
        note: Option<String>,
    },
    RevisionRequested {
        reason: String,
        revision: u8,
    },
    ResultAccepted {
        by: Uuid,
    },
    OrderShipped {
        tracking: String,
    },
    DeliveryConfirmed {
        by: Uuid,
    },
    OrderCompleted {
        by: Uuid,
    },
    OrderCancelled {
        reason: String,
        by: Uuid,
        /// The payment to refund from, and how much of it goes back (none if unpaid).
        refund: Option<OrderRefund>,
        /// Who decided the refund (absent in cancellations before the booking rules).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        decision: Option<CancelDecision>,
    },
    BookingRescheduled {
        from: Slot,
        to: Slot,
        /// Who moved it (absent in moves before the booking rules).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<Uuid>,
        /// Staff moved it once its slot had started: an override of the booking rules.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        after_start: bool,
        /// Why (required for an override).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// The customer moved it inside the refund policy's late window: cancelling it
        /// later refunds at most the late share, however far out the new slot is.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        late: bool,
    },
    NoShowMarked {
        by: Uuid,
    },
    OrderReviewed {
        stars: u8,
        text: Option<String>,
    },
    InternalNoteAdded {
        author_id: Uuid,
        text: String,
    },
    /// Money of the order's payment went back to the customer.
    RefundRecorded {
        payment_id: Uuid,
        refund_id: String,
        amount: Money,
    },
    /// A payment for the order was started; the order waits for it and refuses a
    /// second one.
    PaymentOpened {
        payment_id: Uuid,
        by: Uuid,
    },
    /// The payment the order waited for will not pay; another may be started.
    PaymentReleased {
        payment_id: Uuid,
    },
}

impl DomainEvent for OrderEvent {
    fn event_type(&self) -> String {
        match self {
            OrderEvent::OrderPlaced { .. } => "OrderPlaced",
            OrderEvent::PriceQuoted { .. } => "PriceQuoted",
            OrderEvent::QuoteAccepted { .. } => "QuoteAccepted",
            OrderEvent::OrderPaid { .. } => "OrderPaid",
            OrderEvent::ExecutorAssigned { .. } => "ExecutorAssigned",
            OrderEvent::WorkStarted { .. } => "WorkStarted",
            OrderEvent::ResultSubmitted { .. } => "ResultSubmitted",
            OrderEvent::RevisionRequested { .. } => "RevisionRequested",
            OrderEvent::ResultAccepted { .. } => "ResultAccepted",
            OrderEvent::OrderShipped { .. } => "OrderShipped",
            OrderEvent::DeliveryConfirmed { .. } => "DeliveryConfirmed",
            OrderEvent::OrderCompleted { .. } => "OrderCompleted",
            OrderEvent::OrderCancelled { .. } => "OrderCancelled",
            OrderEvent::BookingRescheduled { .. } => "BookingRescheduled",
            OrderEvent::NoShowMarked { .. } => "NoShowMarked",
            OrderEvent::OrderReviewed { .. } => "OrderReviewed",
            OrderEvent::InternalNoteAdded { .. } => "InternalNoteAdded",
            OrderEvent::RefundRecorded { .. } => "RefundRecorded",
            OrderEvent::PaymentOpened { .. } => "PaymentOpened",
            OrderEvent::PaymentReleased { .. } => "PaymentReleased",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
