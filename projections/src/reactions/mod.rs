//! Process managers: projections whose effect is a command. Every command they issue
//! is idempotent by an id derived from the causing event (a payment id as the grant
//! reference, the payment id on the order, the order id as the cashback reference,
//! the month as the allowance's key), so a redelivered event cannot act twice; each
//! carries the causing event as its causation id.
//!
//! Timed reactions (points expiry, reminders) are in [`crate::scheduler`]; the refund
//! executor calls the payment provider through the payments use case.

pub mod allowance;
pub mod generation_runner;
pub mod generations;
pub mod loyalty;
pub mod payments;
pub mod refund_calls;
pub mod refund_executor;
pub mod refunds;

use domain::command::{CommandError, ErrorKind};
use tracing::warn;

use crate::worker::ApplyError;

/// What a command's failure means for the event that caused it. Infrastructure
/// failures are retried (the event comes again); a refusal is a business outcome
/// (say the order was cancelled meanwhile): it is logged, and the event counts as
/// handled.
pub(crate) fn settle(cause: &str, error: CommandError) -> Result<(), ApplyError> {
    match error.kind {
        ErrorKind::Unavailable | ErrorKind::Conflict => Err(retryable(error)),
        ErrorKind::Internal => Err(ApplyError::Permanent(error.message)),
        _ => {
            warn!(cause, reason = %error.message, "a reaction's command was refused");
            Ok(())
        }
    }
}

pub(crate) fn retryable(error: CommandError) -> ApplyError {
    ApplyError::Command(error.message)
}
