//! The refund ids the domain requests refunds under, so asking again (a redelivery, a
//! retry) asks once, and what a refund id says about why it was made.

use serde::Serialize;
use uuid::Uuid;

/// Why money goes back, as its refund id tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefundCause {
    /// A paid order was cancelled.
    OrderCancelled,
    /// The payment paid for nothing: its order was cancelled or paid by another
    /// payment meanwhile, or the money came after the payment was cancelled here.
    PaidForNothing,
    /// Staff refunded (part of) it.
    Staff,
}

/// The refund of a cancelled order's payment.
pub fn cancellation_refund_id(order_id: Uuid) -> String {
    format!("order-{order_id}-cancellation")
}

/// The refund, in full, of a payment that paid for nothing.
pub fn returned_payment_refund_id(payment_id: Uuid) -> String {
    format!("payment-{payment_id}-returned")
}

impl RefundCause {
    pub fn of(refund_id: &str) -> RefundCause {
        if refund_id.starts_with("order-") && refund_id.ends_with("-cancellation") {
            RefundCause::OrderCancelled
        } else if refund_id.starts_with("payment-") && refund_id.ends_with("-returned") {
            RefundCause::PaidForNothing
        } else {
            RefundCause::Staff
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refund_id_tells_why_it_was_made() {
        let id = Uuid::now_v7();
        assert_eq!(
            RefundCause::of(&cancellation_refund_id(id)),
            RefundCause::OrderCancelled
        );
        assert_eq!(
            RefundCause::of(&returned_payment_refund_id(id)),
            RefundCause::PaidForNothing
        );
        assert_eq!(RefundCause::of("refund-abc"), RefundCause::Staff);
    }
}
