use chrono::{DateTime, Utc};

use super::GrantReason;

#[derive(Debug, Clone, PartialEq)]
pub enum CreditCommand {
    /// Adds credits. The same `reason` + `reference` grants once.
    Grant {
        amount: u64,
        reason: GrantReason,
        reference: String,
        /// When these credits lapse (loyalty points); `None` for credits that keep.
        expires_at: Option<DateTime<Utc>>,
    },
    /// Takes credits for an operation (an image generation, a discount). The same
    /// `operation_id` spends once.
    Spend {
        amount: u64,
        reason: String,
        operation_id: String,
        /// When it happens: lots expired by then cannot be spent.
        at: DateTime<Utc>,
    },
    /// Gives back what an operation spent (the generation failed), once. What goes
    /// back into lots that have expired by `at` lapses at once.
    RefundSpend {
        operation_id: String,
        at: DateTime<Utc>,
    },
    /// The free allowance of a calendar month (`"2026-11"`), once per month;
    /// [`super::DEFAULT_MONTHLY_ALLOWANCE`] unless the business sets another amount.
    GrantMonthlyAllowance { month: String, amount: u64 },
    /// A paid plan: records it and grants the period's credits, once per period.
    ActivateSubscription {
        plan: String,
        period_end: DateTime<Utc>,
        credits_per_period: u64,
    },
    /// Lapses every grant whose expiry is at or before `now`, by what is left of it.
    ExpirePoints { now: DateTime<Utc> },
    /// Takes back up to `amount` of what is left of one grant (its purchase was
    /// refunded): the grant with `reference`, or the newest of `reason` when `None`.
    /// Credits of it already spent stay spent. The same `operation_id` takes once.
    Revoke {
        reason: GrantReason,
        reference: Option<String>,
        amount: u64,
        operation_id: String,
    },
}

impl crate::command::Targeted for CreditCommand {}
