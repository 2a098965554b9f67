use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::money::Money;
use crate::money::tax::PayerKind;

/// What a payment pays for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PaymentPurpose {
    Order {
        order_id: Uuid,
    },
    CreditPack {
        pack: String,
        credits: u64,
    },
    Subscription {
        plan: String,
        credits_per_period: u64,
        period_days: u32,
    },
}

/// Everything that happens to a payment. Stored forever: fields are only added,
/// never renamed; a change of meaning is a new version with an upcaster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PaymentEvent {
    PaymentCreated {
        purpose: PaymentPurpose,
        amount: Money,
        payer_kind: PayerKind,
        payer_user_id: Uuid,
        idempotence_key: String,
    },
    ProviderPaymentRecorded {
        provider_payment_id: String,
        confirmation_url: String,
    },
    PaymentSucceeded {
        provider_payment_id: String,
        amount: Money,
        provider_fee: Money,
        paid_at: DateTime<Utc>,
        /// The provider took the money after the payment was cancelled here: it is
        /// income all the same, and what it paid for is gone, so it must be refunded.
        after_cancellation: bool,
        /// A test shop's (or the sandbox's) payment: no money moved, so it is never
        /// income (absent, i.e. false, in payments of real money).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        test: bool,
    },
    PaymentCanceled {
        reason: String,
    },
    RefundRequested {
        refund_id: String,
        amount: Money,
    },
    RefundSucceeded {
        refund_id: String,
        amount: Money,
        provider_refund_id: String,
        refunded_at: DateTime<Utc>,
    },
    RefundFailed {
        refund_id: String,
        amount: Money,
        reason: String,
    },
}

impl DomainEvent for PaymentEvent {
    fn event_type(&self) -> String {
        match self {
            PaymentEvent::PaymentCreated { .. } => "PaymentCreated",
            PaymentEvent::ProviderPaymentRecorded { .. } => "ProviderPaymentRecorded",
            PaymentEvent::PaymentSucceeded { .. } => "PaymentSucceeded",
            PaymentEvent::PaymentCanceled { .. } => "PaymentCanceled",
            PaymentEvent::RefundRequested { .. } => "RefundRequested",
            PaymentEvent::RefundSucceeded { .. } => "RefundSucceeded",
            PaymentEvent::RefundFailed { .. } => "RefundFailed",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
