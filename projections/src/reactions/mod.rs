//! Process managers: projections whose effect is a command. Every command they issue
//! is idempotent by an id derived from the causing event (a payment id as the grant
//! reference, the payment id on the order), so a redelivered event cannot act twice;
//! each carries the causing event as its causation id.

pub mod payments;
