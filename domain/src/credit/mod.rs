//! CreditAccount: one per user. Credits bought for AI generation, loyalty points
//! earned in the shop, bonuses; spent per operation, refunded, expired.
//!
//! Invariants: the balance is never negative; every change names its reason and a
//! reference; a grant with the same reason and reference is applied once (so a
//! redelivered "payment succeeded" cannot credit twice); a spend with the same
//! operation id is applied once; a spend is refunded at most once.

mod aggregate;
mod commands;
mod error;
mod events;

pub use aggregate::{CreditAccount, LotView};

/// The free credits of a calendar month when the business configures nothing else.
pub const DEFAULT_MONTHLY_ALLOWANCE: u64 = 10;
pub use aggregate::Subscription;
pub use commands::CreditCommand;
pub use error::CreditError;
pub use events::{CreditEvent, ExpiredGrant, GrantReason};

#[cfg(test)]
mod tests;
