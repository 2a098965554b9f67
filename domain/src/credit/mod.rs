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

pub use aggregate::CreditAccount;
pub use aggregate::Subscription;
pub use commands::CreditCommand;
pub use error::CreditError;
pub use events::{CreditEvent, ExpiredGrant, GrantReason};

#[cfg(test)]
mod tests;
