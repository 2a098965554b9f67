//! Payment: one YooKassa payment for an order, a credit pack or a subscription, with
//! its refunds.
//!
//! Invariants: the same provider notification applied twice changes nothing the
//! second time; a succeeded payment cannot be cancelled (and the provider's success
//! after a local cancellation is recorded, flagged for a refund); refunds (requested and not
//! failed) never exceed what was paid; the amount and currency received must match.

mod aggregate;
mod commands;
mod error;
mod events;
mod refund_ids;

pub use aggregate::{Payment, PaymentStatus};
pub use commands::{PaymentCommand, RefundOutcome};
pub use error::PaymentError;
pub use events::{PaymentEvent, PaymentPurpose};
pub use refund_ids::{RefundCause, cancellation_refund_id, returned_payment_refund_id};

#[cfg(test)]
mod tests;
