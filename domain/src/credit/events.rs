use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

/// Why credits were granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrantReason {
    /// A credit pack was paid for; the reference is the payment id.
    Purchase,
    /// A referred user paid for the first time; the reference is that user's id.
    Referral,
    /// Cashback on a completed order; the reference is the order id.
    LoyaltyCashback,
    Promo,
    /// Granted by staff; the reference says why.
    Admin,
    /// The free allowance of a month; the reference is the month (`2026-11`).
    MonthlyAllowance,
    /// The credits of a subscription period; the reference is plan and period end.
    Subscription,
}

/// Everything that happens to a credit account. Stored forever: fields are only
/// added (with defaults), never renamed; a change of meaning is a new version with
/// an upcaster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CreditEvent {
    CreditsGranted {
        amount: u64,
        reason: GrantReason,
        reference: String,
        expires_at: Option<DateTime<Utc>>,
    },
    CreditsSpent {
        amount: u64,
        reason: String,
        operation_id: String,
        spent_at: DateTime<Utc>,
    },
    SpendRefunded {
        operation_id: String,
        amount: u64,
    },
    SubscriptionActivated {
        plan: String,
        period_end: DateTime<Utc>,
        credits_per_period: u64,
    },
    /// Part of a grant taken back (its purchase was refunded).
    CreditsRevoked {
        reason: GrantReason,
        reference: String,
        amount: u64,
        operation_id: String,
    },
    PointsExpired {
        amount: u64,
        /// The grants that lapsed, each by what was left of it.
        expired: Vec<ExpiredGrant>,
    },
}

/// What lapsed of one grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiredGrant {
    pub reason: GrantReason,
    pub reference: String,
    pub amount: u64,
}

impl DomainEvent for CreditEvent {
    fn event_type(&self) -> String {
        match self {
            CreditEvent::CreditsGranted { .. } => "CreditsGranted",
            CreditEvent::CreditsSpent { .. } => "CreditsSpent",
            CreditEvent::SpendRefunded { .. } => "SpendRefunded",
            CreditEvent::SubscriptionActivated { .. } => "SubscriptionActivated",
            CreditEvent::PointsExpired { .. } => "PointsExpired",
            CreditEvent::CreditsRevoked { .. } => "CreditsRevoked",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}
