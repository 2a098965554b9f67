//! YooKassa's objects as they travel over the wire: payments and refunds (API responses
//! and the `object` of notifications), the request bodies that create them, the
//! notification envelope and the error body.
//!
//! Readers ignore fields they do not know (YooKassa adds fields freely: `recipient`,
//! `payment_method`, `authorization_details`, ...). Every type serializes too, so a
//! sandbox can answer the way YooKassa does; optional fields that are absent are left out
//! rather than written as `null`, as YooKassa does.
//!
//! One file per object: [`payment`], [`refund`], [`receipt`], [`notification`],
//! [`error`]; the tests read the reference samples kept in `tests/fixtures/yookassa/`.

mod error;
mod notification;
mod payment;
mod receipt;
mod refund;
#[cfg(test)]
mod tests;

pub use error::ErrorBody;
pub use notification::Notification;
pub use payment::{
    CancellationDetails, Confirmation, ConfirmationRequest, NewPayment, PaymentObject,
    PaymentStatus,
};
pub use receipt::{Receipt, ReceiptCustomer, ReceiptItem};
pub use refund::{NewRefund, RefundObject, RefundStatus};
