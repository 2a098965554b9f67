use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::PaymentPurpose;
use crate::money::Money;
use crate::money::tax::PayerKind;

#[derive(Debug, Clone, PartialEq)]
pub enum PaymentCommand {
    /// Starts a payment. Repeating it with the same idempotence key changes nothing.
    Create {
        purpose: PaymentPurpose,
        amount: Money,
        payer_kind: PayerKind,
        payer_user_id: Uuid,
        idempotence_key: String,
    },
    /// YooKassa accepted the payment: its id and where the customer confirms.
    RecordProviderPayment {
        provider_payment_id: String,
        confirmation_url: String,
    },
    /// YooKassa reports the money received.
    Succeed {
        provider_payment_id: String,
        amount_received: Money,
        currency: String,
        provider_fee: Money,
        paid_at: DateTime<Utc>,
        /// A test shop's (or the sandbox's) payment: no money moved.
        test: bool,
    },
    Cancel {
        reason: String,
    },
    /// Staff ask for money back; `refund_id` makes the request idempotent.
    RequestRefund {
        refund_id: String,
        amount: Money,
    },
    /// What is left to refund, at most `up_to` (all of it with `None`), decided on the
    /// payment's current state so a refund made meanwhile is counted; nothing when
    /// nothing is left. `refund_id` makes it idempotent: a repeat changes nothing.
    RequestRefundOfRest {
        refund_id: String,
        up_to: Option<Money>,
        /// Only this percentage of what is left (rounded half up), for a refund
        /// policy's share: a refund still pending is left out before the share.
        share_percent: Option<u8>,
    },
    /// YooKassa's answer to a refund.
    RecordRefundResult {
        refund_id: String,
        outcome: RefundOutcome,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum RefundOutcome {
    Succeeded {
        provider_refund_id: String,
        refunded_at: DateTime<Utc>,
    },
    Failed {
        reason: String,
    },
}

impl crate::command::Targeted for PaymentCommand {}
